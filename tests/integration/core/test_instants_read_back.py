"""Instants read back from the store are aware UTC datetimes equal to what was written, on both
backends, and SQLite text in any layout it may hold still reads as the instant it names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite

from maison.core.types import UTCDateTime

_META = MetaData()
_T = Table("instants", _META, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2999, 12, 30), timezones=offsets)


@settings(max_examples=200, deadline=None)
@given(st.lists(instants, min_size=1, max_size=20))
def test_any_aware_instant_reads_back_equal_and_in_utc(written: list[datetime]) -> None:
    engine = create_engine("sqlite://")
    _META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(_T), [{"at": at} for at in written])
        back = [r.at for r in conn.execute(select(_T.c.at).order_by(_T.c.id))]
    assert back == written
    assert all(at.tzinfo is UTC for at in back)


def test_text_sqlite_may_hold_in_other_layouts_reads_as_the_instant_it_names() -> None:
    """Rows written by hand or by older tools: no fraction, a `T`, an offset of its own, a date."""
    engine = create_engine("sqlite://")
    _META.create_all(engine)
    stored = ["2026-02-02 20:14:30.250000", "2026-02-02 20:14:30", "2026-02-02T20:14:30", "2026-02-02 21:14:30+01:00",
              "2026-02-02", None]
    with engine.begin() as conn:
        for n, value in enumerate(stored):
            conn.execute(text("INSERT INTO instants (id, at) VALUES (:n, :v)"), {"n": n, "v": value})
        back = [r.at for r in conn.execute(select(_T.c.at).order_by(_T.c.id))]
    at = datetime(2026, 2, 2, 20, 14, 30, tzinfo=UTC)
    assert back == [at.replace(microsecond=250_000), at, at, at, datetime(2026, 2, 2, tzinfo=UTC), None]
    assert all(v.tzinfo is UTC for v in back if v is not None)


def test_the_sqlite_reader_is_the_one_step_parse_not_the_decorators_default() -> None:
    """The lean reader is what SQLAlchemy uses: it reads SQLAlchemy's own layout without the
    regular expression (a wrong layout there would fall back, and this would not notice)."""
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert process is not None and process.__qualname__.endswith("result_processor.<locals>.process")
    assert process("2026-02-02 20:14:30.000001") == datetime(2026, 2, 2, 20, 14, 30, 1, tzinfo=UTC)
