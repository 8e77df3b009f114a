"""The alex-morgan scenario: population, catalog and control twin loaded once per backend.

Each test gets a copy of that template (a file copy on SQLite, `CREATE DATABASE … TEMPLATE`
on PostgreSQL) and ingests the stream it needs, so variants never share state and the ~217k
population events are imported only once per session.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from helpers import PG_URL
from maison.core.db import make_engine, upgrade
from maison.ingest.importer import import_file
from maison.replay.loader import load_catalog
from scenario_run import Run, replay

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


def _copy(template: Template, where: Path) -> Iterator[Engine]:
    """A fresh copy of the template: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL."""
    if template.backend == "sqlite":
        path = where / "scenario.db"
        shutil.copy(template.location, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"maison_scn_copy_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template.location}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def scenario_engine(scenario_template: Template, tmp_path: Path) -> Iterator[Engine]:
    """A fresh store holding the catalog, the population and the control twin."""
    yield from _copy(scenario_template, tmp_path)


@pytest.fixture
def copy_of(tmp_path: Path) -> Iterator[Callable[[Engine], Engine]]:
    """`copy_of(engine)`: a new store holding what `engine`'s holds now (its connections are closed
    first), to run the same weeks another way beside it with the same client ids."""
    made: list[Iterator[Engine]] = []

    def copy(engine: Engine) -> Engine:
        engine.dispose()
        where = tmp_path / f"copy-{len(made)}"
        where.mkdir()
        made.append(_copy(Template(engine.dialect.name, str(engine.url.database)), where))
        return next(made[-1])

    yield copy
    for copies in made:
        next(copies, None)  # dispose (and drop, on PostgreSQL)


# Her streams are replayed once per backend and session, and shared by every test that only
# reads what the weekly job produced: the weeks build on one another (a collection once opened
# stays open), and composing twelve weeks is the expensive part of these tests.
@pytest.fixture(scope="session")
def alex_run(scenario_template: Template, scenario_dir: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """`alex-morgan.ndjson`, every week's digest produced (recorded) in order. Read-only for tests."""
    for engine in _copy(scenario_template, tmp_path_factory.mktemp("run-base")):
        yield replay(engine, scenario_dir, "alex-morgan.ndjson", range(1, 13))


@pytest.fixture(scope="session")
def values_off_run(scenario_template: Template, scenario_dir: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The values-off variant (opt-out Wed 11 Mar 20:30), produced as `alex_run`."""
    for engine in _copy(scenario_template, tmp_path_factory.mktemp("run-values-off")):
        yield replay(engine, scenario_dir, "variants/values-off-week10.ndjson", range(1, 13))


@pytest.fixture(scope="session")
def browsing_off_run(scenario_template: Template, scenario_dir: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The browsing-off variant (opt-out Wed 11 Feb 21:02), produced as `alex_run`."""
    for engine in _copy(scenario_template, tmp_path_factory.mktemp("run-browsing-off")):
        yield replay(engine, scenario_dir, "variants/browsing-off-week6.ndjson", range(1, 13))


@pytest.fixture
def ingest_stream(scenario_engine: Engine, scenario_dir: Path):  # type: ignore[no-untyped-def]
    """Ingest one of the scenario's streams (path relative to the scenario folder)."""

    def run(relative: str):  # type: ignore[no-untyped-def]
        return import_file(scenario_engine, scenario_dir / relative)

    return run
