"""`GET /v1/profiles/{identifier}`: a client's profile by any identifier, optionally as of `at`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection

from maison.core.db import reading
from maison.core.responses import JSONResponse
from maison.profiles import service

router = APIRouter(prefix="/v1", tags=["profiles"])


def _connection(request: Request) -> Iterator[Connection]:
    with reading(request.app.state.maison.engine) as conn:
        yield conn


Conn = Annotated[Connection, Depends(_connection)]


@router.get("/profiles/{identifier}", response_class=JSONResponse)
def get_profile(
    identifier: str,
    conn: Conn,
    at: Annotated[str | None, Query(description="Profile as of this ISO 8601 instant.")] = None,
) -> JSONResponse:
    """The profile of the client holding this identifier (client id, userId, anonymousId,
    email or phone): traits, purchases, wishlist, carts, views, searches, content, email opens."""
    profile = service.get_profile(conn, identifier, as_of=service.parse_as_of(at))
    return JSONResponse(profile.to_dict())
