"""`GET /v1/digests/{identifier}?week=2026-W06`: a client's weekly digest as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from maison.access.auth import Caller, audit_read, authorize_client
from maison.core.clock import parse_instant, utcnow
from maison.core.db import reading
from maison.core.errors import BadRequest
from maison.core.responses import JSONResponse
from maison.identity.service import find_client
from maison.personalize import service

router = APIRouter(prefix="/v1", tags=["personalize"])


# Each route reads on a connection of its own and closes it before it writes (the access log,
# the cohort used): on SQLite a reader still open when a write commits keeps the write-ahead
# log from restarting, and every later commit then checkpoints inside its request.


@router.get("/digests/{identifier}", response_class=JSONResponse)
def get_digest(
    identifier: str,
    request: Request,
    caller: Caller,
    week: Annotated[str, Query(description="ISO week, e.g. 2026-W06.", max_length=10)],
) -> JSONResponse:
    """The weekly digest of an ISO week: the one sent (from the decision audit) if recorded,
    else composed as of its send instant and not recorded. Header `X-Maison-Digest` says which.

    Staff keys (admin; associates for clients of their store) and the client's own token;
    every read by a person is written to the access log."""
    with reading(request.app.state.maison.engine) as conn:  # closed before the audit commits (above)
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id, conn=conn)
        found = service.digest_for_week(conn, client_id, week)
    if caller.is_person:
        with request.app.state.maison.engine.begin() as audit:
            audit_read(audit, caller, client_id, "digest", at=utcnow())
    return JSONResponse(found.digest, headers={"X-Maison-Digest": "recorded" if found.recorded else "composed"})


@router.get("/products/{product_id}/for/{identifier}", response_class=JSONResponse)
def get_product_page(
    product_id: str,
    identifier: str,
    request: Request,
    caller: Caller,
    at: Annotated[str | None, Query(description="ISO 8601 instant (default: now).", max_length=40)] = None,
) -> JSONResponse:
    """The personalised parts of a product page for a client as of an instant: overall rating,
    cohort rating and sizing guidance (from L2, with `similar_customer_signals`), coordinating
    items and sizes in stock. The cohort used is recorded as the client's derived data."""
    try:
        instant = parse_instant(at) if at else utcnow()
    except ValueError:
        raise BadRequest("`at` must be an ISO 8601 instant", details={"field": "at"}) from None
    with reading(request.app.state.maison.engine) as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id, conn=conn)
        page, used = service.page_and_cohort(conn, client_id, product_id, at=instant)
    with request.app.state.maison.engine.begin() as write:
        if used is not None:
            service.remember_cohort(write, used)
        if caller.is_person:
            audit_read(write, caller, client_id, "product_page", at=utcnow())
    return JSONResponse(page)
