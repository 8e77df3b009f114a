"""Shared fixtures: one storage suite over SQLite and PostgreSQL, each test isolated.

PostgreSQL tests skip locally with a loud reason when no server listens, and fail under
CI=true: CI provides PostgreSQL on 127.0.0.1:5432 and its tests must run there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from maison.core.db import make_engine, upgrade
from maison.core.schema import metadata
from maison.core.settings import Settings

# Keys, exports and other MAISON_HOME files of code paths that use the process settings.
os.environ.setdefault("MAISON_HOME", tempfile.mkdtemp(prefix="maison-test-home-"))

IN_CI = os.environ.get("CI", "").lower() == "true"
from helpers import PG_URL  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1].parent / "shared" / "scenarios" / "alex-morgan"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Scenario tests share one expensive template per backend: keep them on one xdist worker."""
    for item in items:
        if "scenario" in item.keywords:
            # one group per backend, so the two backends' scenario tests run side by side
            params = getattr(getattr(item, "callspec", None), "params", {})
            backend = params.get("scenario_template", "any")
            item.add_marker(pytest.mark.xdist_group(f"scenario-{backend}"))


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this worker's own, migrated once; tests truncate it after use."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        admin.dispose()
        message = f"PostgreSQL is not reachable at {PG_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip("SKIPPING POSTGRESQL TESTS - " + message)
    name = f"maison_test_{_worker()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    # The next test reuses this database's URL: the in-process caches keyed by it would otherwise
    # answer from this test's rows (a TRUNCATE fires no trigger, so the marks cannot tell).
    from maison.models.segments import service as segments  # here: after MAISON_HOME is set above
    from maison.personalize import cohort

    segments.clear_cache(engine)
    cohort.clear_cache(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "maison.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres_database")
    eng = make_engine(url)
    yield eng
    _truncate(eng)
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def app(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    from maison.app import create_app

    return create_app(settings, engine=engine, migrate=False)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def write_key(engine: Engine) -> str:
    from maison.access.keys import create_key
    from maison.core.clock import utcnow

    with engine.begin() as conn:
        return create_key(conn, name="web", origins=["https://shop.example.com"], now=utcnow())


@pytest.fixture(scope="session")
def scenario_dir() -> Path:
    if not (SCENARIO / "README.md").exists():
        if IN_CI:
            pytest.fail(f"scenario folder missing at {SCENARIO}", pytrace=False)
        pytest.skip(f"SKIPPING SCENARIO TESTS - no scenario at {SCENARIO}")
    return SCENARIO


@pytest.fixture(scope="session")
def population_file(scenario_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated background population, built once per test session (about 8 s).

    The xdist workers share the cache: one builds it under an exclusive lock while the others
    wait, and it is built in a staging folder and moved in with `population.ndjson` last, so no
    worker ever reads a file still being written (one did: a truncated population)."""
    import fcntl
    import subprocess
    import sys
    import tempfile

    cache = Path(os.environ.get("MAISON_POPULATION_CACHE", tmp_path_factory.getbasetemp().parent / "population"))
    out = cache / "population.ndjson"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            staging = Path(tempfile.mkdtemp(dir=cache, prefix=".staging-"))
            subprocess.run(
                [sys.executable, str(scenario_dir / "generate_population.py"), "--out-dir", str(staging)],
                check=True, capture_output=True,
            )
            built = sorted(staging.iterdir(), key=lambda f: f.name == out.name)  # the marker file last
            for f in built:
                os.replace(f, cache / f.name)
            staging.rmdir()
    return out


@pytest.fixture
def admin_key(engine: Engine) -> str:
    from maison.access.auth import create_api_key
    from maison.core.clock import utcnow

    with engine.begin() as conn:
        return create_api_key(conn, name="admin", scope="admin", store_id=None, now=utcnow())
