"""What a cohort may say about a product: only aggregates, only above a minimum of members."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maison.personalize import cohort_signals as signals
from maison.personalize.cohort_signals import Review

SIZES = ("XS", "S", "M", "L")


def reviewed(client: str, product: str, rating: int | None, fit: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"product_id": product, "rating": rating}
    if fit:
        props["fit"] = fit
    return {"type": "track", "event": "Product Reviewed", "client_id": client, "properties": props}


def test_each_member_counts_once_with_their_latest_review() -> None:
    rows = [reviewed("a", "P", 2), reviewed("a", "P", 5, "runs large"), reviewed("b", "P", 4), reviewed("c", "Q", 1)]
    found = signals.latest_reviews(rows, "P")
    assert found == {"a": Review(5, "runs large"), "b": Review(4, None)}


def test_no_cohort_rating_under_twenty_raters() -> None:
    assert signals.rating([Review(5, None)] * 19) is None
    rated = signals.rating([Review(5, None)] * 15 + [Review(4, None)] * 5)
    assert rated is not None and rated.count == 20 and rated.mean == pytest.approx(4.75)


def test_sizing_follows_the_members_most_common_answer() -> None:
    answers = [Review(5, "runs large")] * 15 + [Review(4, "true to size")] * 6 + [Review(4, None)] * 10
    verdict = signals.sizing(answers, sizes=SIZES)
    assert verdict is not None and verdict.verdict == "runs large" and verdict.count == 21


def test_sizing_needs_twenty_answers_and_a_tie_keeps_true_to_size() -> None:
    assert signals.sizing([Review(5, "runs large")] * 19, sizes=SIZES) is None
    tie = signals.sizing([Review(5, "runs large")] * 10 + [Review(5, "true to size")] * 10, sizes=SIZES)
    assert tie is not None and tie.verdict == "true to size"


@pytest.mark.parametrize("sizes", [("one_size",), ()])
def test_one_size_products_never_get_sizing_guidance(sizes: tuple[str, ...]) -> None:
    assert signals.sizing([Review(5, "runs large")] * 50, sizes=sizes) is None


def test_affinity_is_the_lift_of_the_cohorts_share_of_buyers() -> None:
    found = signals.affinities({"J": 30, "X": 10, "rare": 2}, 100, {"J": 50, "X": 200, "rare": 2}, 1000)
    assert found["J"].lift == pytest.approx(0.30 / 0.05) and found["J"].members_bought == 30
    assert found["X"].lift == pytest.approx(0.10 / 0.20)
    assert "rare" not in found  # fewer than five member buyers: too few to speak for a cohort


def test_buyers_count_distinct_clients_per_product() -> None:
    rows = [
        {"event": "Order Completed", "client_id": "a",
         "properties": {"products": [{"product_id": "J"}, {"product_id": "K"}]}},
        {"event": "Order Completed", "client_id": "a", "properties": {"products": [{"product_id": "J"}]}},
        {"event": "Order Completed", "client_id": "b", "properties": {"product_id": "J"}},
        {"event": "Product Reviewed", "client_id": "c", "properties": {"product_id": "J", "rating": 5}},
    ]
    assert signals.buyers(rows) == ({"J": 2, "K": 1}, 2)


def test_a_cohorts_basis_names_only_the_habits_it_rests_on() -> None:
    from datetime import UTC, datetime

    from maison.personalize.cohort import Cohort

    def basis(*categories: str) -> str:
        return Cohort("c", 0, ("m",) * 25, "v", "d", ("similar_customer_signals", *categories),
                      datetime(2026, 2, 10, tzinfo=UTC)).basis

    assert basis("browsing_behaviour", "content_engagement") == "25 similar clients, who browse and read like you"
    assert "browse" not in basis("content_engagement", "purchase_history", "email_engagement")
    assert basis("email_engagement") == "25 similar clients, who open our emails when you do"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["Order Completed", "Product Viewed"]),
                          st.lists(st.sampled_from(["J", "K", "L", None]), max_size=3), st.booleans()), max_size=25),
       st.sets(st.sampled_from(["a", "b", "c", "d", "e"])))
def test_buyers_among_some_clients_are_the_buyers_of_their_rows(orders, among) -> None:  # type: ignore[no-untyped-def]
    """A job works out what each cohort member bought once and counts any cohort from it: the
    counts must be `buyers` of exactly those members' rows (lines without a product, other events,
    an order without line items carrying its product at the top)."""
    rows = [{"client_id": c, "event": e,
             "properties": {"products": [{"product_id": p} if p else {"quantity": 1} for p in lines]} if listed
             else {"product_id": lines[0] if lines else None}}
            for c, e, lines, listed in orders]
    assert signals.buyers_among(signals.bought_by(rows), sorted(among)) == signals.buyers(
        [r for r in rows if r["client_id"] in among])
