"""Bulk import of NDJSON message files through the same validation, dedup and quarantine as HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from maison.core.clock import utcnow
from maison.core.settings import IngestSettings, get_settings
from maison.ingest import service
from maison.ingest.entities import IngestResult, Rejection

_BAD_JSON = object()


@dataclass
class ImportReport:
    """Totals of one file import; rejections name the line (1-based) and the reason."""

    lines: int = 0
    result: IngestResult = field(default_factory=IngestResult)


def _chunks(path: Path, size: int) -> Iterator[tuple[int, list[Any], int]]:
    """(first line number, parsed messages, bytes read so far) per chunk; bad JSON kept as marker."""
    batch: list[Any] = []
    first = 1
    read = 0
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            read += len(line)
            if not line.strip():
                line = b"null"
            try:
                batch.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                batch.append(_BAD_JSON)
            if len(batch) >= size:
                yield first, batch, read
                batch, first = [], number + 1
    if batch:
        yield first, batch, read


def import_file(
    engine: Engine,
    path: Path,
    *,
    source: str = "import",
    limits: IngestSettings | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file chunk by chunk; each chunk is one transaction, so a crash loses no committed chunk."""
    limits = limits or IngestSettings()
    key = get_settings().suppression_key()
    report = ImportReport()
    for first_line, messages, read in _chunks(path, limits.import_chunk_size):
        received_at = utcnow()
        bad = [(i, m) for i, m in enumerate(messages) if m is _BAD_JSON or m is None]
        good_idx = [i for i, m in enumerate(messages) if m is not _BAD_JSON and m is not None]
        valid, rejected = service.validate(
            [messages[i] for i in good_idx], received_at=received_at, limits=limits
        )
        # Re-number rejections and events to file line numbers.
        for event in valid:
            event.index = first_line + good_idx[event.index]
        rejected = [
            (Rejection(index=first_line + good_idx[r.index], field=r.field, reason=r.reason), m)
            for r, m in rejected
        ]
        for i, _ in bad:
            reason = "line is not valid JSON" if messages[i] is _BAD_JSON else "line is empty or null"
            rejected.append((Rejection(index=first_line + i, field="line", reason=reason), {"_line": first_line + i}))
        rejected.sort(key=lambda pair: pair[0].index)
        with engine.begin() as conn:
            chunk = service.store(
                conn, source=source, valid=valid, rejected=rejected, received_at=received_at, suppression_key=key
            )
        report.lines += len(messages)
        report.result.add(chunk)
        if progress:
            progress(read)
    return report
