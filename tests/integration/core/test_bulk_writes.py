"""`insert_rows`, the store's bulk write (COPY on PostgreSQL, lean executemany on SQLite): what
is read back is what was written, whatever offsets instants carry and however often they repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from maison.core.dialect import insert_rows, lookup_keys
from maison.core.schema import clients, consent_ledger, events
from maison.ingest.repository import EVENT_COLUMNS

PARIS = timezone(timedelta(hours=1))
TOKYO = timezone(timedelta(hours=9))
COLUMNS = ("client_id", "kind", "purpose", "granted", "effective_at", "recorded_at", "method", "geography")


def test_repeated_instants_in_any_offset_are_stored_as_the_same_utc_instant(engine: Engine) -> None:
    stated = datetime(2026, 2, 2, 20, 14, tzinfo=PARIS)
    recorded = datetime(2026, 2, 3, 8, 0, tzinfo=TOKYO)
    later = stated + timedelta(seconds=1)
    rows = [
        ("cl_a", "purpose", "browsing_behaviour", True, stated, recorded, "web", "FR"),
        ("cl_a", "purpose", "email_engagement", False, stated, recorded, "web", None),
        # the same instants again, written in other offsets: equal, so converted the same way
        ("cl_b", "purpose", "browsing_behaviour", None, stated.astimezone(TOKYO), recorded.astimezone(UTC), "app", ""),
        ("cl_b", "level", None, None, later, recorded, "app", "JP"),
    ]
    with engine.begin() as conn:
        insert_rows(conn, consent_ledger, COLUMNS, rows)
    with engine.connect() as conn:
        back = conn.execute(select(*[consent_ledger.c[c] for c in COLUMNS]).order_by(consent_ledger.c.id)).all()
    at, on = stated.astimezone(UTC), recorded.astimezone(UTC)
    assert [tuple(r) for r in back] == [
        ("cl_a", "purpose", "browsing_behaviour", True, at, on, "web", "FR"),
        ("cl_a", "purpose", "email_engagement", False, at, on, "web", None),
        ("cl_b", "purpose", "browsing_behaviour", None, at, on, "app", ""),
        ("cl_b", "level", None, None, later.astimezone(UTC), on, "app", "JP"),
    ]
    assert back[0].effective_at == datetime(2026, 2, 2, 19, 14, tzinfo=UTC)


def test_an_instant_without_offset_is_refused_and_nothing_is_written(engine: Engine) -> None:
    aware = datetime(2026, 2, 2, 20, 14, tzinfo=UTC)
    rows = [
        ("cl_a", "purpose", "browsing_behaviour", True, aware, aware, "web", None),
        ("cl_a", "purpose", "email_engagement", True, aware.replace(tzinfo=None), aware, "web", None),
    ]
    with pytest.raises(ValueError, match="naive datetime"), engine.begin() as conn:
        insert_rows(conn, consent_ledger, COLUMNS, rows)
    with engine.connect() as conn:
        assert conn.execute(select(consent_ledger.c.id)).all() == []


@pytest.mark.parametrize("copies", [1, 30], ids=["a few rows", "many rows"])
def test_every_column_type_of_an_event_reads_back_as_written(engine: Engine, copies: int) -> None:
    """Text with tabs, newlines, backslashes and non-Latin letters; money; fractions; JSON.
    A few rows and many take different paths on PostgreSQL (INSERT, COPY): both must hold."""
    at = datetime(2026, 2, 2, 20, 14, 5, 123456, tzinfo=PARIS)
    raw = {"properties": {"note": "tab\there\nline\\back \u00e9t\u00e9 \u6771\u4eac", "n": [1, 2.5, None, True]}}
    row = ("web", "m-\t1", "cl_a", "track", "Order\nCompleted", None, "anon-\\1", at, 60, at, "purchase_history",
           "store", "Europe/Paris", "P-\u00e9", 12.25, "o-1", Decimal("1000.50"), "EUR", "S-1", raw)
    rows = [(*row[:1], f"{row[1]}-{n}", *row[2:]) for n in range(copies)]
    with engine.begin() as conn:
        insert_rows(conn, clients, ("id", "created_at"), [("cl_a", at)])
        insert_rows(conn, events, EVENT_COLUMNS, rows)
    with engine.connect() as conn:
        back = conn.execute(select(*[events.c[c] for c in EVENT_COLUMNS]).order_by(events.c.id)).all()
    expected = [list(r) for r in rows]
    for r in expected:
        r[7] = r[9] = at.astimezone(UTC)
    assert [list(r) for r in back] == expected


@pytest.mark.parametrize("asked", [1, 3, 8, 9, 600],
                         ids=["one key", "an event's keys", "most for OR", "a request's keys", "a bulk chunk's keys"])
def test_lookup_keys_finds_exactly_the_stored_keys_of_the_filtered_rows(engine: Engine, asked: int) -> None:
    """A handful of keys, a request's and a bulk chunk's take different statements (PostgreSQL:
    an OR of key equalities up to 8, then LATERAL probes; SQLite: kept probes, then `IN` lists);
    the answer is the same."""
    at = datetime(2026, 2, 2, tzinfo=UTC)
    stored = [("web", f"m-{n}") for n in range(0, 2 * asked, 2)]  # even numbers only
    rows = [(source, mid, "cl_a", "track", None, None, None, at, 0, at, "browsing_behaviour",
             None, None, None, None, None, None, None, None, {}) for source, mid in stored]
    rows.append(("app", "m-1", "cl_a", "track", None, None, None, at, 0, at, "browsing_behaviour",
                 None, None, None, None, None, None, None, None, {}))  # an odd one, from another source
    with engine.begin() as conn:
        insert_rows(conn, clients, ("id", "created_at"), [("cl_a", at)])
        insert_rows(conn, events, EVENT_COLUMNS, rows)
    keys = [(f"m-{n}",) for n in range(asked)]
    with engine.connect() as conn:
        found = lookup_keys(conn, events, ("message_id",), keys, value="client_id", where={"source": "web"})
    assert found == {(f"m-{n}",): "cl_a" for n in range(0, asked, 2)}
