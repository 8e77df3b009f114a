"""Alex Morgan's privacy expectations (E1, E29, E31-E34), driven by her real event streams.

Nothing here or in the product code is specific to her beyond the fixture's identifiers.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import jsonschema
import pytest
from sqlalchemy import func, select

from maison.consent.purposes import L2_PURPOSES, PURPOSES
from maison.core.schema import events, metadata
from maison.core.settings import get_settings
from maison.identity.exceptions import UnknownClient
from maison.identity.service import find_client
from maison.privacy import export, service

pytestmark = pytest.mark.scenario

USER, ANON, EMAIL = "cus_a7d3e91c04", "3f6c1b9e-8d2a-4c57-9b1e-2a7f4d8c6e10", "alex.morgan@example.net"
TWIN = "cus_0b58c2e7f1"


def client_events(engine, identifier: str) -> list[dict]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        client = find_client(conn, identifier)
        rows = conn.execute(select(events.c.raw, events.c.data_category).where(events.c.client_id == client)).all()
    return [{**r.raw, "data_category": r.data_category} for r in rows]


def test_e1_every_line_accepted_and_a_second_ingest_changes_nothing(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    first = ingest_stream("alex-morgan.ndjson").result
    assert (first.accepted, len(first.rejected), first.dropped) == (147, 0, 0)
    with scenario_engine.connect() as conn:
        before = export.build(conn, find_client(conn, USER), now=datetime.fromisoformat("2026-04-01T00:00:00+00:00"))
    again = ingest_stream("alex-morgan.ndjson").result
    assert (again.accepted, again.duplicates) == (0, 147)
    with scenario_engine.connect() as conn:
        after = export.build(conn, find_client(conn, USER), now=datetime.fromisoformat("2026-04-01T00:00:00+00:00"))
    assert before == after
    mine = client_events(scenario_engine, USER)
    before_identify = [e for e in mine if "userId" not in e]
    assert sorted(e.get("event") or e.get("name") for e in before_identify) == sorted(
        ["Consent Updated", "Personalisation Pilot: Welcome", "Create Account"])
    with scenario_engine.connect() as conn:
        assert find_client(conn, ANON) == find_client(conn, USER) == find_client(conn, EMAIL)


def test_e32_export_holds_her_147_events_by_category_and_the_consent_history(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    with scenario_engine.begin() as conn:
        doc = service.export_now(
            conn, find_client(conn, USER), now=datetime.fromisoformat("2026-04-01T09:00:00+01:00"), channel="admin"
        )
    jsonschema.validate(doc, json.loads(export.SCHEMA_PATH.read_text()))
    assert len(doc["events"]) == 147 and all(e["messageId"] for e in doc["events"])
    kinds = Counter("identify" if e["type"] == "identify" else e["data_category"] for e in doc["events"])
    assert kinds == {"browsing_behaviour": 82, "email_engagement": 30, "content_engagement": 18, "cart_activity": 9,
                     "purchase_history": 3, "consent_record": 3, "identify": 1, "search_history": 1}
    levels = [r["level"] for r in doc["consent_history"] if r["kind"] == "level"]
    assert levels == ["L1", "L2", "L3"]
    assert doc["profile"]["declared_categories"] == ["Women's Workwear", "Minimalist Home Decor", "Premium Accessories"]
    assert {p["purpose"] for p in doc["purposes"]} == set(PURPOSES)
    assert "L3" in doc["profiling_logic"]


def test_e29_settings_list_every_purpose_and_their_use_changes_with_the_level(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    with scenario_engine.connect() as conn:
        client = find_client(conn, USER)
        onboarding = service.settings(conn, client, at=datetime.fromisoformat("2026-01-06T09:00:00+00:00"))
        l2 = service.settings(conn, client, at=datetime.fromisoformat("2026-02-02T20:15:00+00:00"))
    assert [p["purpose"] for p in onboarding["purposes"]] == list(PURPOSES)
    assert all(p["description"] and p["level"] in ("L1", "L2", "L3") for p in onboarding["purposes"])
    behavioural = [
        p for p in onboarding["purposes"] if p["purpose"] in L2_PURPOSES and p["purpose"] != "similar_customer_signals"
    ]
    assert all(p["granted"] and not p["used_for_personalisation"] for p in behavioural)
    assert behavioural[0]["changed_at"] == "2026-01-05T20:02:00+00:00"
    assert onboarding["personalization_level"] == "L1" and l2["personalization_level"] == "L2"
    assert all(p["used_for_personalisation"] for p in l2["purposes"] if p["purpose"] in L2_PURPOSES)


def test_e29_values_inference_shows_off_since_the_opt_out(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("variants/values-off-week10.ndjson")
    with scenario_engine.connect() as conn:
        view = service.settings(conn, find_client(conn, USER))
    values = next(p for p in view["purposes"] if p["purpose"] == "values_inference")
    assert values["granted"] is False and values["used_for_personalisation"] is False
    assert values["changed_at"] == "2026-03-11T20:30:00+00:00"
    assert next(p for p in view["purposes"] if p["purpose"] == "taste_trajectory")["used_for_personalisation"]


def test_e31_browsing_after_the_opt_out_is_never_stored(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    result = ingest_stream("variants/browsing-off-week6.ndjson").result
    assert result.dropped == 46
    cutoff = "2026-02-11T21:02:00+00:00"
    mine = client_events(scenario_engine, USER)
    after = [e for e in mine if datetime.fromisoformat(e["timestamp"]) > datetime.fromisoformat(cutoff)]
    assert not [e for e in after if e["data_category"] == "browsing_behaviour"]
    assert {"cart_activity", "email_engagement", "content_engagement"} <= {e["data_category"] for e in after}
    # +1: the privacy page view
    assert len([e for e in mine if e["data_category"] == "browsing_behaviour"]) == 82 + 1 - 46


def _dump(engine) -> str:  # type: ignore[no-untyped-def]
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def _scarf_ratings(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events).where(
            events.c.event == "Product Reviewed", events.c.product_id == "PA-003")).scalar_one()


def test_e33_e34_erasure_leaves_nothing_and_a_replay_does_not_bring_her_back(  # type: ignore[no-untyped-def]
    scenario_engine, ingest_stream, scenario_dir, tmp_path
):
    ingest_stream("alex-morgan.ndjson")
    assert _scarf_ratings(scenario_engine) == 25
    twin_before = len(client_events(scenario_engine, TWIN))
    ingest_stream("variants/erasure-after-week12.ndjson")
    delivered = json.loads((get_settings().home / "exports" / "dsr_am_export_0001.json").read_text())
    # As of the request: her 147, the privacy page view of 1 April and the request itself.
    assert len(delivered["events"]) == 149
    for identifier in (USER, ANON, EMAIL):
        with scenario_engine.connect() as conn, pytest.raises(UnknownClient):
            find_client(conn, identifier)
    assert _scarf_ratings(scenario_engine) == 24
    assert len(client_events(scenario_engine, TWIN)) == twin_before
    dump = _dump(scenario_engine)
    for needle in (USER, ANON, EMAIL, "Alex", "Morgan", "dsr_am_export_0001"):
        assert needle not in dump, needle
    # E34: the same stream again, then with fresh messageIds: nothing comes back.
    assert ingest_stream("alex-morgan.ndjson").result.accepted == 0
    fresh = tmp_path / "fresh.ndjson"
    lines = [json.loads(line) for line in (scenario_dir / "alex-morgan.ndjson").read_text().splitlines()]
    fresh.write_text("\n".join(json.dumps({**m, "messageId": f"replay-{i}"}) for i, m in enumerate(lines)))
    from maison.ingest.importer import import_file

    replay = import_file(scenario_engine, fresh).result
    assert (replay.accepted, replay.dropped) == (0, 147)
    with scenario_engine.connect() as conn, pytest.raises(UnknownClient):
        find_client(conn, USER)
    assert _dump(scenario_engine).count(USER) == 0
