"""`maison events import`: a file goes through the same validation, dedup and consent gate as
HTTP, chunk by chunk, with rejections named by line (on SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
from sqlalchemy import Engine, select

from maison.core.schema import events
from maison.core.settings import IngestSettings
from maison.identity import service as identity
from maison.ingest.importer import import_file


def _identify(n: int) -> dict[str, object]:
    return {"type": "identify", "messageId": f"id-{n}", "userId": f"u-{n}", "anonymousId": f"a-{n}",
            "timestamp": f"2026-01-05T20:{n:02d}:00+01:00", "traits": {"email": f"p{n}@example.com"}}


def _order(n: int) -> dict[str, object]:
    return {"type": "track", "event": "Order Completed", "messageId": f"order-{n}", "userId": f"u-{n}",
            "timestamp": f"2026-01-06T09:{n:02d}:30.250000+09:00",
            "context": {"timezone": "Asia/Tokyo", "channel": "store"},
            "properties": {"order_id": f"o-{n}", "total": 1000.5, "currency": "EUR", "store_id": "S-1",
                           "note": "tab\there\\ \u6771\u4eac"}}


def test_a_file_is_stored_chunk_by_chunk_with_its_bad_lines_named(engine: Engine, tmp_path: Path) -> None:
    lines = [orjson.dumps(_identify(n)) for n in range(5)]
    lines += [b"{not json", orjson.dumps({"type": "track", "event": "Order Completed", "messageId": "x"}), b""]
    lines += [orjson.dumps(_order(n)) for n in range(5)]
    lines += [orjson.dumps(_order(1)), orjson.dumps(_identify(4))]  # retried: already stored
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")

    report = import_file(engine, path, source="pos", limits=IngestSettings(import_chunk_size=3))

    assert report.lines == len(lines)
    assert (report.result.accepted, report.result.duplicates, report.result.dropped) == (10, 2, 0)
    assert [(r.index, r.field) for r in report.result.rejected] == [(6, "line"), (7, "userId"), (8, "line")]
    with engine.connect() as conn:
        stored = {r.message_id: r for r in conn.execute(select(events))}
        client = identity.find_client(conn, "p3@example.com")
    assert len(stored) == 10
    order = stored["order-3"]
    assert order.client_id == client
    assert (order.order_id, order.revenue, order.currency, order.store_id) == ("o-3", Decimal("1000.50"), "EUR", "S-1")
    assert (order.channel, order.timezone, order.utc_offset_minutes) == ("store", "Asia/Tokyo", 540)
    assert order.timestamp.isoformat() == "2026-01-06T00:03:30.250000+00:00"
    assert order.raw["properties"]["note"] == "tab\there\\ \u6771\u4eac"
