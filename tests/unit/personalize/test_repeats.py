"""Resting L3 picks (pure): a suggested piece is not pushed again for the maison's number of weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maison.core.settings import PersonalizeSettings
from maison.personalize.history import from_rows
from maison.personalize.repeats import DEFAULT_REST_WEEKS, SentPick, resting, weeks_between
from personalize_factory import track

TOKYO = ZoneInfo("Asia/Tokyo")
SENT = datetime(2026, 3, 3, 19, 30, tzinfo=TOKYO)  # a Tuesday evening digest


def history(*rows, at: datetime):  # type: ignore[no-untyped-def]
    return from_rows(list(rows), at=at, zone=TOKYO)


@pytest.mark.parametrize(("weeks_later", "rests"), [(1, True), (2, True), (4, True), (5, False), (9, False)])
def test_a_piece_sent_in_week_w_rests_until_week_w_plus_the_window(weeks_later: int, rests: bool) -> None:
    at = SENT + timedelta(weeks=weeks_later)
    found = resting([SentPick("P-1", SENT)], history(at=at), at=at, weeks=4)
    assert (found == {"P-1"}) is rests


def test_weeks_are_counted_monday_to_monday_in_the_clients_zone() -> None:
    # sent late on Tuesday, next digest early on the next Monday: still one week, not six days
    sent = datetime(2026, 3, 3, 21, 45, tzinfo=TOKYO)
    assert weeks_between(sent, datetime(2026, 3, 9, 7, 0, tzinfo=TOKYO)) == 1
    # a digest sent in UTC but read in the client's zone: 2 March 20:00 UTC is Tuesday 3 March in Tokyo
    assert weeks_between(datetime(2026, 3, 2, 20, 0, tzinfo=UTC), datetime(2026, 3, 9, 9, 0, tzinfo=TOKYO)) == 1


def test_a_view_or_a_save_since_it_was_sent_lifts_the_rest_one_before_does_not() -> None:
    at = SENT + timedelta(weeks=1)
    before = track("Product Viewed", SENT - timedelta(days=2), product_id="P-1")
    after_view = track("Product Viewed", SENT + timedelta(days=2), product_id="P-2")
    after_save = track("Product Added to Wishlist", SENT + timedelta(days=3), product_id="P-3")
    sent = [SentPick(pid, SENT) for pid in ("P-1", "P-2", "P-3", "P-4")]
    assert resting(sent, history(before, after_view, after_save, at=at), at=at, weeks=4) == {"P-1", "P-4"}


def test_the_latest_send_counts_and_what_was_sent_later_is_never_read() -> None:
    at = SENT + timedelta(weeks=2)
    seen = track("Product Viewed", SENT + timedelta(days=1), product_id="P-1")
    sent = [SentPick("P-1", SENT), SentPick("P-1", SENT + timedelta(weeks=1)), SentPick("P-2", at),
            SentPick("P-3", at + timedelta(days=7))]
    assert resting(sent, history(seen, at=at), at=at, weeks=4) == {"P-1"}  # viewed before its second send


def test_without_a_readable_history_a_rest_is_not_lifted_and_a_zero_window_rests_nothing() -> None:
    at = SENT + timedelta(weeks=1)
    assert resting([SentPick("P-1", SENT)], None, at=at, weeks=4) == {"P-1"}
    assert resting([SentPick("P-1", SENT)], None, at=at, weeks=0) == frozenset()


def test_the_house_default_is_four_weeks_and_a_negative_window_is_refused() -> None:
    assert PersonalizeSettings().pick_rest_weeks == DEFAULT_REST_WEEKS == 4
    with pytest.raises(ValueError, match="pick_rest_weeks"):
        PersonalizeSettings(pick_rest_weeks=-1)
