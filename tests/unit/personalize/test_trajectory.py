"""The taste trajectory: four-week months from the client's first week, metrics as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l3_factory import JOINED, MONTH_1, PRODUCTS, SEND, VOCABULARY, ZONE, noor_rows, sales
from maison.analytics.entities import Sale
from maison.personalize import trajectory as trajectory_module
from maison.personalize.history import from_rows
from maison.personalize.trajectory import months, rising_tags, trajectory
from personalize_factory import track

NY = ZoneInfo(ZONE)


def noor(at: datetime = SEND):  # type: ignore[no-untyped-def]
    history = from_rows(noor_rows(), at=at, zone=NY)
    return trajectory(history, joined=JOINED, products=PRODUCTS, sales=sales(), vocabulary=VOCABULARY)


def test_months_are_four_week_blocks_from_the_monday_of_the_week_she_joined_in_her_zone() -> None:
    found = months(JOINED, SEND, NY)
    assert [(m.index, m.start, m.complete) for m in found] == [
        (1, datetime(2026, 1, 5, tzinfo=NY), True), (2, datetime(2026, 2, 2, tzinfo=NY), True)]
    assert found[0].start.astimezone(UTC) == MONTH_1
    assert found[1].end == datetime(2026, 3, 2, tzinfo=NY)


def test_the_month_in_progress_appears_after_two_weeks_marked_incomplete() -> None:
    assert len(months(JOINED, SEND + timedelta(days=12), NY)) == 2
    third = months(JOINED, SEND + timedelta(days=13), NY)[-1]
    assert (third.index, third.complete) == (3, False)


def test_month_boundaries_stay_at_local_midnight_across_a_clock_change() -> None:
    late = months(JOINED, datetime(2026, 4, 30, tzinfo=UTC), NY)  # New York moves to EDT on 8 March
    assert all(m.start.astimezone(NY).hour == 0 for m in late)
    assert late[2].start.utcoffset() != late[3].start.utcoffset()


def test_month_metrics_describe_a_shift_from_best_sellers_to_long_heritage_visits() -> None:
    first, second = noor()
    assert (first.product_views, second.product_views) == (8, 8)
    assert first.top_seller_share == 1.0 and second.top_seller_share == 1 / 8  # only T-2 is a top seller
    assert first.median_dwell_seconds == 23.5 and second.median_dwell_seconds == 185.0
    assert (first.value_tagged_share, second.value_tagged_share) == (0.0, 7 / 8)
    assert second.tag_shares["vintage-inspired"] == 7 / 8 and first.tag_shares["vintage-inspired"] == 0.0
    assert (first.content_visits, first.content_seconds) == (1, 30.0)
    assert (second.content_visits, second.content_seconds, second.impact_visits) == (3, 900.0, 1)
    assert second.saves == 2 and second.category_shares == {"Tailoring": 6 / 8, "Shoes": 2 / 8}
    assert second.data_categories == ("taste_trajectory", "browsing_behaviour", "content_engagement")
    assert rising_tags([first, second])[0][0] == "vintage-inspired"


def test_a_view_counts_as_on_a_top_seller_only_by_the_sales_before_it() -> None:
    history = from_rows(noor_rows(), at=SEND, zone=NY)
    surge = Sale("T-3", 500, datetime(2026, 2, 10, tzinfo=UTC))  # T-3 becomes a best-seller mid-month
    second = trajectory(history, joined=JOINED, products=PRODUCTS, sales=sales(surge), vocabulary=VOCABULARY)[1]
    after = [m for m in history.product_views() if m.product_id == "T-3" and m.at > surge.at]
    assert len(after) == 2 and second.top_seller_share == (1 + len(after)) / 8  # the first visit was before


def test_which_tags_count_as_values_is_the_maisons_vocabulary() -> None:
    history = from_rows(noor_rows(), at=SEND, zone=NY)
    other = replace(VOCABULARY, value_tags=frozenset({"repairable"}))
    second = trajectory(history, joined=JOINED, products=PRODUCTS, sales=sales(), vocabulary=other)[1]
    assert second.value_tagged_share == 2 / 8 and set(second.value_tag_shares) == {"repairable"}


def test_plain_words_compare_each_month_with_the_one_before() -> None:
    first, second = noor()
    assert "month 1 (5 Jan to 1 Feb)" in first.text and "8 pieces" in first.text
    assert "a median 185 seconds on each (24 the month before)" in second.text
    assert "13% of your views were on best-sellers of the moment (100% before)" in second.text
    assert "88% on vintage-inspired pieces (0% before)" in second.text
    assert "including impact reporting once" in second.text
    assert second.to_dict()["month"] == 2 and second.to_dict()["data_categories"][0] == "taste_trajectory"


def test_events_at_or_after_the_instant_are_not_summarised() -> None:
    late = track("Product Viewed", SEND + timedelta(hours=1), product_id="T-1", dwell_seconds=5)
    history = from_rows([*noor_rows(), late], at=SEND, zone=NY)
    found = trajectory(history, joined=JOINED, products=PRODUCTS, sales=sales(), vocabulary=VOCABULARY)
    assert [m.to_dict() for m in found] == [m.to_dict() for m in noor()]


def _reference_top_sellers_at(sold: list[Sale], products: list, category: str, at: datetime) -> frozenset[str]:  # type: ignore[type-arg]
    """The definition: `top_sellers` over the units each product sold in [at - 30 days, at)."""
    from collections import Counter

    from maison.personalize.top_sellers import WINDOW, Signals, top_sellers

    units: Counter[str] = Counter()
    for sale in sold:
        if at - WINDOW <= sale.at < at:
            units[sale.product_id] += sale.quantity
    by_id = {p.product_id: p for p in products}
    mine = [by_id[pid] for pid in units if pid in by_id and by_id[pid].category == category]
    return frozenset(p.product_id for p in top_sellers(mine, {p: Signals(units=u) for p, u in units.items()},
                                                        category=category))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_piece_is_a_top_seller_at_any_instant_by_the_30_days_before_it(data) -> None:  # type: ignore[no-untyped-def]
    """Ties by product id, out-of-stock and restricted pieces never top sellers, sales of products not
    in the catalogue ignored, windows exact to the microsecond at both ends."""
    from maison.catalog.catalogue import Catalogue
    from maison.personalize.trajectory import SalesTimeline
    from personalize_factory import product

    categories = ("Knitwear", "Home", "Bags")
    n = data.draw(st.integers(1, 12))
    catalogue = [product(f"P-{i:02d}", categories[data.draw(st.integers(0, 2))],
                         online={"one_size": data.draw(st.sampled_from([0, 1, 5]))},
                         restricted=data.draw(st.booleans()) and data.draw(st.booleans()))
                 for i in range(n)]
    hours = st.integers(0, 24 * 70)
    sold = [Sale(data.draw(st.sampled_from([*(p.product_id for p in catalogue), "GONE"])),
                 data.draw(st.integers(1, 3)), MONTH_1 + timedelta(hours=data.draw(hours)))
            for _ in range(data.draw(st.integers(0, 40)))]
    instants = [MONTH_1 + timedelta(hours=data.draw(hours)) for _ in range(5)]
    instants += [s.at + d for s in sold[:3] for d in (timedelta(0), timedelta(microseconds=1),
                                                      timedelta(days=30), timedelta(days=30, microseconds=1))]
    for products, block in ((catalogue, 256), (Catalogue(catalogue), 256), (catalogue, 1), (catalogue, 3)):
        with patch.object(trajectory_module, "_BLOCK", block):  # kept totals every line, every third, or none here
            timeline = SalesTimeline(sold, products)
        for at in instants:
            for category in (*categories, "Unknown"):
                expected = _reference_top_sellers_at(sold, catalogue, category, at)
                for pid in (*(p.product_id for p in catalogue), "GONE"):  # a view's question, asked without ranking
                    assert timeline.is_top_seller(category, pid, at) == (pid in expected), (category, pid, at, block)


@pytest.mark.parametrize("block", [1, 2, 256], ids=["totals every line", "every other line", "no totals kept"])
def test_an_order_stored_again_after_a_clients_start_counts_once_at_its_first_row(block: int) -> None:
    """A view `since` a client's start counts an order at its first row after the start: a copy of it
    stored later, carrying other lines, is not counted again, and the other lines still are."""
    from maison.analytics.aggregates import OrderRow
    from maison.personalize.trajectory import SalesTimeline
    from personalize_factory import product

    catalogue = [product(p, "Home") for p in ("H-1", "H-2", "H-3", "H-4")]
    t = MONTH_1 + timedelta(days=3)
    rows = [OrderRow(t, "o1", (Sale("H-1", 5, t),)), OrderRow(t, "o2", (Sale("H-2", 4, t),)),
            OrderRow(t, "o3", (Sale("H-3", 3, t),)), OrderRow(t + timedelta(hours=1), "dup", (Sale("H-3", 1, t),)),
            OrderRow(t + timedelta(hours=2), "dup", (Sale("H-4", 9, t + timedelta(hours=2)),)),
            OrderRow(t + timedelta(hours=3), "o4", (Sale("H-2", 1, t + timedelta(hours=3)),))]
    with patch.object(trajectory_module, "_BLOCK", block):
        timeline = SalesTimeline.of_orders(rows, catalogue)
    at = t + timedelta(days=1)
    # from before the order's first row: its copy (H-4 x 9) is a repeat, so H-4 stays out of the top three
    home = ("H-1", "H-2", "H-3", "H-4")
    assert {p for p in home if timeline.since(t - timedelta(days=1)).is_top_seller("Home", p, at)} == {
        "H-1", "H-2", "H-3"}
    # from between the two rows: the copy is the order's first row in the view, and counts
    assert {p for p in home if timeline.since(t + timedelta(minutes=90)).is_top_seller("Home", p, at)} == {"H-4", "H-2"}
