"""Replaying a folder of catalog, content pages and event files into a store."""
