"""Sensitive features for the audit are read through consent: no demographics, "unknown"."""

from __future__ import annotations

from datetime import UTC, datetime

from helpers import consent_message
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.models.sensitive import sensitive_features

AT = datetime(2026, 3, 1, tzinfo=UTC)


def identify(user: str, at: str, **traits: object) -> dict:  # type: ignore[type-arg]
    return {"type": "identify", "userId": user, "messageId": f"i-{user}-{at}", "timestamp": at, "traits": traits}


def test_declared_traits_are_used_only_while_demographics_may_be_profiled(engine):
    messages = [
        consent_message(at="2026-01-01T00:00:00Z", userId="u1"),
        identify("u1", "2026-01-02T00:00:00Z", age_band="25-34", country="FR"),
        identify("u1", "2026-02-01T00:00:00Z", age_band="35-44"),  # a later statement wins
        identify("u1", "2026-03-05T00:00:00Z", age_band="45-54"),  # after the instant: not seen
        consent_message(at="2026-01-01T00:00:00Z", off=("demographics",), userId="u2"),
        identify("u2", "2026-01-02T00:00:00Z", age_band="55-64", country="IT", income_band="high"),
        consent_message(at="2026-01-01T00:00:00Z", userId="u3"),
        consent_message(at="2026-01-01T00:00:00Z", userId="u4"),
        identify("u4", "2026-01-02T00:00:00Z", address={"city": "Madrid", "country": "ES"}),  # Segment's spec
    ]
    with engine.begin() as conn:
        ingest(conn, messages, source="t", received_at=AT, limits=IngestSettings(), suppression_key=b"k")
    with engine.connect() as conn:
        ids = [find_client(conn, u) for u in ("u1", "u2", "u3", "u4")]
        found = sensitive_features(conn, ids, at=AT)
    assert found["age_band"].tolist() == ["35-44", "unknown", "unknown", "unknown"]
    assert found["geography"].tolist() == ["FR", "unknown", "unknown", "ES"]
    assert found["income_band"].tolist() == ["unknown", "unknown", "unknown", "unknown"]
