"""`GET /v1/recommendations/{identifier}?surface=home|product_page|digest&product_id=&k=`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from maison.access.auth import Caller, audit_read, authorize_client
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.responses import JSONResponse
from maison.identity.service import find_client
from maison.recommend import service

router = APIRouter(prefix="/v1", tags=["recommendations"])


@router.get("/recommendations/{identifier}", response_class=JSONResponse)
def get_recommendations(
    identifier: str,
    request: Request,
    caller: Caller,
    surface: Annotated[str, Query(description="home, product_page or digest.", max_length=20)] = "home",
    product_id: Annotated[str | None, Query(description="The page's product (surface=product_page).",
                                            max_length=200)] = None,
    k: Annotated[int, Query(description="How many items (1-50).", ge=1, le=service.MAX_K)] = 10,
) -> JSONResponse:
    """Recommended items, each with its reason text, reason codes and the client data categories it
    used, at the depth the client's consent allows now; the served set is written to the decision
    audit. Staff keys (admin; associates for clients of their store) and the client's own token;
    every read by a person is written to the access log."""
    engine = request.app.state.maison.engine
    # The read connection is opened here rather than by a FastAPI dependency, and closed
    # before the audit is written: on SQLite a reader still open when the audit commits keeps
    # the write-ahead log from being restarted, and once the log has passed its checkpoint size
    # every later commit checkpoints (an fsync, 3-15 ms) inside the request. (A dependency with
    # `yield` also costs two hand-offs to the thread pool per request.)
    with reading(engine) as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id, conn=conn)
        now = utcnow()
        wanted = service.Request(surface=surface, product_id=product_id, k=k)
        served = service.recommend(conn, client_id, wanted, at=now)
    with engine.begin() as audit:  # committed before the response: nothing served is missing from the audit
        if served.withheld is None:
            service.record(audit, served)
        if caller.is_person:
            audit_read(audit, caller, client_id, "recommendations", at=now)
    return JSONResponse(served.to_dict())
