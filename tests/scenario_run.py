"""A stream of Alex's replayed into a scenario store, with every week's digest produced in order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from maison.catalog import service as catalog
from maison.catalog.entities import Product
from maison.identity.service import find_client
from maison.ingest.importer import import_file
from maison.personalize import service
from maison.personalize.entities import Digest

ALEX = "cus_a7d3e91c04"
START = date(2026, 1, 5)  # Monday of week 1


def monday(week: int) -> date:
    return START + timedelta(days=7 * (week - 1))


@dataclass
class Run:
    """One of her streams replayed into its own store, with every week's digest produced in order."""

    engine: Engine
    client: str
    digests: dict[int, Digest]
    products: dict[str, Product]
    events: dict[str, dict[str, Any]]  # her stream by messageId, with the parsed instant


def replay(engine: Engine, scenario_dir: Path, stream: str, weeks: range) -> Run:
    import_file(engine, scenario_dir / stream)
    found = {}
    with engine.begin() as conn:
        client = find_client(conn, ALEX)
        for week in weeks:
            digest = service.produce(conn, client, monday(week), week=week)
            assert digest is not None, week
            found[week] = digest
        products = {p.product_id: p for p in catalog.list_products(conn)}
    lines = [json.loads(line) for line in (scenario_dir / stream).read_text().splitlines()]
    events = {e["messageId"]: {**e, "at": datetime.fromisoformat(e["timestamp"])} for e in lines}
    return Run(engine, client, found, products, events)


