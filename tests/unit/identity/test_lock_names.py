"""What an ingest batch locks in the identity graph before writing (PostgreSQL's concurrency)."""

from __future__ import annotations

from datetime import UTC, datetime

from maison.identity.service import lock_names
from maison.ingest.entities import Event

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def event(kind: str = "track", *, user: str | None = None, anon: str | None = None, **raw: str) -> Event:
    identifiers = [(k, v) for k, v in (("user", user), ("anon", anon)) if v]
    return Event(message_id="m", type=kind, event=None, user_id=user, anonymous_id=anon, timestamp=T0,
                 utc_offset_minutes=0, received_at=T0, data_category="identity", raw=dict(raw),
                 identifiers=identifiers)


def test_known_visitors_only_share_their_client():
    exclusive, shared = lock_names([event(anon="a1"), event(anon="a2")], {("anon", "a1"): "c1", ("anon", "a2"): "c2"})
    assert exclusive == set()
    assert shared == {"client:c1", "client:c2"}


def test_a_new_identifier_is_linked_under_its_own_exclusive_lock():
    exclusive, shared = lock_names([event("identify", user="u1", anon="a1")], {("anon", "a1"): "c1"})
    assert exclusive == {"identifier:user:u1"}
    assert shared == {"client:c1"}


def test_clients_that_may_merge_are_locked_exclusively_even_through_a_chain():
    owner = {("anon", "a1"): "c1", ("user", "u1"): "c2", ("anon", "a9"): "c9"}
    batch = [event("identify", user="u1", anon="a2"), event("identify", user="u3", anon="a2"),
             event(anon="a1", user="u3"), event(anon="a9")]
    exclusive, shared = lock_names(batch, owner)
    # a1 meets u3, which meets a2, which meets u1: c1 and c2 may end up merged.
    assert {"client:c1", "client:c2"} <= exclusive
    assert {"identifier:anon:a2", "identifier:user:u3"} <= exclusive
    assert shared == {"client:c9"}


def test_an_alias_locks_the_previous_ids_client_too():
    owner = {("user", "u1"): "c1", ("anon", "old"): "c2"}
    exclusive, _ = lock_names([event("alias", user="u1", previousId="old")], owner)
    assert {"client:c1", "client:c2"} <= exclusive
