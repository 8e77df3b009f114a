"""Alex Morgan's identity-predictive digests (E17-E24, E26, E30) and what L3 derives (E19, E32).

Driven by her real event stream and the values-off variant, through ingestion, consent,
composition and the digest job (`service.produce`, which records digests and derived data).
Each stream is replayed once per backend into its own copy of the scenario template (module
fixtures), because the L3 weeks build on one another (a collection once opened stays open).
Reference ids and values are the README's test data; the product code knows none of them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from maison.catalog.entities import Product
from maison.consent import service as consent
from maison.consent.entities import Use
from maison.consent.purposes import PURPOSES
from maison.consent.rules import may
from maison.identity.service import find_client
from maison.personalize import service
from maison.personalize.entities import Digest, Item
from maison.personalize.wording import has_discount_language
from maison.privacy import export
from maison.privacy import service as privacy
from scenario_run import Run, monday

pytestmark = pytest.mark.scenario

ALEX, TWIN = "cus_a7d3e91c04", "cus_0b58c2e7f1"
START = date(2026, 1, 5)
VALUE_TAGS = {"sustainable", "artisan", "women-owned", "heritage", "repairable", "family-owned"}
AESTHETIC_TAGS = {"minimalist", "architectural", "classic", "vintage-inspired"}
L3_ONLY = {"taste_trajectory", "values_inference", "exploratory_recommendations"}
BEYOND = {"Minimalist Home Decor", "Books & Stationery"}
VALUE_CLAIM = re.compile(r"\byou value\b|\byour values\b|values inferred|values your|care about", re.IGNORECASE)


@pytest.fixture
def base(alex_run: Run) -> Run:
    """Her whole stream, every week's digest produced (recorded) in order (shared, read-only)."""
    return alex_run


@pytest.fixture
def values_off(values_off_run: Run) -> Run:
    """The values-off variant (opt-out Wed 11 Mar 20:30), every week produced as in `base`."""
    return values_off_run


def l3_items(digest: Digest) -> list[Item]:
    return [i for s in digest.sections if s.kind == "identity_predictive" for i in s.items]


def viewed_before(run: Run, at: datetime) -> set[str]:
    return {e["properties"]["product_id"] for e in run.events.values()
            if e.get("event") == "Product Viewed" and e["at"] < at}


# ---------------------------------------------------------------- E18


def test_e18_the_week_9_digest_describes_her_trajectory_by_month(base: Run) -> None:
    trajectory = base.digests[9].trajectory
    assert trajectory is not None
    first, second = trajectory[:2]
    assert [first["month"], second["month"]] == [1, 2] and all(m["complete"] for m in (first, second))
    assert (first["start"], first["end"], second["start"], second["end"]) == (
        "2026-01-05", "2026-02-01", "2026-02-02", "2026-03-01")
    assert first["top_seller_share"] >= 0.6 and first["median_dwell_seconds"] < 60
    assert second["top_seller_share"] <= 0.4
    assert second["median_dwell_seconds"] >= 2 * first["median_dwell_seconds"]
    assert second["value_tagged_share"] >= first["value_tagged_share"] + 0.3
    assert second["content_seconds"] > first["content_seconds"]
    assert second["impact_visits"] == 3
    reference = [(20, 0.80, 34, 0.05, 0.05, 1, 45), (27, 0.19, 96, 0.48, 0.37, 13, 3337)]
    for month, (views, top, dwell, valued, architectural, visits, seconds) in zip(trajectory, reference, strict=False):
        assert month["product_views"] == views and month["median_dwell_seconds"] == dwell
        assert round(month["top_seller_share"], 2) == top and round(month["value_tagged_share"], 2) == valued
        assert round(month["tag_shares"]["architectural"], 2) == architectural
        assert (month["content_visits"], month["content_seconds"]) == (visits, seconds)
        assert "taste_trajectory" in month["data_categories"] and month["text"]
    assert "19% of your views were on best-sellers of the moment (80% before)" in second["text"]


def test_e18_no_trajectory_before_l3(base: Run) -> None:
    assert all(base.digests[week].trajectory is None for week in range(1, 9))
    assert all(base.digests[week].trajectory for week in range(9, 13))


# ---------------------------------------------------------------- E19, E32


def test_e19_atelier_access_is_opened_by_her_trajectory_and_shown_in_settings_and_export(base: Run) -> None:
    week9 = base.digests[9].send_at
    with base.engine.connect() as conn:
        before = privacy.settings(conn, base.client, at=week9 - timedelta(minutes=1))
        after = privacy.settings(conn, base.client, at=week9 + timedelta(minutes=1))
        doc = export.build(conn, base.client, now=base.digests[12].send_at + timedelta(days=1))
    assert before["collection_access"] == []
    assert after["collection_access"] == ["Atelier Collection"]
    [grant] = after["collection_access_reasons"]
    assert "taste trajectory" in grant["reason"] and "month 1" in grant["reason"] and "month 2" in grant["reason"]
    assert "no price benefit" in grant["reason"] and grant["price_benefit"] is False
    assert not has_discount_language(grant["reason"])
    derived = doc["derived"]
    assert derived["collection_access"] == ["Atelier Collection"]
    assert [m["month"] for m in derived["trajectory"]][:2] == [1, 2]
    assert {v["value"] for v in derived["inferred_values"]} <= VALUE_TAGS and derived["inferred_values"]


def test_e19_no_restricted_piece_before_her_access_nor_ever_to_the_twin(base: Run) -> None:
    restricted = {pid for pid, p in base.products.items() if p.access_restricted}
    assert all(not restricted & {i.product_id for i in base.digests[w].items} for w in range(1, 9))
    assert restricted & {i.product_id for w in range(9, 13) for i in base.digests[w].items}
    with base.engine.connect() as conn:
        twin = find_client(conn, TWIN)
        for week in range(9, 13):
            digest = service.compose_digest(conn, twin, monday(week), week=week)
            assert digest is not None and not restricted & {i.product_id for i in digest.items}


# ---------------------------------------------------------------- E16, E17, E20


def test_e16_l2_weeks_use_no_l3_purpose_and_e17_nothing_bought_is_offered_again(base: Run) -> None:
    for week in range(5, 9):
        for item in base.digests[week].items:
            assert not L3_ONLY & set(item.reason.data_categories) and not item.exploratory
    bought = {(e["at"], line["product_id"]) for e in base.events.values() if e.get("event") == "Order Completed"
              for line in e["properties"]["products"]}
    for week in range(5, 13):
        digest = base.digests[week]
        assert not {pid for at, pid in bought if at < digest.send_at} & {i.product_id for i in digest.items}, week


def test_e20_each_l3_week_has_an_honest_exploratory_pick_and_everything_else_has_her_evidence(base: Run) -> None:
    for week in range(9, 13):
        digest = base.digests[week]
        exploratory = [i for i in digest.items if i.exploratory]
        assert exploratory, week
        for item in exploratory:
            assert "exploratory" in item.reason.text and "exploratory_recommendations" in item.reason.data_categories
        for item in digest.items:
            if not item.exploratory:
                assert item.reason.evidence, (week, item.product_id)
            for evidence in item.reason.evidence:
                assert base.events[evidence.message_id]["at"] < digest.send_at  # E25: hers, before the send
    [pick] = [i for i in base.digests[9].items if i.exploratory and "architectural" in i.reason.attributes_cited]
    assert pick.product_id not in viewed_before(base, base.digests[9].send_at)
    assert "architectural pieces rose from 5% in month 1 to 37% in month 2" in pick.reason.text
    assert "architectural" in base.products[pick.product_id].tags


# ---------------------------------------------------------------- E21


def test_e21_a_values_pick_from_a_category_she_never_browsed(base: Run) -> None:
    digest = base.digests[9]
    browsed = {base.products[pid].category for pid in viewed_before(base, digest.send_at)}
    [pick] = [i for i in l3_items(digest) if "values_inference" in i.reason.data_categories
              and base.products[i.product_id].category not in browsed]
    product = base.products[pick.product_id]
    assert f"no browsing history in {product.category}" in pick.reason.text
    assert pick.reason.inferred_values and set(pick.reason.inferred_values) <= set(product.tags) & VALUE_TAGS
    assert pick.reason.evidence
    for evidence in pick.reason.evidence:
        saved = base.events[evidence.message_id]
        assert saved["event"] == "Product Added to Wishlist"
        assert set(base.products[saved["properties"]["product_id"]].tags) & set(pick.reason.inferred_values)


# ---------------------------------------------------------------- E22


def test_e22_a_pick_no_browsing_of_hers_supports_says_so(base: Run) -> None:
    pytest.importorskip("maison.personalize.cohort", reason="the similar-customer cohort slice has not landed")
    found = [(w, i) for w in range(10, 13) for i in base.digests[w].items
             if i.exploratory and not i.reason.evidence and "similar_customer_signals" in i.reason.data_categories]
    assert found
    for week, item in found:
        assert "none of your own browsing supports it" in item.reason.text and "similar interests" in item.reason.text
        assert item.product_id not in viewed_before(base, base.digests[week].send_at)


# ---------------------------------------------------------------- E23, E24


def provenance(product: Product) -> set[str]:
    return {x for x in (product.maker, *product.certifications) if x} | ({"artisan"} & set(product.tags))


def test_e23_week_10_reaches_beyond_the_wardrobe_with_aesthetic_and_provenance(base: Run) -> None:
    beyond = []
    for item in l3_items(base.digests[10]):
        product, cited = base.products[item.product_id], set(item.reason.attributes_cited)
        if product.category in BEYOND and cited & AESTHETIC_TAGS and cited & provenance(product):
            assert cited & AESTHETIC_TAGS <= set(product.tags), item.product_id
            assert all(c in item.reason.text for c in cited), item.product_id
            beyond.append(item.product_id)
    assert len(beyond) >= 2


def test_e24_week_12_joins_aesthetics_and_values_each_cited_attribute_on_the_piece(base: Run) -> None:
    joined = []
    for item in l3_items(base.digests[12]):
        product, cited = base.products[item.product_id], set(item.reason.attributes_cited)
        tags = set(product.tags) | set(product.certifications) | {product.maker} | set(product.collections)
        assert cited <= tags, (item.product_id, cited - tags)  # E25: every cited attribute is the piece's
        if cited & {"minimalist", "architectural"} and len(cited & {"artisan", "sustainable", "women-owned"}) >= 2:
            joined.append(item.product_id)
    assert len(joined) >= 2


# ---------------------------------------------------------------- E26


def test_e26_every_l3_item_lists_purposes_granted_and_allowed_at_the_send(base: Run) -> None:
    with base.engine.connect() as conn:
        for week in range(9, 13):
            digest = base.digests[week]
            state = consent.state(conn, base.client, digest.send_at)
            for item in digest.items:
                product = base.products[item.product_id]
                assert item.reason.text and item.reason.data_categories
                assert all(p in PURPOSES and may(state, p, Use.PERSONALIZE) for p in item.reason.data_categories)
                assert product.in_stock_online() and item.price_eur == product.price  # E27, E28
                assert set(item.available_sizes) == set(product.online_sizes_in_stock())
            assert not [t for t in digest.texts() if has_discount_language(t)]


# ---------------------------------------------------------------- E30


def test_e30_after_the_values_opt_out_nothing_claims_to_know_her_values(base: Run, values_off: Run) -> None:
    for week in range(1, 11):  # the change is in the future of all of them
        one, other = values_off.digests[week].to_dict(), base.digests[week].to_dict()
        assert one == other, [(a["product_id"], a["reason"]["text"], b["reason"]["text"])
                              for x, y in zip(one["sections"], other["sections"], strict=False)
                              for a, b in zip(x["items"], y["items"], strict=False) if a != b]
    for week in (11, 12):
        digest = values_off.digests[week]
        for item in digest.items:
            assert "values_inference" not in item.reason.data_categories and item.reason.inferred_values == ()
        assert not [t for t in digest.texts() if VALUE_CLAIM.search(t)]
        assert digest.trajectory and any(i.exploratory for i in digest.items)
        browsed = {base.products[pid].category for pid in viewed_before(values_off, digest.send_at)}
        assert not [i for i in digest.items if base.products[i.product_id].category not in browsed
                    and "no browsing history" in i.reason.text]  # the week-9 pattern does not recur
    assert any("values_inference" in i.reason.data_categories for i in base.digests[11].items)
    with values_off.engine.connect() as conn:
        settings = privacy.settings(conn, values_off.client, at=values_off.digests[11].send_at)
        doc = export.build(conn, values_off.client, now=values_off.digests[12].send_at + timedelta(days=1))
    [row] = [p for p in settings["purposes"] if p["purpose"] == "values_inference"]
    assert row["granted"] is False and row["changed_at"] == "2026-03-11T20:30:00+00:00"
    assert doc["derived"]["inferred_values"] == []
