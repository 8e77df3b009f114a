"""L3 picks are not pushed week after week, on SQLite and PostgreSQL.

Lena (Paris, L3 from the day she joined) glanced at classic tailoring in her first month and
studied vintage-inspired pieces in her second, so her digests suggest vintage-inspired pieces she
has never looked at, two a week. The shop has three. Her maison lets a suggested piece rest two
weeks (`MAISON_PERSONALIZE__PICK_REST_WEEKS=2`): the weekly job (`service.produce`, which
records every digest in the decision audit) must not offer a piece again within two weeks of
sending it, may offer it again after that, and a client who saves a suggested piece finds it
among the pieces she is considering.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from helpers import consent_message
from maison.catalog import service as catalog
from maison.core.settings import IngestSettings, get_settings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.personalize import service
from maison.personalize.entities import Digest, Item

REST_WEEKS = 2
FIRST = date(2026, 2, 16)  # Monday of her first digest with two months of trajectory behind it
WEEKS = 5
RECEIVED = datetime(2026, 4, 1, tzinfo=UTC)


def piece(pid: str, subcategory: str, tag: str) -> dict[str, Any]:
    return {"product_id": pid, "name": f"Piece {pid}", "category": "Tailoring", "subcategory": subcategory,
            "price_eur": 600, "tags": [tag], "materials": [subcategory.lower()], "launched_on": "2025-06-01",
            "sizes": ["M"], "stock": {"online": {"M": 3}}}


CATALOG = [
    piece("C-1", "Suits", "classic"), piece("C-2", "Shirts", "classic"),  # month 1: quick looks
    piece("V-1", "Jackets", "vintage-inspired"), piece("V-2", "Coats", "vintage-inspired"),  # month 2: long visits
    # never viewed: what her trajectory suggests
    piece("E-1", "Waistcoats", "vintage-inspired"), piece("E-2", "Trousers", "vintage-inspired"),
    piece("E-3", "Scarves", "vintage-inspired"),
]


def event(user: str, n: int, name: str, at: datetime, **props: Any) -> dict[str, Any]:
    return {"type": "track", "event": name, "userId": user, "messageId": f"{user}-{n}",
            "timestamp": at.isoformat(), "properties": props}


def joined_with_a_turning_taste(user: str) -> list[dict[str, Any]]:
    """L3 from Monday 5 Jan; one view a day: classic pieces in month 1, vintage-inspired in month 2."""
    start = datetime(2026, 1, 5, 19, 0, tzinfo=UTC)  # 20:00 in Paris
    messages = [
        consent_message(at="2026-01-05T09:00:00+01:00", level="L3", userId=user),
        {"type": "identify", "userId": user, "messageId": f"{user}-identify", "timestamp": "2026-01-05T09:01:00+01:00",
         "traits": {"timezone": "Europe/Paris"}},
    ]
    for day, pid in enumerate(["C-1", "C-2"] * 4):
        messages.append(event(user, day, "Product Viewed", start + timedelta(days=day), product_id=pid,
                              dwell_seconds=20))
    for day, pid in enumerate(["V-1", "V-2"] * 4):
        messages.append(event(user, 100 + day, "Product Viewed", start + timedelta(days=28 + day), product_id=pid,
                              dwell_seconds=180))
    return messages


@pytest.fixture
def maison_rests_picks_two_weeks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MAISON_PERSONALIZE__PICK_REST_WEEKS", str(REST_WEEKS))
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("MAISON_PERSONALIZE__PICK_REST_WEEKS")
    get_settings.cache_clear()


@pytest.fixture
def shop(engine: Engine, tmp_path: Path, maison_rests_picks_two_weeks: None) -> Engine:
    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in CATALOG))
    with engine.begin() as conn:
        catalog.import_products(conn, path, now=RECEIVED)
    return engine


def store(engine: Engine, messages: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        result = ingest(conn, messages, source="web", received_at=RECEIVED, limits=IngestSettings(),
                        suppression_key=b"k")
    assert result.accepted == len(messages), result.to_dict()


def weekly_digests(engine: Engine, user: str, weeks: int = WEEKS) -> dict[int, Digest | None]:
    """The weekly job, week after week: each digest composed as of its send and recorded."""
    found = {}
    with engine.begin() as conn:
        client = find_client(conn, user)
        for week in range(1, weeks + 1):
            found[week] = service.produce(conn, client, FIRST + timedelta(weeks=week - 1), week=week)
    return found


def l3_items(digest: Digest | None) -> list[Item]:
    return [i for s in (digest.sections if digest else ()) for i in s.items if s.kind == "identity_predictive"]


def l3_picks(digest: Digest | None) -> set[str]:
    return {i.product_id for i in l3_items(digest)}


def test_a_suggested_piece_rests_for_the_maisons_window_then_may_come_back(shop: Engine) -> None:
    store(shop, joined_with_a_turning_taste("lena"))
    digests = weekly_digests(shop, "lena")
    picks = {week: l3_picks(d) for week, d in digests.items()}
    assert picks[1] and picks[2], picks  # the shop has more than one week's worth of suggestions
    for week in picks:
        for later in range(week + 1, min(week + REST_WEEKS, WEEKS) + 1):
            assert not picks[week] & picks[later], (week, later, picks)
    assert picks[1] & picks[1 + REST_WEEKS + 1], picks  # after the window, the best pieces come back
    viewed = {"C-1", "C-2", "V-1", "V-2"}
    for digest in digests.values():
        for item in l3_items(digest):
            assert item.exploratory and item.product_id not in viewed
            assert "you have not looked at this piece yet" in item.reason.text  # still true when it returns


def test_recomposing_a_past_week_reads_only_the_digests_sent_before_it(shop: Engine) -> None:
    store(shop, joined_with_a_turning_taste("lena"))
    digests = weekly_digests(shop, "lena")
    with shop.connect() as conn:
        again = service.compose_digest(conn, find_client(conn, "lena"), FIRST + timedelta(weeks=1), week=2)
    assert again is not None and digests[2] is not None
    assert again.to_dict() == digests[2].to_dict()


def test_a_client_who_saved_a_suggested_piece_finds_it_among_the_pieces_she_is_considering(shop: Engine) -> None:
    store(shop, joined_with_a_turning_taste("mia"))
    first = weekly_digests(shop, "mia", weeks=1)[1]
    [saved, *_] = sorted(l3_picks(first))
    thursday = datetime(2026, 2, 19, 19, 0, tzinfo=UTC)  # after the first digest's send
    store(shop, [event("mia", 500, "Product Viewed", thursday, product_id=saved, dwell_seconds=90),
                 event("mia", 501, "Product Added to Wishlist", thursday + timedelta(minutes=2), product_id=saved)])
    with shop.begin() as conn:
        second = service.produce(conn, find_client(conn, "mia"), FIRST + timedelta(weeks=1), week=2)
    assert second is not None
    [considered] = [s for s in second.sections if s.kind == "considered_items"]
    [item] = [i for i in considered.items if i.product_id == saved]
    assert not item.exploratory and "saved it Thursday evening" in item.reason.text
    assert {e.message_id for e in item.reason.evidence} >= {"mia-500", "mia-501"}
    assert saved not in l3_picks(second) and not l3_picks(first) - {saved} & l3_picks(second)
