"""`Prefetched.visible`: when each prefetched row is one that `read` returns, as spans of instants.

A weekly job asks the same members' rows at a few hundred instants; `visible` lets it answer with
arithmetic on instants. It must hold exactly what `read` holds at every instant: at and a
microsecond either side of every row and every ledger change, before any consent, after a
withdrawal, a grant back, a level change, a restriction, and rows stamped at a change itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maison.consent.entities import EntryKind, LedgerEntry, Use
from maison.consent.gateway import Prefetched
from maison.consent.readers import Reader
from maison.consent.service import ConsentBook

T0 = datetime(2026, 3, 2, tzinfo=UTC)
US = timedelta(microseconds=1)
READER = Reader("tests.visible", Use.PERSONALIZE, ("purchase_history", "browsing_behaviour"), "test")
CATEGORIES = ("purchase_history", "browsing_behaviour", "email_engagement")


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


ENTRY = st.one_of(
    st.builds(lambda p, g, n: LedgerEntry("c", EntryKind.PURPOSE, minute(n), purpose=p, granted=g),
              st.sampled_from(CATEGORIES), st.booleans(), st.integers(0, 30)),
    st.builds(lambda lv, n: LedgerEntry("c", EntryKind.LEVEL, minute(n), level=lv),
              st.sampled_from(["L1", "L2", "L3"]), st.integers(0, 30)),
    st.builds(lambda g, n: LedgerEntry("c", EntryKind.RESTRICTION, minute(n), granted=g),
              st.booleans(), st.integers(0, 30)),
)
ROW = st.builds(lambda n, cat: (minute(n), cat, {"event": "Order Completed", "n": n}),
                st.integers(0, 30), st.sampled_from(CATEGORIES))


@given(st.lists(ENTRY, max_size=8), st.lists(ROW, max_size=8))
@settings(max_examples=200, deadline=None)
def test_a_row_is_visible_exactly_where_read_returns_it(entries: list[LedgerEntry],
                                                         rows: list[tuple[datetime, str, dict[str, Any]]]) -> None:
    until = minute(40)
    rows = sorted(rows, key=lambda r: r[0])
    prefetched = Prefetched(frozenset({"c"}), {"c": rows} if rows else {}, ConsentBook({"c": entries}), until)
    spans = prefetched.visible(READER, "c")
    edges = {t for r in rows for t in (r[0] - US, r[0], r[0] + US)} | {
        t for e in entries for t in (e.effective_at - US, e.effective_at, e.effective_at + US)}
    for t in sorted({minute(-1), until, *(t for t in edges if t <= until)}):
        expected = prefetched.read(READER, ["c"], at=t).get("c", [])
        held = [row for row, start, end in spans if start <= t and (end is None or t < end)]
        assert held == expected, t


def test_a_withdrawal_ends_a_rows_span_and_a_grant_opens_another() -> None:
    entries = [LedgerEntry("c", EntryKind.LEVEL, minute(0), level="L2"),
               LedgerEntry("c", EntryKind.PURPOSE, minute(0), purpose="purchase_history", granted=True),
               LedgerEntry("c", EntryKind.PURPOSE, minute(10), purpose="purchase_history", granted=False),
               LedgerEntry("c", EntryKind.PURPOSE, minute(20), purpose="purchase_history", granted=True)]
    rows = [(minute(5), "purchase_history", {"event": "Order Completed"})]
    spans = Prefetched(frozenset({"c"}), {"c": rows}, ConsentBook({"c": entries}), minute(40)).visible(READER, "c")
    assert [(start, end) for _, start, end in spans] == [(minute(5) + US, minute(10)), (minute(20), None)]
    assert spans[0][0] is spans[1][0] and spans[0][0]["data_category"] == "purchase_history"
