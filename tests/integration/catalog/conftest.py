"""Catalog fixtures: the scenario catalog imported through the service, on each backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from maison.catalog import service
from maison.catalog.entities import ImportReport
from maison.core.clock import utcnow
from maison.core.schema import content_pages, products, stock


@pytest.fixture
def counts(engine: Engine) -> Callable[[], dict[str, int]]:
    """Rows per catalog table now: how a test proves that a refused file changed nothing."""

    def count() -> dict[str, int]:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (products, stock, content_pages)
            }

    return count


@pytest.fixture(scope="session")
def catalog_rows(scenario_dir: Path) -> list[dict[str, Any]]:
    lines = (scenario_dir / "catalog.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: list[dict[str, Any]], name: str = "catalog.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    return write


@pytest.fixture
def imported(engine: Engine, scenario_dir: Path) -> ImportReport:
    """The scenario's 173 products and 12 content pages, committed."""
    with engine.begin() as conn:
        report = service.import_products(conn, scenario_dir / "catalog.jsonl", now=utcnow())
        service.import_content_pages(conn, scenario_dir / "content_pages.jsonl")
    return report
