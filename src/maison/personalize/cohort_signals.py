"""What a cohort says about a product, as aggregates only: pure functions over members' reviews.

A member counts once per product (their latest review), so one enthusiastic client cannot tip a
rating. Nothing here returns a member's id, rating or answer: only counts, means, a verdict and
lifts, and only above a minimum number of members, so no individual can be read back out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_RATERS = 20
MIN_FIT_ANSWERS = 20
MIN_BUYERS = 5
MIN_LIFT = 2.0  # a cohort buying a product twice as often as clients overall: a signal worth acting on
FIT_ANSWERS = ("runs small", "true to size", "runs large")
TRUE_TO_SIZE = "true to size"
REVIEWED = "Product Reviewed"  # the event whose rating and fit answer a cohort speaks from


@dataclass(frozen=True, slots=True)
class Review:
    """A member's latest review of one product: the rating (1-5) and the fit answer, if any."""

    rating: int | None
    fit: str | None


@dataclass(frozen=True, slots=True)
class CohortRating:
    mean: float
    count: int


@dataclass(frozen=True, slots=True)
class SizingVerdict:
    verdict: str
    count: int  # fit answers behind the verdict
    votes: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Affinity:
    """How much more a cohort buys a product than the clientele: shares of buyers and their ratio."""

    product_id: str
    members_bought: int
    member_share: float  # of the cohort's buyers
    overall_share: float  # of all buyers
    lift: float


def latest_reviews(rows: Iterable[Mapping[str, Any]], product_id: str) -> dict[str, Review]:
    """Each client's latest `Product Reviewed` of a product (rows in time order, with `client_id`)."""
    found: dict[str, Review] = {}
    for row in rows:
        props = _props(row)
        if row.get("event") != REVIEWED or props.get("product_id") != product_id:
            continue
        rating, fit = props.get("rating"), props.get("fit")
        score = int(rating) if isinstance(rating, int | float) and not isinstance(rating, bool) and 1 <= rating <= 5 \
            else None
        found[str(row["client_id"])] = Review(score, fit if fit in FIT_ANSWERS else None)
    return found


def rating(reviews: Iterable[Review], *, min_count: int = MIN_RATERS) -> CohortRating | None:
    """Mean rating of the members who rated, or None under `min_count` raters."""
    scores = [r.rating for r in reviews if r.rating is not None]
    if len(scores) < min_count:
        return None
    return CohortRating(sum(scores) / len(scores), len(scores))


def sizing(
    reviews: Iterable[Review], *, sizes: tuple[str, ...], min_count: int = MIN_FIT_ANSWERS
) -> SizingVerdict | None:
    """The members' most common fit answer; None for one-size products or under `min_count` answers.

    A tie goes to "true to size": guidance should only move a client off their usual size when
    similar clients clearly say so.
    """
    if len(sizes) < 2:
        return None
    votes = Counter(r.fit for r in reviews if r.fit is not None)
    total = sum(votes.values())
    if total < min_count:
        return None
    top = max(votes.values())
    leaders = [a for a in FIT_ANSWERS if votes.get(a) == top]
    verdict = TRUE_TO_SIZE if len(leaders) > 1 and TRUE_TO_SIZE in leaders else leaders[0]
    return SizingVerdict(verdict, total, dict(votes))


def affinities(member_buyers: Mapping[str, int], member_count: int, all_buyers: Mapping[str, int], all_count: int,
               *, min_buyers: int = MIN_BUYERS, min_lift: float = 0.0) -> dict[str, Affinity]:
    """Per product bought by at least `min_buyers` members, with a lift of at least `min_lift`: share
    of member buyers vs share of all buyers."""
    if member_count <= 0 or all_count <= 0:
        return {}
    found = {}
    for pid, bought in member_buyers.items():
        overall = all_buyers.get(pid, 0)
        if bought < min_buyers or overall <= 0:
            continue
        member_share, overall_share = bought / member_count, overall / all_count
        lift = member_share / overall_share
        if lift >= min_lift:
            found[pid] = Affinity(pid, bought, member_share, overall_share, lift)
    return found


def buyers(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, int], int]:
    """Distinct buyers per product among rows (`Order Completed` with `client_id`), and buyers of anything."""
    bought = bought_by(rows)
    return buyers_among(bought, bought)


def bought_by(rows: Iterable[Mapping[str, Any]]) -> dict[str, frozenset[str]]:
    """The products each client bought among rows (`Order Completed` with `client_id`); clients who
    bought nothing are absent."""
    per: dict[str, set[str]] = {}
    for row in rows:
        products = products_bought(row)
        if products:
            per.setdefault(str(row["client_id"]), set()).update(products)
    return {client: frozenset(pids) for client, pids in per.items()}


def products_bought(row: Mapping[str, Any]) -> set[str]:
    """The products one row says its client bought: the line items of an `Order Completed`."""
    if row.get("event") != "Order Completed":
        return set()
    props = _props(row)
    lines = props.get("products")
    return {pid for line in (lines if isinstance(lines, list) else [props])
            if isinstance(pid := (line.get("product_id") if isinstance(line, Mapping) else None), str)}


def buyers_among(bought: Mapping[str, frozenset[str]], clients: Iterable[str]) -> tuple[dict[str, int], int]:
    """`buyers` of the rows of `clients`, from what each bought (`bought_by`)."""
    counts: Counter[str] = Counter()
    everyone = 0
    for client in clients:
        products = bought.get(client)
        if products:
            counts.update(products)
            everyone += 1
    return dict(counts), everyone


def _props(row: Mapping[str, Any]) -> Mapping[str, Any]:
    props = row.get("properties")
    return props if isinstance(props, Mapping) else {}
