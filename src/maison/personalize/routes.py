"""`GET /v1/digests/{identifier}?week=2026-W06`: a client's weekly digest as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from maison.access.auth import Caller, audit_read, authorize_client
from maison.core.clock import utcnow
from maison.core.deps import ReadConn
from maison.core.responses import JSONResponse
from maison.identity.service import find_client
from maison.personalize import service

router = APIRouter(prefix="/v1", tags=["personalize"])


Conn = ReadConn


@router.get("/digests/{identifier}", response_class=JSONResponse)
def get_digest(
    identifier: str,
    conn: Conn,
    request: Request,
    caller: Caller,
    week: Annotated[str, Query(description="ISO week, e.g. 2026-W06.", max_length=10)],
) -> JSONResponse:
    """The weekly digest of an ISO week: the one sent (from the decision audit) if recorded,
    else composed as of its send instant and not recorded. Header `X-Maison-Digest` says which.

    Staff keys (admin; associates for clients of their store) and the client's own token;
    every read by a person is written to the access log."""
    client_id = find_client(conn, identifier)
    authorize_client(caller, client_id, conn=conn)
    found = service.digest_for_week(conn, client_id, week)
    if caller.is_person:
        with request.app.state.maison.engine.begin() as audit:
            audit_read(audit, caller, client_id, "digest", at=utcnow())
    return JSONResponse(found.digest, headers={"X-Maison-Digest": "recorded" if found.recorded else "composed"})
