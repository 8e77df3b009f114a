"""Write keys: verified once, remembered briefly, and a revocation holds after that time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maison.access.keys import KeyRing, create_key, revoke_key
from maison.core.errors import Unauthorized

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def test_a_key_is_remembered_only_after_it_was_found_valid_and_only_for_its_ttl(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        key = create_key(conn, name="web", origins=["https://shop.example"], now=NOW)
    ring, brief = KeyRing(engine, ttl=3600.0), KeyRing(engine, ttl=0.0)
    assert ring.remembered(key) is None  # never looked up: the event loop must not guess
    assert ring.verify(key).name == "web"
    assert ring.remembered(key) is not None and ring.remembered(key).allowed_origins == ("https://shop.example",)
    brief.verify(key)
    assert brief.remembered(key) is None  # its time is up at once
    with engine.begin() as conn:
        revoke_key(conn, name="web", now=NOW)
    with pytest.raises(Unauthorized):
        brief.verify(key)  # looked up again: revoked
    assert brief.remembered(key) is None


def test_a_bad_key_is_never_remembered_as_valid(engine) -> None:  # type: ignore[no-untyped-def]
    ring = KeyRing(engine, ttl=3600.0)
    with pytest.raises(Unauthorized):
        ring.verify("wk_not-a-key")
    assert ring.remembered("wk_not-a-key") is None
    assert ring.remembered(None) is None and ring.remembered("") is None
