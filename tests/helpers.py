"""Helpers shared by test modules (importable: `tests/` is on the pytest pythonpath)."""

from __future__ import annotations

import os

PG_URL = os.environ.get("MAISON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


ALL_PURPOSES = (
    "declared_categories", "purchase_history", "demographics", "browsing_behaviour", "search_history",
    "cart_activity", "email_engagement", "content_engagement", "similar_customer_signals",
    "taste_trajectory", "values_inference", "exploratory_recommendations",
)


def consent_message(
    *, at: str, level: str = "L2", off: tuple[str, ...] = (), extra: tuple[str, ...] = (), **ids: str
) -> dict:  # type: ignore[type-arg]
    """A `Consent Updated` message granting every purpose of the level (and `extra`) except `off`."""
    from maison.consent.purposes import level_includes

    purposes = {p: (level_includes(level, p) or p in extra) and p not in off for p in ALL_PURPOSES}
    return {"type": "track", "event": "Consent Updated", "timestamp": at,
            "messageId": f"consent-{at}-{sorted(ids.items())}",
            "properties": {"personalization_level": level, "purposes": purposes, "policy_version": "2026-01"}, **ids}
