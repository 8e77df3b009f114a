"""The L3 `identity_predictive` section on a client unlike the scenario's (pure)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from l3_factory import ARCHIVE, CATALOGUE, SEND, ZONE, at, identity, noor_rows
from maison.consent.purposes import PURPOSES
from maison.personalize.composer import DigestInputs
from maison.personalize.entities import Item
from maison.personalize.l3_inputs import CohortAffinity
from maison.personalize.repeats import SentPick
from maison.personalize.sections.identity_predictive import build
from maison.personalize.wording import has_discount_language
from personalize_factory import inputs, product, track

ALL = frozenset(PURPOSES)
VALUE_CLAIM = re.compile(r"\byou value\b|\byour values\b|values inferred|values your", re.IGNORECASE)


def section_for(rows=None, *, allowed=ALL, cohort=None, recorded=frozenset()):  # type: ignore[no-untyped-def]
    base = inputs(rows if rows is not None else noor_rows(), CATALOGUE, at=SEND, zone=ZONE, level="L3",
                  allowed=sorted(allowed))
    assert base.history is not None
    found: DigestInputs = replace(base, identity=identity(base.history, allowed=allowed, cohort=cohort,
                                                          recorded=recorded))
    return build(found), found


def items(rows=None, **kw) -> dict[str, Item]:  # type: ignore[no-untyped-def]
    sections, _ = section_for(rows, **kw)
    return {i.product_id: i for s in sections for i in s.items}


def test_one_identity_predictive_section_whose_items_list_only_allowed_purposes() -> None:
    sections, found = section_for()
    [section] = sections
    assert section.kind == "identity_predictive"
    own = {m.message_id for m in found.history or ()}
    for item in section.items:
        assert item.reason.text and set(item.reason.data_categories) <= ALL
        assert {e.message_id for e in item.reason.evidence} <= own
        assert item.exploratory or item.reason.evidence, item.product_id  # E20
        assert not has_discount_language(item.reason.text)


def test_exploratory_pick_is_never_viewed_and_rests_on_the_rising_aesthetic() -> None:
    pick = items()["T-5"]
    assert pick.exploratory and "exploratory" in pick.reason.text
    assert "vintage-inspired pieces rose from 0% in month 1 to 88% in month 2" in pick.reason.text
    assert "exploratory_recommendations" in pick.reason.data_categories
    viewed = {r["properties"].get("product_id") for r in noor_rows() if r.get("event") == "Product Viewed"}
    assert "T-5" not in viewed


def test_values_pick_comes_from_a_category_she_never_browsed_with_her_saves_as_evidence() -> None:
    pick = items()["B-1"]
    assert pick.exploratory and "no browsing history in Bags" in pick.reason.text
    assert pick.reason.inferred_values == ("heritage", "family-owned")
    assert "values_inference" in pick.reason.data_categories
    assert {e.event for e in pick.reason.evidence} == {"Product Added to Wishlist"}


def test_a_cohort_pick_has_no_evidence_and_says_none_of_her_browsing_supports_it() -> None:
    cohort = CohortAffinity(60, {"J-1": (12, 3.5), "T-1": (30, 5.0), "H-3": (2, 9.0)})
    pick = items(cohort=cohort)["J-1"]  # T-1 she viewed; H-3 has too few buyers
    assert pick.exploratory and pick.reason.evidence == ()
    assert "none of your own browsing supports it" in pick.reason.text and "similar interests" in pick.reason.text
    assert "12 of the 60 clients" in pick.reason.text and "3.5 times" in pick.reason.text
    assert set(pick.reason.data_categories) == {"exploratory_recommendations", "similar_customer_signals"}
    assert "T-1" not in items(cohort=cohort)


def test_beyond_the_wardrobe_reaches_lifestyle_pieces_citing_aesthetic_and_provenance() -> None:
    found = items()
    for pid, fact in (("H-1", "glassworks, Murano"), ("H-2", "heritage weavers, Harris")):
        reason = found[pid].reason
        assert "vintage-inspired" in reason.text and fact in reason.text and fact in reason.attributes_cited
    assert "H-3" not in found  # classic is not what she favours now, and it has no provenance fact


def test_restricted_pieces_only_once_her_trajectory_opened_their_collection() -> None:
    sections, found = section_for()
    assert found.identity is not None and found.identity.collections == {ARCHIVE}
    assert "A-1" in {i.product_id for i in sections[0].items}
    closed = replace(found, identity=replace(found.identity, collections=frozenset(), access=()))
    offered = {i.product_id for s in build(closed) for i in s.items}
    assert offered and not offered & {p.product_id for p in CATALOGUE if p.access_restricted}


def test_bought_and_out_of_stock_pieces_are_never_offered() -> None:
    order = track("Order Completed", at(50), order_id="o1", products=[{"product_id": "T-5", "quantity": 1}])
    found = items([*noor_rows(), order])
    assert "T-5" not in found and "X-1" not in found


def test_with_values_inference_off_nothing_claims_to_know_her_values() -> None:
    found = items(allowed=ALL - {"values_inference"})
    assert found and "B-1" not in found  # its only basis was values inference
    sections, _ = section_for(allowed=ALL - {"values_inference"})
    for item in found.values():
        assert "values_inference" not in item.reason.data_categories and item.reason.inferred_values == ()
        assert not VALUE_CLAIM.search(item.reason.text), item.reason.text
    assert not VALUE_CLAIM.search(sections[0].text)


def test_no_section_without_the_taste_trajectory() -> None:
    assert section_for(allowed=ALL - {"taste_trajectory"})[0] == []


# ---------------------------------------------------------------- not the same pieces every week


def with_earlier(found: DigestInputs, *, sent: tuple[str, ...] = (), shown: frozenset[str] = frozenset(),
                 weeks: int = 4) -> dict[str, Item]:
    """Her L3 picks when the digest a week before sent `sent` and earlier sections hold `shown`."""
    picks = tuple(SentPick(pid, SEND - timedelta(weeks=1)) for pid in sent)
    sections = build(replace(found, sent_picks=picks, pick_rest_weeks=weeks, shown=shown))
    return {i.product_id: i for s in sections for i in s.items}


def test_a_piece_sent_last_week_is_not_offered_again_and_the_picker_takes_the_next_one() -> None:
    _, found = section_for()
    before = with_earlier(found)
    assert {"T-5", "H-1"} <= set(before)
    after = with_earlier(found, sent=("T-5", "H-1"))
    assert not {"T-5", "H-1"} & set(after)
    assert any(i.exploratory and "exploratory" in i.reason.text for i in after.values())
    assert with_earlier(found, sent=("T-5", "H-1"), weeks=0).keys() == before.keys()  # a maison that allows repeats


def test_a_piece_she_viewed_since_it_was_sent_may_be_offered_again() -> None:
    seen = track("Product Viewed", SEND - timedelta(days=3), product_id="H-1", dwell_seconds=40)
    _, found = section_for([*noor_rows(), seen])
    assert "H-1" in with_earlier(found, sent=("H-1",))


def test_a_piece_an_earlier_section_shows_leaves_its_slot_to_another() -> None:
    catalogue = [*CATALOGUE, product("H-4", "Home", subcategory="Ceramics", tags=("vintage-inspired",),
                                     maker="pottery, Stoke")]
    _, found = section_for()
    found = replace(found, products=catalogue)
    beyond = {pid for pid, i in with_earlier(found).items() if i.reason.text.startswith("Beyond your wardrobe")}
    assert beyond == {"H-1", "H-2"}
    shown = {pid for pid, i in with_earlier(found, shown=frozenset({"H-1"})).items()
             if i.reason.text.startswith("Beyond your wardrobe")}
    assert shown == {"H-2", "H-4"}  # two pieces beyond the wardrobe still, none of them shown twice


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.35, 0.6, 1.0]), min_size=1, max_size=30),
       st.lists(st.booleans(), min_size=30, max_size=30), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_the_shelf_hands_a_picker_every_piece_that_can_rank_in_its_exact_top_n(
    exact: list[float], masked: list[bool], n: int, seed: int
) -> None:
    """Pickers score the whole shelf with NumPy (terms summed in another order) and rank only the
    pieces near the cut exactly: every piece of the exact top `n` (ties included) must be handed over."""
    import random

    import numpy as np

    from maison.personalize.sections.identity_predictive import Shelf
    from personalize_factory import product

    pieces = [product(f"S-{i:02d}") for i in range(len(exact))]
    shelf = Shelf(pieces, SEND.date())
    rng = random.Random(seed)
    approx = np.array([x + rng.choice([-1, 0, 1]) * 4e-16 * (1 + x) for x in exact])  # rounding-sized errors
    mask = np.array(masked[: len(exact)])
    handed = {p.product_id for p in shelf.near_best(mask, approx, n)}
    under = [(x, p.product_id) for x, p, m in zip(exact, pieces, mask, strict=True) if m]
    if not under:
        assert handed == set()
        return
    cut = sorted((x for x, _ in under), reverse=True)[min(n, len(under)) - 1]
    assert {pid for x, pid in under if x >= cut} <= handed <= {pid for _, pid in under}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["Knitwear", "Home", "Bags", "Shoes"]), max_size=12),
       st.sets(st.sampled_from(["Knitwear", "Home", "Bags", "Shoes", "Nowhere"])))
def test_the_shelf_finds_the_pieces_of_any_categories_asked(categories: list[str], asked: set[str]) -> None:
    """Categories the shelf does not hold, or none at all, select nothing; an empty shelf answers empty."""
    from maison.personalize.sections.identity_predictive import Shelf
    from personalize_factory import product

    pieces = [product(f"C-{i:02d}", category) for i, category in enumerate(categories)]
    found = Shelf(pieces, SEND.date()).in_categories(asked)
    assert found.tolist() == [p.category in asked for p in pieces]
