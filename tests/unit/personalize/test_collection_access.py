"""A restricted collection opens from the depth and direction of engagement, never for a price."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from l3_factory import ARCHIVE, CATALOGUE, JOINED, PRODUCTS, SEND, VOCABULARY, ZONE, at, noor_rows, sales
from maison.personalize.collection_access import restricted_collections, unlocked
from maison.personalize.history import from_rows
from maison.personalize.trajectory import trajectory
from maison.personalize.wording import has_discount_language
from personalize_factory import track

NY = ZoneInfo(ZONE)


def months_of(rows):  # type: ignore[no-untyped-def]
    history = from_rows(rows, at=SEND, zone=NY)
    return trajectory(history, joined=JOINED, products=PRODUCTS, sales=sales(), vocabulary=VOCABULARY)


def test_a_collections_signature_is_the_tags_most_of_its_restricted_pieces_carry() -> None:
    assert restricted_collections(CATALOGUE) == {ARCHIVE: ("heritage", "vintage-inspired")}


def test_deeper_engagement_turned_towards_the_collection_opens_it_with_a_reason() -> None:
    [access] = unlocked(months_of(noor_rows()), CATALOGUE, vocabulary=VOCABULARY, at=SEND)
    assert access.collection == ARCHIVE and access.granted_at == SEND
    assert "24 seconds in month 1 to 185 seconds in month 2" in access.reason
    assert "rose from 0% to 88%" in access.reason and "no price benefit" in access.reason
    assert not has_discount_language(access.reason)
    assert access.to_payload()["price_benefit"] is False
    assert "taste_trajectory" in access.data_categories


def test_the_same_quick_looks_every_month_open_nothing() -> None:
    rows = [track("Product Viewed", at(d * 3), product_id="T-3", dwell_seconds=20) for d in range(18)]
    assert unlocked(months_of(rows), CATALOGUE, vocabulary=VOCABULARY, at=SEND) == []


def test_deeper_engagement_elsewhere_opens_nothing() -> None:
    rows = [track("Product Viewed", at(d), product_id="T-1", dwell_seconds=20) for d in range(8)]
    rows += [track("Product Viewed", at(30 + d), product_id="T-2", dwell_seconds=300) for d in range(8)]
    assert unlocked(months_of(rows), CATALOGUE, vocabulary=VOCABULARY, at=SEND) == []


def test_one_month_is_not_a_trajectory() -> None:
    assert unlocked(months_of(noor_rows())[:1], CATALOGUE, vocabulary=VOCABULARY, at=SEND) == []
