"""Behavioural micro-segments: who browses, reads and opens like whom (see README.md)."""
