"""`GET /v1/profiles/{identifier}`: a client's profile by any identifier, optionally as of `at`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from maison.access.auth import Caller, audit_read, authorize_client
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.responses import JSONResponse
from maison.identity.service import find_client
from maison.profiles import service

router = APIRouter(prefix="/v1", tags=["profiles"])



@router.get("/profiles/{identifier}", response_class=JSONResponse)
def get_profile(
    identifier: str,
    request: Request,
    caller: Caller,
    at: Annotated[str | None, Query(description="Profile as of this ISO 8601 instant.")] = None,
) -> JSONResponse:
    """The profile of the client holding this identifier (client id, userId, anonymousId,
    email or phone): traits, purchases, wishlist, carts, views, searches, content, email opens.

    Staff keys (admin; associates for clients of their store) and the client's own token;
    every read by a person is written to the access log."""
    as_of = service.parse_as_of(at)
    # The read ends before the access log commits: on SQLite a reader still open at a commit
    # keeps the write-ahead log from restarting, and later commits checkpoint in their request.
    with reading(request.app.state.maison.engine) as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id, conn=conn)
        profile = service.get_profile(conn, client_id, as_of=as_of)
    if caller.is_person:
        with request.app.state.maison.engine.begin() as audit:
            audit_read(audit, caller, client_id, "profile", at=utcnow())
    return JSONResponse(profile.to_dict())
