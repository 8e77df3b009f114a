"""Who of a segment's members is pooled (`cohort._pooled`), as a product page asks it at any
instant: the answers are the policy's for each member, and after new consent entries anywhere
in the shop they are the answers of a fresh read, while only the members with entries added
since are read again (on PostgreSQL too, since ADR 8's marks)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from maison.consent import service as consent
from maison.consent.entities import EntryKind, LedgerEntry
from maison.core.schema import clients
from maison.identity import repository as identity
from maison.models.segments import service as segments
from maison.personalize import cohort

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def entries(rng: random.Random, clients: list[str], n: int, *, start: int) -> list[LedgerEntry]:
    """Random levels and statements of the pooling purposes, at minutes from `start` on."""
    out = []
    for _ in range(n):
        client, at = rng.choice(clients), T0 + timedelta(minutes=start + rng.randrange(0, 600, 5))
        if rng.random() < 0.25:
            out.append(LedgerEntry(client, EntryKind.LEVEL, at, level=rng.choice(("L1", "L2", "L3"))))
        else:
            out.append(LedgerEntry(client, EntryKind.PURPOSE, at, purpose=rng.choice(segments.POOL_PURPOSES),
                                   granted=rng.random() < 0.7))
    return out


def expected(engine: Engine, members: tuple[str, ...], at: datetime) -> tuple[str, ...]:
    with engine.connect() as conn:
        book = consent.book(conn, members)
    return tuple(m for m in members if segments.pooled(book, m, at=at))


def test_pooled_members_at_any_instant_follow_new_entries_reading_again_only_the_touched(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    members = tuple(f"cl_{n:02d}" for n in range(40))
    others = [f"other_{n}" for n in range(5)]  # not members: their consent changes the mark only
    with engine.begin() as conn:
        consent.record(conn, entries(rng, list(members), 200, start=-600), now=T0)
    asked: list[set[str]] = []
    real = consent.book
    monkeypatch.setattr(consent, "book", lambda conn, ids, **kw: asked.append(set(ids)) or real(conn, ids, **kw))
    instants = [T0 + timedelta(minutes=m) for m in range(-700, 1300, 35)]
    changes = [members[:6] + tuple(others), tuple(others), members[30:33]]  # who gets entries after each round
    seen, touched = set(), set(members)
    for round_ in range(len(changes) + 1):
        asked.clear()
        with engine.connect() as conn:
            pooled = cohort._pooled(conn, members)
        read_again = list(asked)
        for at in instants:
            answer = pooled.at(at)
            assert answer == expected(engine, members, at), (round_, at)
            seen.add(len(answer))
        if round_ == 0:
            assert read_again == [set(members)]
        else:  # only the members with entries added since (none when only others changed)
            assert read_again == ([touched & set(members)] if touched & set(members) else [])
        if round_ < len(changes):
            new = entries(rng, list(changes[round_]), 15, start=round_ * 300)
            touched = {e.client_id for e in new}
            with engine.begin() as conn:
                consent.record(conn, new, now=T0)
    assert len(seen) > 5  # the answers vary: the comparison can fail


def test_a_member_whose_consent_moved_to_another_client_is_pooled_no_longer(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """An identity merge moves the merged client's consent entries to the survivor (an UPDATE, which
    adds no entry): the cached answer must read that ledger again, or it would go on pooling a
    client under consent that is no longer theirs. Only the moves' clients are read again (a
    merge is frequent on a live shop: a visitor who consented, then signed in), and the split
    gives the member back their consent and their place."""
    members = ("cl_00", "cl_01", "cl_02")
    grant = [LedgerEntry(m, EntryKind.LEVEL, T0, level="L3") for m in members] + [
        LedgerEntry(m, EntryKind.PURPOSE, T0, purpose=p, granted=True) for m in members for p in segments.POOL_PURPOSES]
    with engine.begin() as conn:
        conn.execute(clients.insert(), [{"id": c, "created_at": T0} for c in (*members, "cl_survivor")])
        consent.record(conn, grant, now=T0)
    later = T0 + timedelta(hours=1)
    with engine.connect() as conn:
        assert cohort._pooled(conn, members).at(later) == members
    asked: list[set[str]] = []
    real = consent.book
    monkeypatch.setattr(consent, "book", lambda conn, ids, **kw: asked.append(set(ids)) or real(conn, ids, **kw))
    with engine.begin() as conn:
        merge_id = identity.merge(conn, survivor="cl_survivor", merged="cl_01", reason="admin", at=later)
    with engine.connect() as conn:
        answer = cohort._pooled(conn, members).at(later)
    assert asked == [{"cl_01"}]  # the members among the move's two clients, not the whole segment
    assert answer == ("cl_00", "cl_02") == expected(engine, members, later)
    asked.clear()
    with engine.begin() as conn:
        record = identity.get_merge(conn, merge_id)
        assert record is not None
        identity.undo_merge(conn, record, at=later, actor="admin")
    with engine.connect() as conn:
        answer = cohort._pooled(conn, members).at(later)
    assert asked == [{"cl_01"}]
    assert answer == members == expected(engine, members, later)


def test_a_refitted_segment_reads_only_the_members_no_cached_segment_holds(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refit shares the same clients out anew into segments: a new segment's first answer takes
    the ledgers the old segments hold under the same ledger mark and reads only the others, and
    it answers as a fresh read does. After a new entry, a new list reads all its members."""
    rng = random.Random(5)
    everyone = [f"cl_{n:02d}" for n in range(40)]
    with engine.begin() as conn:
        consent.record(conn, entries(rng, everyone, 200, start=-600), now=T0)
    old = (tuple(everyone[:20]), tuple(everyone[20:35]))
    new = tuple(rng.sample(everyone, 30))
    asked: list[set[str]] = []
    real = consent.book
    monkeypatch.setattr(consent, "book", lambda conn, ids, **kw: asked.append(set(ids)) or real(conn, ids, **kw))
    with engine.connect() as conn:
        for members in old:
            cohort._pooled(conn, members)
        asked.clear()
        pooled = cohort._pooled(conn, new)
    assert asked == [set(new) - set(everyone[:35])]  # none of these is in an old segment
    for at in (T0 + timedelta(minutes=m) for m in range(-700, 700, 35)):
        assert pooled.at(at) == expected(engine, new, at), at
    with engine.begin() as conn:
        consent.record(conn, entries(rng, everyone[:3], 2, start=0), now=T0)
    asked.clear()
    other = tuple(reversed(new))
    with engine.connect() as conn:
        cohort._pooled(conn, other)
    assert asked == [set(other)]  # the ledger changed since the others were read: all of them
