"""Replay a scenario-shaped folder into a fresh store and write what the platform produced.

Given a folder with `catalog.jsonl` and `content_pages.jsonl`, and event files (NDJSON, each in
time order as Segment exports are), the run

1. loads the catalog into an empty, migrated store (a SQLite file in a temporary folder unless
   a store URL is given),
2. merges the event files by timestamp (streaming, so a 100 MB population never sits in
   memory) and ingests them through the same validation, consent and identity rules as the API,
3. for each chosen client and week (week 1 starts on the given Monday) produces the digest as of
   its send instant and records it in the decision audit, exactly as the weekly job would, and
4. writes the digests, privacy settings and product pages as JSON files:

   digests/<client>/week-NN.json
   privacy/<client>/<instant>.json
   product_pages/<client>/<product>/<instant>.json

Every output is computed as of its own instant, so the store holding later events changes
nothing (no look-ahead). Nothing here knows a particular scenario.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from maison.core.clock import parse_instant
from maison.core.db import make_engine, reading, upgrade
from maison.core.errors import BadRequest, InvalidFile
from maison.identity.service import find_client
from maison.ingest.importer import import_file
from maison.personalize import service as personalize
from maison.privacy import service as privacy
from maison.replay.loader import load_catalog

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    folder: Path
    streams: Sequence[Path]
    clients: Sequence[str]
    start: date  # a Monday: week 1 starts here
    weeks: int
    out: Path
    population: Path | None = None
    products: Sequence[str] = ()
    instants: Sequence[datetime] = ()  # privacy settings and product pages; default: the send instants
    store_url: str | None = None  # keep the store here instead of a temporary SQLite file


@dataclass
class ReplayReport:
    products: int = 0
    content_pages: int = 0
    events: int = 0
    rejected: int = 0
    digests: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "<client> week NN: no digest"


def resolve_stream(folder: Path, name: Path) -> Path:
    """A stream path as given, else relative to the folder."""
    if name.is_file():
        return name
    inside = folder / name
    if inside.is_file():
        return inside
    raise InvalidFile(f"{name} is not a readable file (looked in the current folder and in {folder})")


def validate(request: ReplayRequest) -> None:
    if not request.folder.is_dir():
        raise InvalidFile(f"{request.folder} is not a folder")
    if request.start.weekday() != 0:
        raise BadRequest(f"--start must be a Monday; {request.start.isoformat()} is a {request.start:%A}")
    if request.weeks < 1:
        raise BadRequest("--weeks must be at least 1")
    if not request.clients:
        raise BadRequest("give at least one --client")


def run(request: ReplayRequest, *, progress: Callable[[str], None] | None = None) -> ReplayReport:
    validate(request)
    say = progress or (lambda _: None)
    report = ReplayReport()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maison-replay-")))
        engine = make_engine(request.store_url or f"sqlite:///{scratch / 'maison.db'}")
        stack.callback(engine.dispose)
        upgrade(engine)
        say("loading the catalog")
        report.products, report.content_pages = load_catalog(engine, request.folder)
        files = [p for p in (request.population, *request.streams) if p is not None]
        merged = scratch / "events.ndjson"
        say(f"merging {len(files)} event file(s) by timestamp")
        report.events = merge_streams(files, merged)
        say(f"ingesting {report.events} events")
        imported = import_file(engine, merged, source="replay")
        report.rejected = len(imported.result.rejected)
        for client in request.clients:
            say(f"digests of {client}")
            _write_client(engine, request, client, report)
    return report


def merge_streams(paths: Sequence[Path], target: Path) -> int:
    """Merge NDJSON files by timestamp into `target`; returns the lines written.

    A line without a readable timestamp sorts first and is left for ingestion to judge.
    """
    with ExitStack() as stack:
        handles = [stack.enter_context(p.open("rb")) for p in paths]
        streams = [_keyed(h, i) for i, h in enumerate(handles)]
        written = 0
        with target.open("wb") as out:
            for _, _, _, line in heapq.merge(*streams):
                out.write(line if line.endswith(b"\n") else line + b"\n")
                written += 1
    return written


def _keyed(handle: Any, index: int) -> Iterator[tuple[datetime, int, int, bytes]]:
    for number, line in enumerate(handle):
        if line.strip():
            yield _timestamp(line), index, number, line


def _timestamp(line: bytes) -> datetime:
    try:
        value = orjson.loads(line).get("timestamp")
        return parse_instant(value) if isinstance(value, str) else _EARLIEST
    except (orjson.JSONDecodeError, AttributeError, ValueError):
        return _EARLIEST


def _write_client(engine: Engine, request: ReplayRequest, identifier: str, report: ReplayReport) -> None:
    with reading(engine) as conn:
        client_id = find_client(conn, identifier)
    sent: list[datetime] = []
    for week in range(1, request.weeks + 1):
        monday = request.start + timedelta(days=7 * (week - 1))
        with engine.begin() as conn:
            digest = personalize.produce(conn, client_id, monday, week=week)
        if digest is None:
            report.skipped.append(f"{identifier} week {week:02d}: no digest")
            continue
        sent.append(digest.send_at)
        report.digests += 1
        _write(report, request.out / "digests" / identifier / f"week-{week:02d}.json", digest.to_dict())
    instants = list(request.instants) or sent
    with reading(engine) as conn:
        for at in instants:
            view = privacy.settings(conn, client_id, at=at)
            view.pop("client_id", None)  # the store's internal id means nothing outside it
            _write(report, request.out / "privacy" / identifier / f"{at.isoformat()}.json",
                   {"customer_id": identifier, "at": at.isoformat(), **view})
            for product in request.products:
                page = personalize.product_page(conn, client_id, product, at=at)
                _write(report, request.out / "product_pages" / identifier / product / f"{at.isoformat()}.json", page)


def _write(report: ReplayReport, path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
    report.files.append(path)
