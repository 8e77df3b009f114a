"""The alex-morgan scenario: population, catalog and control twin loaded once per backend.

Each test gets a copy of that template (a file copy on SQLite, `CREATE DATABASE … TEMPLATE`
on PostgreSQL) and ingests the stream it needs, so variants never share state and the ~217k
population events are imported only once per session.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from helpers import PG_URL
from maison.core.db import make_engine, upgrade
from maison.ingest.importer import import_file
from maison.replay.loader import load_catalog

pytestmark = pytest.mark.scenario


@dataclass
class Template:
    backend: str
    location: str  # SQLite file path or PostgreSQL database name


def _load_base(engine: Engine, scenario_dir: Path, population: Path) -> None:
    upgrade(engine)
    load_catalog(engine, scenario_dir)
    import_file(engine, population)
    import_file(engine, scenario_dir / "control-twin.ndjson")


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scenario_template(request, tmp_path_factory, scenario_dir, population_file) -> Iterator[Template]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("scenario") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        _load_base(engine, scenario_dir, population_file)
        engine.dispose()
        yield Template("sqlite", str(path))
        return
    request.getfixturevalue("postgres_database")  # fails under CI when PostgreSQL is missing
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"maison_scn_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    _load_base(engine, scenario_dir, population_file)
    engine.dispose()
    yield Template("postgresql", name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def scenario_engine(scenario_template: Template, tmp_path: Path) -> Iterator[Engine]:
    """A fresh store holding the catalog, the population and the control twin."""
    if scenario_template.backend == "sqlite":
        path = tmp_path / "scenario.db"
        shutil.copy(scenario_template.location, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"maison_scn_copy_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{scenario_template.location}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def ingest_stream(scenario_engine: Engine, scenario_dir: Path):  # type: ignore[no-untyped-def]
    """Ingest one of the scenario's streams (path relative to the scenario folder)."""

    def run(relative: str):  # type: ignore[no-untyped-def]
        return import_file(scenario_engine, scenario_dir / relative)

    return run
