"""Data-subject rights (export, erasure, rectification), retention, decision audit, dashboard."""
