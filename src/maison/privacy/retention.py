"""Retention: data of each category is deleted once older than its configured period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete

from maison.core.schema import access_log, decisions, events, quarantine


def purge(conn: Connection, retention_days: Mapping[str, int], *, now: datetime) -> dict[str, int]:
    """Delete expired rows; returns counts per category (no personal data)."""
    counts: dict[str, int] = {}
    tables = {"decisions": (decisions, decisions.c.decided_at), "access_log": (access_log, access_log.c.at),
              "quarantine": (quarantine, quarantine.c.received_at)}
    for category, days in sorted(retention_days.items()):
        cutoff = now - timedelta(days=days)
        if category in tables:
            table, column = tables[category]
            counts[category] = conn.execute(delete(table).where(column < cutoff)).rowcount
        else:
            counts[category] = conn.execute(
                delete(events).where(events.c.data_category == category, events.c.timestamp < cutoff)
            ).rowcount
    return counts
