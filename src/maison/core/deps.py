"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from maison.core.db import reading


def _read_connection(request: Request) -> Iterator[Connection]:
    with reading(request.app.state.maison.engine) as conn:
        yield conn


ReadConn = Annotated[Connection, Depends(_read_connection)]
"""A read-only connection for one request (on SQLite it never waits behind a writer)."""
