"""Segment-compatible ingestion: validation, quarantine, dedup, durable storage."""
