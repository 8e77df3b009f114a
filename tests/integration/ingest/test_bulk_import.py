"""`maison events import`: a file goes through the same validation, dedup and consent gate as
HTTP, chunk by chunk, with rejections named by line (on SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, event, func, select

from maison.core.clock import utcnow
from maison.core.db import in_transaction
from maison.core.schema import clients, events
from maison.core.settings import IngestSettings
from maison.identity import service as identity
from maison.ingest import importer, service
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


def test_an_archived_message_sent_with_sent_at_keeps_its_own_day_when_imported(engine: Engine, tmp_path: Path) -> None:
    """A file of messages received months ago (a Segment archive) carries their `sentAt` and
    `receivedAt`: each event is corrected against its own receipt, not moved to the import's day."""
    archived = {**_order(1), "originalTimestamp": "2025-06-01T12:00:00+02:00", "sentAt": "2025-06-01T10:00:10Z",
                "receivedAt": "2025-06-01T09:00:11Z", "timestamp": "2025-06-01T09:00:01Z"}
    path = tmp_path / "archive.ndjson"
    path.write_bytes(orjson.dumps(_identify(1)) + b"\n" + orjson.dumps(archived) + b"\n")
    assert import_file(engine, path, source="archive", limits=IngestSettings()).result.accepted == 2
    with engine.connect() as conn:
        stamp = conn.execute(select(events.c.timestamp).where(events.c.message_id == "order-1")).scalar_one()
    assert stamp.isoformat() == "2025-06-01T09:00:01+00:00"


def test_the_next_chunk_is_validated_beside_this_ones_writes_and_once_though_retried(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation never overlaps the gate's reads: on SQLite each row a statement steps through
    hands the GIL over, and a thread validating meanwhile made the reads several times slower,
    so there it starts once the chunk's writes are done (beside the commit). PostgreSQL's driver
    waits without the GIL for a whole statement, so there it starts once the reads are done,
    beside the events' writes. A transaction run again (a deadlock victim) must not start a
    second validation, which would skip a chunk."""
    lines = [orjson.dumps(_identify(n)) for n in range(7)] + [orjson.dumps(_order(n)) for n in range(7)]
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    stores: list[int] = []  # events each finished store call saw
    started: list[tuple[int, int]] = []  # (store calls finished, events inserted) at each validation's start
    inserted: list[int] = []
    store, insert = service.store, service.repo.insert_events

    def storing(*args: Any, **kwargs: Any) -> Any:
        result = store(*args, **kwargs)
        stores.append(len(kwargs["valid"]))
        return result

    def inserting(conn: Any, rows: Any) -> None:
        insert(conn, rows)
        inserted.append(len(rows))

    class Reader(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            started.append((len(stores), len(inserted)))
            return super().submit(fn, *args, **kwargs)

    def retried(engine: Engine, work: Any) -> Any:
        with engine.connect() as conn, conn.begin() as first:  # rolled back, as a deadlock victim is
            work(conn)
            first.rollback()
        return in_transaction(engine, work)

    monkeypatch.setattr(service, "store", storing)
    monkeypatch.setattr(service.repo, "insert_events", inserting)
    monkeypatch.setattr(importer, "ThreadPoolExecutor", Reader)
    monkeypatch.setattr(importer, "in_transaction", retried)
    report = importer.import_file(engine, path, source="pos", limits=IngestSettings(import_chunk_size=4))

    assert (report.lines, report.result.accepted, report.result.duplicates) == (14, 14, 0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 14
    assert stores == [4, 4, 4, 4, 4, 4, 2, 2]  # each chunk stored, rolled back, stored again
    # The first chunk before any store; each next one during its chunk's first store (after
    # the reads, before the events are written) on PostgreSQL, once it is done on SQLite (the
    # last submission finds the file's end).
    if engine.dialect.name == "postgresql":
        assert started == [(0, 0), (0, 0), (2, 2), (4, 4), (6, 6)]
    else:
        assert started == [(0, 0), (1, 1), (3, 3), (5, 5), (7, 7)]


def test_a_store_says_when_its_reads_are_done_and_only_its_writes_remain(engine: Engine) -> None:
    """`service.store(writing=...)` is called once the identities are resolved and the consent
    gate has judged, before any event is written; a chunk of duplicates only has nothing to write."""
    messages = [_identify(1), _order(1)]
    valid, _ = service.validate(messages, received_at=utcnow(), limits=IngestSettings())
    seen: list[tuple[int, int]] = []

    def writing(conn: Any) -> None:
        seen.append((conn.execute(select(func.count()).select_from(clients)).scalar_one(),
                     conn.execute(select(func.count()).select_from(events)).scalar_one()))

    for _ in range(2):  # the second time, both are duplicates
        with engine.begin() as conn:
            result = service.store(conn, source="pos", valid=valid, rejected=[], received_at=utcnow(),
                                   writing=lambda conn=conn: writing(conn))
    assert seen == [(1, 0)]  # the client resolved, nothing written yet; not called for duplicates
    assert result.duplicates == 2


@pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_an_import_chunk_is_not_jit_compiled_and_leaves_the_connection_as_it_was(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a chunk's statements (thousands of index probes each) cost more to compile
    than to run, so its transaction turns JIT off; a pooled connection must not keep that."""
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(_identify(n)) for n in range(4)) + b"\n")
    engine.dispose()  # every connection from here on has JIT on for its session, whatever the server's default

    def jit_on(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute("SET jit = on")
        dbapi_connection.commit()

    event.listen(engine, "connect", jit_on)
    during: list[str] = []
    store = service.store

    def storing(conn: Any, **kwargs: Any) -> Any:
        during.append(conn.exec_driver_sql("SHOW jit").scalar_one())
        return store(conn, **kwargs)

    monkeypatch.setattr(service, "store", storing)
    import_file(engine, path, source="pos", limits=IngestSettings(import_chunk_size=2))

    assert during == ["off", "off"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "on"
    event.remove(engine, "connect", jit_on)
    engine.dispose()
