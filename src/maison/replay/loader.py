"""Load a scenario-shaped folder: catalog.jsonl, content_pages.jsonl and NDJSON event streams.

The layout is the one of `../shared/scenarios/alex-morgan/`, but nothing here knows that
scenario: any folder with that layout loads the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from maison.core.clock import utcnow
from maison.core.errors import InvalidFile
from maison.core.settings import IngestSettings
from maison.ingest.importer import ImportReport, import_file


@dataclass
class LoadReport:
    products: int = 0
    content_pages: int = 0
    streams: dict[str, ImportReport] = field(default_factory=dict)


def load_catalog(engine: Engine, folder: Path) -> tuple[int, int]:
    """Import the folder's catalog and content pages (each file all-or-nothing)."""
    from maison.catalog import service as catalog

    products = pages = 0
    catalog_file = folder / "catalog.jsonl"
    if catalog_file.exists():
        with engine.begin() as conn:
            report = catalog.import_products(conn, catalog_file, now=utcnow())
            products = len(report.ids)
    content_file = folder / "content_pages.jsonl"
    if content_file.exists():
        with engine.begin() as conn:
            pages = len(catalog.import_content_pages(conn, content_file).ids)
    return products, pages


def load_folder(
    engine: Engine,
    folder: Path,
    *,
    streams: Sequence[Path],
    limits: IngestSettings | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Catalog first (events refer to products), then each event stream in the order given."""
    if not folder.is_dir():
        raise InvalidFile(f"{folder} is not a folder")
    report = LoadReport()
    report.products, report.content_pages = load_catalog(engine, folder)
    for stream in streams:
        if not stream.is_file():
            raise InvalidFile(f"{stream} is not a readable file")
        report.streams[stream.name] = import_file(
            engine, stream, source="import", limits=limits,
            progress=partial(progress, stream.name) if progress else None,
        )
    return report
