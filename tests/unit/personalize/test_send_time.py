"""The weekly send time: learned from email opens, shrunk toward the prior when data are thin."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maison.personalize.send_time import (
    SendTimePolicy,
    ceil_to_step,
    clientele_prior,
    estimate,
    floor_to_step,
    iso_week,
    local_instant,
    local_minutes,
    prior,
    week_monday,
    weighted_median,
    zone_for_day,
)

LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


EVENING = [hm(t) for t in ("18:47", "19:32", "19:41", "19:58", "21:10")]


def test_five_evening_opens_give_a_quarter_hour_within_90_minutes_before_their_median() -> None:
    found = estimate(EVENING)
    assert found.learned and found.client_median == hm("19:41")
    assert found.minute % 15 == 0
    assert hm("19:41") - 90 <= found.minute <= hm("19:41")
    assert found.minute == hm("19:15")  # pooled median 19:32, minus the 15-minute lead, floored


@pytest.mark.parametrize("opens", [[], [hm("20:05")], [hm("20:05"), hm("20:20")]])
def test_fewer_than_three_opens_keep_the_default(opens: list[int]) -> None:
    found = estimate(opens)
    assert (found.minute, found.learned) == (hm("09:00"), False)


def test_scattered_opens_are_not_trusted_the_prior_holds_the_median() -> None:
    found = estimate([hm("07:00"), hm("13:20"), hm("21:40")])
    assert (found.minute, found.learned) == (hm("09:00"), False)


def test_a_stronger_prior_needs_more_opens_to_move_the_time() -> None:
    assert not estimate(EVENING, policy=SendTimePolicy(prior_weight=20)).learned
    assert estimate(EVENING * 5, policy=SendTimePolicy(prior_weight=20)).learned


def test_the_clientele_histogram_shares_the_prior_and_pulls_thin_data_toward_it() -> None:
    opens = [hm("20:00"), hm("20:10"), hm("20:20")]
    evening_clientele = {hm("19:00"): 500}
    policy = SendTimePolicy(prior_weight=4)
    assert not estimate(opens, policy=policy).learned  # all of the prior on 09:00
    found = estimate(opens, clientele=evening_clientele, policy=policy)
    assert found.learned and found.minute == hm("18:45")  # pooled median 19:00, minus the lead


def test_a_clientele_of_too_few_clients_is_not_used() -> None:
    policy = SendTimePolicy(min_clientele_clients=50)
    assert clientele_prior({600: 40}, 49, policy) is None
    assert clientele_prior({600: 40}, 50, policy) == {600: 40}


def test_the_time_is_floored_to_the_quarter_hour_and_clamped_into_the_window() -> None:
    assert estimate([hm("20:29")] * 5).minute == hm("20:00")  # 20:14 floored
    late_lead = SendTimePolicy(lead_minutes=120)
    assert estimate([hm("20:00")] * 5, policy=late_lead).minute == hm("18:30")  # not before median - 90


def test_habits_outside_waking_hours_get_the_nearest_waking_bound_never_the_small_hours() -> None:
    night_owl, early_riser = estimate([hm("02:00")] * 6), estimate([hm("06:10")] * 6)
    assert night_owl.learned and night_owl.minute == hm("21:45")  # 4 h 15 before 02:00, not 5 h after
    assert early_riser.learned and early_riser.minute == hm("07:00")
    assert estimate([hm("22:30")] * 6).minute == hm("21:45")  # the window [21:00, 22:30] meets waking hours


def test_step_rounding_and_weighted_median() -> None:
    assert (floor_to_step(1167, 15), floor_to_step(1155, 15), ceil_to_step(1151, 15)) == (1155, 1155, 1155)
    assert weighted_median([(1, 1.0), (2, 1.0), (3, 1.0)]) == 2
    assert weighted_median([(1, 3.0), (2, 1.0), (3, 1.0)]) == 1
    with pytest.raises(ValueError):
        weighted_median([])


@pytest.mark.parametrize(
    ("day", "minute", "expected"),
    [
        (date(2026, 3, 24), hm("19:15"), "2026-03-24T19:15:00+00:00"),  # GMT
        (date(2026, 3, 31), hm("19:15"), "2026-03-31T19:15:00+01:00"),  # BST from 29 March
        (date(2026, 10, 27), hm("09:00"), "2026-10-27T09:00:00+00:00"),  # GMT again from 25 October
        (date(2026, 3, 29), hm("01:30"), "2026-03-29T02:30:00+01:00"),  # a wall time the change skips
    ],
)
def test_send_instants_carry_the_offset_in_force_that_day(day: date, minute: int, expected: str) -> None:
    assert local_instant(day, minute, LONDON).isoformat() == expected


def test_open_times_are_read_in_the_clients_zone_across_the_dst_change() -> None:
    opens = [datetime(2026, 3, 24, 19, 30, tzinfo=UTC), datetime(2026, 3, 31, 18, 30, tzinfo=UTC)]
    assert local_minutes(opens, LONDON) == [hm("19:30"), hm("19:30")]


def test_iso_weeks() -> None:
    assert week_monday("2026-W06") == date(2026, 2, 2)
    assert week_monday("2026-w02") == date(2026, 1, 5)
    assert iso_week(date(2026, 2, 2)) == "2026-W06"
    with pytest.raises(ValueError, match="2026-W06"):
        week_monday("February")


def test_the_zone_is_the_one_stated_before_the_send_day_begins_there() -> None:
    def stated(at: datetime) -> str | None:
        return "Asia/Tokyo" if at > datetime(2026, 1, 1, tzinfo=UTC) else None

    assert zone_for_day(stated, date(2026, 1, 6), LONDON).key == "Asia/Tokyo"
    assert zone_for_day(stated, date(2025, 12, 30), LONDON).key == "Europe/London"
    assert zone_for_day(lambda at: "Not/AZone", date(2026, 1, 6), LONDON).key == "Europe/London"


def test_a_zone_stated_between_the_two_midnights_wins() -> None:
    # Stated at 20:00 UTC on Monday: after Tuesday 00:00 in Tokyo (15:00 UTC), before it in London.
    def stated(at: datetime) -> str | None:
        return "Asia/Tokyo" if at > datetime(2026, 1, 5, 20, tzinfo=UTC) else None

    assert zone_for_day(stated, date(2026, 1, 6), LONDON).key == "Asia/Tokyo"


@given(
    opens=st.lists(st.integers(0, 1439), max_size=30),
    clientele=st.dictionaries(st.integers(0, 1439), st.integers(0, 50), max_size=40),
    default_share=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
)
def test_pooling_with_a_prior_gives_the_weighted_median_of_all_its_points(
    opens: list[int], clientele: dict[int, int], default_share: float
) -> None:
    """The prior is sorted once and each client's opens are merged into it; the median is the one
    of the opens and the prior's points taken together."""
    policy = SendTimePolicy(default_share=default_share)
    pooled = prior(clientele, policy)
    points = [(float(m), 1.0) for m in opens] + list(zip(pooled.minutes.tolist(), pooled.weights.tolist(), strict=True))
    if not any(w > 0 for _, w in points):
        with pytest.raises(ValueError):
            pooled.pooled_median(opens)
        return
    assert pooled.pooled_median(opens) == weighted_median(points)
