"""Scratch stores for a benchmark run: a temporary SQLite file, or a throw-away PostgreSQL database.

Each measurement gets a fresh, migrated, empty store, so no phase benefits from (or pays for)
the rows of another.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from maison.core.db import make_engine, upgrade
from maison.core.schema import metadata

BACKENDS = ("sqlite", "postgresql")


@dataclass
class ScratchStore:
    """A store that `fresh()` empties and re-opens; `url` is what a server subprocess is given."""

    backend: str
    url: str
    workdir: Path
    _template: Path | None = None
    _count: int = 0

    def fresh(self) -> Engine:
        """An engine on an empty, migrated store (SQLite: a new file; PostgreSQL: truncated)."""
        if self.backend == "sqlite":
            assert self._template is not None
            self._count += 1
            path = self.workdir / f"store-{self._count}.db"
            shutil.copy(self._template, path)
            self.url = f"sqlite:///{path}"
            return make_engine(self.url)
        engine = make_engine(self.url)
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return engine


@contextmanager
def scratch_store(backend: str, *, workdir: Path, postgres_url: str) -> Iterator[ScratchStore]:
    """A scratch store of one backend, removed on exit (PostgreSQL: `maison_bench_<random>`)."""
    if backend == "sqlite":
        template = workdir / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()
        yield ScratchStore("sqlite", f"sqlite:///{template}", workdir, template)
        return
    if backend != "postgresql":
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"maison_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield ScratchStore("postgresql", url, workdir)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
