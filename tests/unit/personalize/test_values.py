"""Values inference: value tags her attention leans towards, with a confidence (pure)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from l3_factory import PAGES, PRODUCTS, SEND, VOCABULARY, ZONE, at, noor_rows
from maison.personalize.history import from_rows
from maison.personalize.values import infer, scores
from personalize_factory import page, track

NY = ZoneInfo(ZONE)


def test_long_visits_saves_and_reading_make_heritage_her_strongest_value() -> None:
    found = {v.tag: v for v in scores(from_rows(noor_rows(), at=SEND, zone=NY), products=PRODUCTS, pages=PAGES,
                                      vocabulary=VOCABULARY)}
    heritage, family, repairable = found["heritage"], found["family-owned"], found["repairable"]
    assert heritage.confidence > family.confidence > repairable.confidence > 0
    assert [m.product_id for m in heritage.saves] == ["T-4", "S-2"]
    assert [m.product_id for m in family.saves] == ["T-4"]
    assert heritage.data_categories == ("values_inference", "browsing_behaviour", "content_engagement")


def test_only_values_from_the_minimum_confidence_up_are_inferred() -> None:
    inferred = infer(from_rows(noor_rows(), at=SEND, zone=NY), products=PRODUCTS, pages=PAGES, vocabulary=VOCABULARY)
    assert [v.tag for v in inferred] == ["heritage", "family-owned"]
    assert all(v.confidence >= VOCABULARY.values_min_confidence for v in inferred)


def test_only_the_vocabularys_value_tags_are_ever_inferred() -> None:
    found = scores(from_rows(noor_rows(), at=SEND, zone=NY), products=PRODUCTS, pages=PAGES, vocabulary=VOCABULARY)
    assert {v.tag for v in found} <= VOCABULARY.value_tags  # never an aesthetic tag such as vintage-inspired


def test_a_few_quick_glances_infer_nothing() -> None:
    rows = [track("Product Viewed", at(d), product_id="T-3", dwell_seconds=15) for d in range(2)]
    rows += [track("Product Viewed", at(d + 2), product_id="T-1", dwell_seconds=40) for d in range(6)]
    history = from_rows(rows, at=SEND, zone=NY)
    assert infer(history, products=PRODUCTS, pages=PAGES, vocabulary=VOCABULARY) == []


def test_reading_counts_only_for_values_content_about_those_values() -> None:
    about = [page("/heritage-crafts", at(30 + d), dwell=300, content_type="sourcing") for d in range(5)]
    other = [page("/report", at(30 + d), dwell=300, content_type="report") for d in range(5)]
    read = scores(from_rows(about, at=SEND, zone=NY), products=PRODUCTS, pages=PAGES, vocabulary=VOCABULARY)
    assert {v.tag for v in read} == {"heritage", "family-owned"}
    assert scores(from_rows(other, at=SEND, zone=NY), products=PRODUCTS, pages=PAGES, vocabulary=VOCABULARY) == []
