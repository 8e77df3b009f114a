"""`personalize.history`: a client's usable events in time order, and the part of them since an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from maison.personalize.history import from_rows

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def row(n: int, minutes: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {"type": "track", "event": "Product Viewed", "messageId": f"m{n}", "timestamp": at.isoformat(),
            "data_category": "browsing_behaviour", "properties": {"product_id": f"P{n}"}}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 60), max_size=25), st.integers(-5, 65))
def test_since_keeps_exactly_the_moments_at_or_after_the_instant_in_time_order(minutes: list[int], start: int) -> None:
    """Rows come in any order and several at one instant; `since` is a slice of the sorted
    moments, so it must keep every moment at the instant itself and none before it."""
    history = from_rows([row(n, m) for n, m in enumerate(minutes)], at=T0 + timedelta(hours=2), zone=PARIS)
    assert [m.at for m in history] == sorted(T0 + timedelta(minutes=m) for m in minutes)
    instant = T0 + timedelta(minutes=start)
    expected = [m.message_id for m in history if m.at >= instant]
    assert [m.message_id for m in history.since(instant)] == expected
    assert [m.message_id for m in history.since(instant + timedelta(microseconds=1))] == [
        m.message_id for m in history if m.at > instant]
    assert history.since(instant).at == history.at and history.since(instant).zone is PARIS
    for end in (instant, instant + timedelta(minutes=7), instant + timedelta(minutes=7, microseconds=1)):
        assert [m.message_id for m in history.between(instant, end)] == [
            m.message_id for m in history if instant <= m.at < end]


def test_rows_at_or_after_the_history_instant_are_left_out() -> None:
    history = from_rows([row(1, 10), row(2, 20), row(3, 30)], at=T0 + timedelta(minutes=20), zone=PARIS)
    assert [m.message_id for m in history] == ["m1"]
    assert history.moments[0].local.tzinfo is PARIS
