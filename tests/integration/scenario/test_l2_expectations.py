"""Alex Morgan's behaviour-adaptive digests (E9-E13, E16, E17, E25, E31's digest half).

Driven by her real event stream (and the browsing-off variant) through ingestion, consent and
composition. Reference ids and values are the README's test data; the product code knows none
of them. Every claim a reason makes about her is checked against her own events here.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from maison.catalog import service as catalog
from maison.catalog.entities import Product
from maison.consent import service as consent
from maison.consent.entities import Use
from maison.consent.purposes import PURPOSES
from maison.consent.rules import may
from maison.core.clock import part_of_day
from maison.identity.service import find_client
from maison.personalize.entities import WEEKDAYS, Digest, Section
from maison.personalize.shop import market_signals
from maison.personalize.top_sellers import top_sellers
from maison.personalize.wording import has_discount_language
from scenario_run import Run

pytestmark = pytest.mark.scenario

ALEX = "cus_a7d3e91c04"
LONDON = ZoneInfo("Europe/London")
START = date(2026, 1, 5)
L3_ONLY = {"taste_trajectory", "values_inference", "exploratory_recommendations"}
JEWELLERY = "Artisan Jewellery"


def monday(week: int) -> date:
    return START + timedelta(days=7 * (week - 1))


def digests(run: Run, weeks: range | list[int]) -> dict[int, Digest]:
    """The weeks' digests as the weekly job produced them (the run is shared: read only)."""
    return {week: run.digests[week] for week in weeks}


def products(engine: Engine) -> dict[str, Product]:
    with engine.connect() as conn:
        return {p.product_id: p for p in catalog.list_products(conn)}


def stream(scenario_dir: Path, name: str = "alex-morgan.ndjson") -> dict[str, dict[str, Any]]:
    """Her events by messageId, with the parsed instant."""
    lines = [json.loads(line) for line in (scenario_dir / name).read_text().splitlines()]
    return {e["messageId"]: {**e, "at": datetime.fromisoformat(e["timestamp"])} for e in lines}


def sections(digest: Digest, kind: str) -> list[Section]:
    return [s for s in digest.sections if s.kind == kind]


def one(digest: Digest, kind: str) -> Section:
    [section] = sections(digest, kind)
    return section


def test_e9_the_cardigan_she_keeps_returning_to_with_her_visits_and_sizes(alex_run, scenario_dir):  # type: ignore[no-untyped-def]
    digest = digests(alex_run, [6])[6]
    mine = stream(scenario_dir)
    [cardigan] = [i for i in one(digest, "considered_items").items if i.product_id == "KN-001"]
    assert cardigan.price_eur == 580 and list(cardigan.available_sizes) == ["M", "L"]
    assert "browsing_behaviour" in cardigan.reason.data_categories
    evidence = [e.to_dict() for e in cardigan.reason.evidence]
    told = [(mine[e["message_id"]].get("event"), e["weekday"], e["part_of_day"]) for e in evidence]
    expected = [("Product Viewed", "Thursday", "evening"), ("Product Viewed", "Saturday", "afternoon"),
                ("Product Added to Wishlist", "Monday", "morning")]
    positions = [told.index(step) for step in expected]
    assert positions == sorted(positions)  # in time order, other events may stand between
    assert [mine[evidence[p]["message_id"]]["at"].astimezone(LONDON).strftime("%d %H:%M") for p in positions] == [
        "05 20:18", "07 15:05", "09 08:12"]
    text = cardigan.reason.text
    assert text.index("Thursday evening") < text.index("Saturday afternoon") < text.index("Monday morning")


def test_e10_the_search_quoted_with_in_stock_pairings_for_the_occasion(alex_run):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine
    section = one(digests(alex_run, [6])[6], "search_coordinates")
    catalogue = products(scenario_engine)
    assert '"office to dinner outfits"' in section.text
    ids = [i.product_id for i in section.items]
    assert {"WW-004", "KN-002"} <= set(ids) and "WW-008" not in ids
    for item in section.items:
        product = catalogue[item.product_id]
        assert product.in_stock_online() and item.product_id in catalogue["KN-001"].pairs_with
        assert "office-to-dinner" in product.tags and "search_history" in item.reason.data_categories
        assert item.price_eur == product.price
    assert [i.price_eur for i in section.items if i.product_id in ("WW-004", "KN-002")] == [420, 280]


def test_e11_sourcing_reading_leads_to_new_conscious_collection_pieces(alex_run, scenario_dir):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine
    digest = digests(alex_run, [6])[6]
    section = one(digest, "content_new_arrivals")
    catalogue = products(scenario_engine)
    send = digest.send_at
    expected = {pid for pid, p in catalogue.items() if "Conscious Collection" in p.collections
                and p.in_stock_online() and p.launched_on and send.date() - timedelta(days=30) <= p.launched_on}
    assert expected == {"WW-006", "KN-003", "OW-001", "DR-001"}
    assert {i.product_id for i in section.items} == expected  # not WW-023 (sold out), not OW-012 (2025)
    assert "Conscious Collection" in section.title + section.text
    visits = [e for e in stream(scenario_dir).values() if e.get("name") == "Materials & Sourcing" and e["at"] < send]
    minutes, rest = divmod(sum(e["properties"]["dwell_seconds"] for e in visits), 60)
    assert f"over {['no', 'one', 'two', 'three'][len(visits)]} visits" in section.text
    for item in section.items:
        assert "content_engagement" in item.reason.data_categories
        assert "Materials & Sourcing" in item.reason.text and f"{minutes} minutes {rest} seconds" in item.reason.text


def test_e12_the_abandoned_cart_is_followed_up_once_with_its_total(alex_run):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine
    found = digests(alex_run, range(5, 13))
    catalogue = products(scenario_engine)
    section = one(found[7], "abandoned_cart")
    assert [i.product_id for i in section.items] == ["KN-001", "WW-004"]  # not the turtleneck she removed
    assert "(size M)" in section.text and "(size S)" in section.text
    assert section.cart_total_eur == 1000 == sum(catalogue[i.product_id].price for i in section.items)
    assert "EUR 1,000" in section.text
    [link] = section.links
    assert (link.kind, link.path) == ("styling_guide", "/styling/charcoal-desk-to-dinner")
    with scenario_engine.connect() as conn:
        guide = next(p for p in catalog.list_content_pages(conn) if p.path == link.path)
    assert {"KN-001", "WW-004"} <= set(guide.features_products)
    assert all("cart_activity" in i.reason.data_categories for i in section.items)
    assert [w for w, d in found.items() if sections(d, "abandoned_cart")] == [7]


def test_e13_jewellery_surfaces_only_after_her_own_browsing_and_says_so(alex_run, scenario_dir):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine
    found = digests(alex_run, range(5, 9))
    catalogue = products(scenario_engine)
    for week in (5, 6, 7):
        assert not [i for i in found[week].items if catalogue[i.product_id].category == JEWELLERY], week
    section = one(found[8], "browsing_new_category")
    ids = {i.product_id for i in section.items}
    assert len(ids & {"AJ-101", "AJ-102", "AJ-103"}) >= 2
    with scenario_engine.connect() as conn:
        signals = market_signals(conn, at=found[8].send_at)
    sellers = {p.product_id for p in top_sellers(list(catalogue.values()), signals, category=JEWELLERY)}
    assert not ids & sellers
    mine = stream(scenario_dir)
    subcategories = {"Silver Architectural Rings", "Minimalist Necklaces", "Statement Earrings"}
    for item in section.items:
        assert "browsing_behaviour" in item.reason.data_categories
        assert "not one of the categories you chose" in item.reason.text and "your own browsing" in item.reason.text
        browsed = set()
        for e in item.reason.evidence:
            event = mine[e.message_id]
            assert event["at"] < found[8].send_at and event["event"] in ("Product List Viewed", "Product Viewed")
            props = event["properties"]
            browsed.add(props.get("subcategory") or catalogue[props["product_id"]].subcategory
                        if "product_id" in props else props.get("subcategory"))
        assert subcategories <= browsed


def test_e16_e17_l2_stays_within_l2_and_bought_pieces_are_not_offered_again(alex_run):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine
    found = digests(alex_run, range(5, 13))
    catalogue = products(scenario_engine)
    for week in range(5, 9):
        for item in found[week].items:
            assert not L3_ONLY & set(item.reason.data_categories) and not item.exploratory, (week, item.product_id)
            assert "Atelier Collection" not in catalogue[item.product_id].collections
    for week, digest in found.items():
        ids = {i.product_id for i in digest.items}
        assert "PA-003" not in ids, week
        if digest.send_at > datetime.fromisoformat("2026-03-07T15:24:00+00:00"):
            assert "HD-004" not in ids, week
        assert len(ids) == len(digest.items), week  # no product twice


def test_e25_e26_e27_e28_every_l2_claim_is_true(alex_run, scenario_dir):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine
    found = digests(alex_run, range(5, 9))
    assert_claims_true(scenario_engine, found, stream(scenario_dir))


def assert_claims_true(engine: Engine, found: dict[int, Digest], mine: dict[str, dict[str, Any]]) -> None:
    catalogue = products(engine)
    queries = {e["properties"]["query"] for e in mine.values() if e.get("event") == "Products Searched"}
    for week, digest in found.items():
        with engine.connect() as conn:
            state = consent.state(conn, find_client(conn, ALEX), digest.send_at)
        assert [t for t in digest.texts() if has_discount_language(t)] == [], week  # E28
        for section in digest.sections:
            for quoted in re.findall(r'"([^"]+)"', section.title + section.text):
                assert quoted in queries or any(quoted == p.name for p in _pages(engine)), quoted
        for item in digest.items:
            product = catalogue[item.product_id]
            assert product.in_stock_online() and not product.access_restricted  # E27
            assert set(item.available_sizes) == set(product.online_sizes_in_stock())
            assert item.price_eur == product.price  # E28
            assert item.reason.text and item.reason.data_categories  # E26
            assert all(p in PURPOSES and may(state, p, Use.PERSONALIZE) for p in item.reason.data_categories)
            facts = {*product.tags, *product.certifications, *product.collections, *product.materials}
            assert set(item.reason.attributes_cited) <= facts, (week, item.product_id)  # E25
            for amount in re.findall(r"EUR ([\d,]+)", item.reason.text):
                assert int(amount.replace(",", "")) == product.price
            for when in re.findall(r"New on (\d+ \w+)", item.reason.text):
                assert product.launched_on is not None and when == f"{product.launched_on.day} {product.launched_on:%B}"
            told = set()
            for e in item.reason.evidence:
                if e.event == "identify":
                    continue
                event = mine[e.message_id]  # a real event of hers, before the send
                assert event["at"] < digest.send_at
                local = event["at"].astimezone(LONDON)
                assert (e.to_dict()["weekday"], e.to_dict()["part_of_day"]) == (WEEKDAYS[local.weekday()],
                                                                                  part_of_day(local))
                told.add(f"{WEEKDAYS[local.weekday()]}")
            for day in re.findall(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b", item.reason.text):
                assert day in told or item.reason.evidence[0].event == "identify", (week, item.product_id, day)


def _pages(engine: Engine) -> list:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return list(catalog.list_content_pages(conn))


def test_e31_browsing_switched_off_leaves_no_trace_in_later_digests(browsing_off_run, scenario_dir):  # type: ignore[no-untyped-def]
    scenario_engine = browsing_off_run.engine
    found = digests(browsing_off_run, range(6, 13))
    catalogue = products(scenario_engine)
    assert sections(found[6], "considered_items")  # before the opt-out
    for week in range(7, 13):
        digest = found[week]
        assert not sections(digest, "considered_items"), week
        assert "browsing_behaviour" not in digest.data_categories(), week
        assert not [i for i in digest.items if catalogue[i.product_id].category == JEWELLERY], week
        assert digest.send_at.astimezone(LONDON).strftime("%a %H:%M") == found[6].send_at.astimezone(
            LONDON).strftime("%a %H:%M")
    cart = one(found[7], "abandoned_cart")
    assert cart.cart_total_eur == 1000 and [i.product_id for i in cart.items] == ["KN-001", "WW-004"]
    assert_claims_true(scenario_engine, {w: found[w] for w in (7, 8)},
                       stream(scenario_dir, "variants/browsing-off-week6.ndjson"))
