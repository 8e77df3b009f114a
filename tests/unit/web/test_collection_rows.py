"""Collections opened to the client, as the privacy dashboard words them (pure)."""

from __future__ import annotations

from typing import Any

from maison.personalize.collection_access import NO_PRICE_BENEFIT as RECORDED
from maison.web.rules import NO_PRICE_BENEFIT, PRICE_BENEFIT_RECORDED, collection_rows


def grant(collection: str, **extra: Any) -> dict[str, Any]:
    return {"collection": collection, "granted_at": "2026-03-03T19:15:00+00:00", "signature_tag": "sculptural",
            "reason": f"Opened from your taste trajectory: ... rose from 4% to 41%. {RECORDED}", "price_benefit": False,
            "data_categories": ["browsing_behaviour", "taste_trajectory"], **extra}


def test_a_grant_reads_as_what_opened_when_why_and_the_price_said_once() -> None:
    [row] = collection_rows([grant("Studio Line")])
    assert (row.collection, row.opened, row.direction) == ("Studio Line", "3 March 2026, 19:15 UTC", "sculptural")
    assert row.reason == "Opened from your taste trajectory: ... rose from 4% to 41%."
    assert row.price == NO_PRICE_BENEFIT and row.categories == ["Browsing", "How your taste evolves"]


def test_a_collection_shows_once_at_its_first_opening_and_unreadable_rows_are_skipped() -> None:
    rows = collection_rows([grant("Studio Line"), "garbage", {"reason": "no collection"},
                            grant("Studio Line", granted_at="2026-04-01T10:00:00+00:00"), grant("Archive")])
    assert [(r.collection, r.opened) for r in rows] == [("Studio Line", "3 March 2026, 19:15 UTC"),
                                                        ("Archive", "3 March 2026, 19:15 UTC")]


def test_a_recorded_price_benefit_is_shown_as_recorded_not_hidden() -> None:
    [row] = collection_rows([grant("Studio Line", price_benefit=True)])
    assert row.price == PRICE_BENEFIT_RECORDED
