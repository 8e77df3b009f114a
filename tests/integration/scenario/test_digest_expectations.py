"""Alex Morgan's digests (E2-E8, E26-E28), driven by her real event stream.

The reference product ids below are the README's test data; the product code knows none of
them. Each test computes only the weeks it asserts.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from maison.catalog import service as catalog
from maison.consent import service as consent
from maison.consent.entities import Use
from maison.consent.purposes import PURPOSES
from maison.consent.rules import may
from maison.core.schema import decisions
from maison.identity.service import find_client
from maison.ingest.importer import import_file
from maison.personalize import derived, service
from maison.personalize.entities import Digest
from maison.personalize.shop import market_signals
from maison.personalize.top_sellers import label_holds
from maison.personalize.wording import has_discount_language

pytestmark = pytest.mark.scenario

ALEX, TWIN = "cus_a7d3e91c04", "cus_0b58c2e7f1"
LONDON = ZoneInfo("Europe/London")
START = date(2026, 1, 5)  # Monday of week 1
WW, HD, PA = "Women's Workwear", "Minimalist Home Decor", "Premium Accessories"
L1_REFERENCE = {
    1: {WW: ["WW-003", "WW-001", "WW-002"], HD: ["HD-002", "HD-001", "HD-003"], PA: ["PA-003", "PA-001", "PA-002"]},
    2: {WW: ["WW-003", "WW-001", "WW-002"], HD: ["HD-002", "HD-001", "HD-003"], PA: ["PA-001", "PA-003", "PA-002"]},
    3: {WW: ["WW-003", "WW-001", "WW-002"], HD: ["HD-002", "HD-001", "HD-003"], PA: ["PA-001", "PA-002", "PA-003"]},
    4: {WW: ["WW-003", "WW-001", "WW-002"], HD: ["HD-002", "HD-001", "HD-003"], PA: ["PA-001", "PA-002", "PA-004"]},
}
TWIN_LATER = {**L1_REFERENCE[4], PA: ["PA-004", "PA-001", "PA-002"]}


def monday(week: int) -> date:
    return START + timedelta(days=7 * (week - 1))


def digests(engine: Engine, user: str, weeks: range | list[int], *, record: bool = False) -> dict[int, Digest]:
    found: dict[int, Digest] = {}
    with engine.begin() as conn:
        client = find_client(conn, user)
        for week in weeks:
            if record:
                digest = service.produce(conn, client, monday(week), week=week)
            else:
                digest = service.compose_digest(conn, client, monday(week), week=week)
            assert digest is not None, f"{user} has no digest in week {week}"
            found[week] = digest
    return found


def by_category(digest: Digest) -> dict[str, list[str]]:
    return {s.title.removeprefix("Best-selling in "): [i.product_id for i in s.items] for s in digest.sections}


def local(digest: Digest) -> datetime:
    return digest.send_at.astimezone(LONDON)


def assert_invariants(engine: Engine, user: str, digest: Digest) -> None:
    """E26, E27, E28 for one digest, against the catalogue and her consent at the send instant."""
    with engine.connect() as conn:
        state = consent.state(conn, find_client(conn, user), digest.send_at)
        products = catalog.get_products(conn, [i.product_id for i in digest.items])
        opened = set(derived.collections(conn, find_client(conn, user), at=digest.send_at))  # E19
    for item in digest.items:
        product = products[item.product_id]
        assert product.in_stock_online(), item.product_id  # E27
        assert not product.access_restricted or opened & set(product.collections), item.product_id  # E19
        assert set(item.available_sizes) == set(product.online_sizes_in_stock()), item.product_id
        assert item.price_eur == product.price  # E28
        assert item.reason.text and item.reason.data_categories  # E26
        for purpose in item.reason.data_categories:
            assert purpose in PURPOSES and may(state, purpose, Use.PERSONALIZE), (item.product_id, purpose)
    for notice in digest.notices:
        assert all(may(state, p, Use.PERSONALIZE) for p in notice.data_categories)
    assert [t for t in digest.texts() if has_discount_language(t)] == []  # E28
    assert digest.send_at.astimezone(LONDON).weekday() == 1  # E3: a Tuesday, in her zone


def test_e3_e4_e6_l1_digests_are_the_declared_category_top_sellers(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    alex, twin = digests(scenario_engine, ALEX, range(1, 5)), digests(scenario_engine, TWIN, range(1, 5))
    for week in range(1, 5):
        mine = alex[week]
        assert mine.level == "L1" and len(mine.items) == 9
        assert by_category(mine) == L1_REFERENCE[week], week  # E4, in units order
        assert mine.send_at.isoformat() == f"{monday(week) + timedelta(days=1)}T09:00:00+00:00"  # E3
        assert all(i.reason.data_categories == ("declared_categories",) for i in mine.items)  # E6
        assert {e.event for i in mine.items for e in i.reason.evidence} == {"identify"}
        assert without_own_evidence(twin[week]) == without_own_evidence(mine), week
        assert_invariants(scenario_engine, ALEX, mine)


def without_own_evidence(digest: Digest) -> dict:  # type: ignore[type-arg]
    """The digest minus what must differ between two clients: their id and their own identify."""
    doc = digest.to_dict()
    doc.pop("customer_id")
    for section in doc["sections"]:
        for item in section["items"]:
            item["reason"]["evidence"] = [e["event"] for e in item["reason"]["evidence"]]
    return doc


def test_e5_every_l1_item_has_one_label_whose_condition_holds(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    found = digests(scenario_engine, ALEX, range(1, 5))
    with scenario_engine.connect() as conn:
        products = catalog.list_products(conn)
        for digest in found.values():
            signals = market_signals(conn, at=digest.send_at)
            for section in digest.sections:
                category = section.title.removeprefix("Best-selling in ")
                peers = [p for p in products if p.category == category]
                for item in section.items:
                    assert isinstance(item.label, str)
                    key = "Popular in" if item.label == f"Popular in {category}" else item.label
                    product = next(p for p in peers if p.product_id == item.product_id)
                    assert label_holds(key, product, peers, signals), (digest.week, item.product_id, item.label)
    labels = {i.label for d in found.values() for i in d.items}
    assert "Bestseller" in labels and len(labels) > 1


def test_e6_the_twin_keeps_l1_at_nine_in_weeks_5_to_12(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    for week, digest in digests(scenario_engine, TWIN, range(5, 13)).items():
        assert digest.level == "L1" and local(digest).strftime("%H:%M") == "09:00", week
        assert by_category(digest) == TWIN_LATER, week
        assert digest.notices == ()
        assert_invariants(scenario_engine, TWIN, digest)


def test_e7_l1_product_pages_are_the_same_for_alex_and_the_twin(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    at = datetime(2026, 2, 2, 20, 0, tzinfo=UTC)  # before her L2 consent at 20:14
    with scenario_engine.connect() as conn:
        alex, twin = find_client(conn, ALEX), find_client(conn, TWIN)
        for product in ("KN-001", "WW-004", "PA-003"):
            page = service.product_page(conn, alex, product, at=at)
            assert page == service.product_page(conn, twin, product, at=at)
            assert page["cohort_rating"] is None and page["sizing_guidance"] is None
        cardigan = service.product_page(conn, alex, "KN-001", at=at)
    assert cardigan["overall_rating"] == {"mean": 4.3, "count": 300}
    assert cardigan["available_sizes"] == ["M", "L"]


def _opens_before(stream: Path, cutoff: datetime) -> list[int]:
    minutes = []
    for line in stream.read_text().splitlines():
        event = json.loads(line)
        at = datetime.fromisoformat(event["timestamp"])
        if event.get("event") == "Email Opened" and at < cutoff:
            minute = at.astimezone(LONDON)
            minutes.append(minute.hour * 60 + minute.minute)
    return minutes


def test_e8_the_send_time_moves_to_her_evening_habit_and_stays(alex_run, scenario_dir):  # type: ignore[no-untyped-def]
    scenario_engine = alex_run.engine  # every week produced (recorded) by the weekly job, in order
    found = {week: alex_run.digests[week] for week in range(5, 13)}
    median = statistics.median(_opens_before(scenario_dir / "alex-morgan.ndjson", datetime(2026, 2, 2, tzinfo=UTC)))
    assert median == 19 * 60 + 41
    assert local(found[5]) >= datetime(2026, 2, 3, 18, 0, tzinfo=LONDON)
    times = {local(d).strftime("%H:%M") for d in found.values()}
    assert len(times) == 1, times
    hours, minutes = map(int, times.pop().split(":"))
    t = hours * 60 + minutes
    assert t % 15 == 0 and median - 90 <= t <= median
    [notice] = found[5].notices
    assert notice.kind == "send_time_changed" and notice.data_categories == ("email_engagement",)
    assert f"{hours:02d}:{minutes:02d}" in notice.text and "email open times" in notice.text
    assert all(d.notices == () for week, d in found.items() if week > 5)  # L3 in week 9: no notice
    assert [found[w].level for w in (5, 8, 9, 12)] == ["L2", "L2", "L3", "L3"]
    for digest in found.values():
        assert_invariants(scenario_engine, ALEX, digest)
    with scenario_engine.connect() as conn:
        rows = conn.execute(select(decisions.c.kind, decisions.c.data_categories, decisions.c.output).where(
            decisions.c.client_id == find_client(conn, ALEX))).all()
    assert [r.output for r in rows] == [alex_run.digests[week].to_dict() for week in range(1, 13)]
    assert all(r.kind == "digest" for r in rows)
    assert all("email_engagement" in r.data_categories for r in rows[4:])  # the learned time, from week 5


def test_e2_week_6_is_the_same_when_only_earlier_events_were_ingested(  # type: ignore[no-untyped-def]
    scenario_engine, scenario_dir, tmp_path
):
    """Ingest, in reverse order, only what precedes the week's send instant; then everything."""
    lines = (scenario_dir / "alex-morgan.ndjson").read_text().splitlines()
    at = [datetime.fromisoformat(json.loads(line)["timestamp"]) for line in lines]

    def ingest_before(cutoff: datetime, name: str) -> None:
        part = tmp_path / name
        part.write_text("".join(line + "\n" for line, t in reversed(list(zip(lines, at, strict=True))) if t < cutoff))
        import_file(scenario_engine, part)

    ingest_before(datetime(2026, 2, 9, tzinfo=UTC), "to-monday.ndjson")  # the send time needs no more
    with scenario_engine.connect() as conn:
        send_at = service.send_time(conn, find_client(conn, ALEX), monday(6)).send_at
    ingest_before(send_at, "to-send.ndjson")
    partial = digests(scenario_engine, ALEX, [6])[6]
    assert partial.send_at == send_at
    import_file(scenario_engine, scenario_dir / "alex-morgan.ndjson")
    assert digests(scenario_engine, ALEX, [6])[6].to_dict() == partial.to_dict()
    assert_invariants(scenario_engine, ALEX, partial)
