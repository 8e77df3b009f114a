"""Segment HTTP Tracking API, including analytics.js short paths and CORS per write key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from maison.access.keys import Source
from maison.core.clock import parse_instant, utcnow
from maison.core.db import in_transaction
from maison.core.errors import Forbidden, InvalidMessage, MaisonError, MalformedBody
from maison.core.responses import JSONResponse
from maison.ingest import service
from maison.ingest.http import basic_auth_user, parse_json, read_body
from maison.ingest.rules import SHORT_PATHS

router = APIRouter(prefix="/v1", tags=["ingest"])

_SINGLE = {"identify", "track", "page", "screen", "group", "alias"}


def _cors_headers(request: Request, source: Source) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin:
        return {}
    if origin not in source.allowed_origins and "*" not in source.allowed_origins:
        raise Forbidden("this write key does not accept requests from that origin")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


async def _handle(request: Request, kind: str) -> Response:
    """Errors carry CORS headers too when the origin is allowed, so a browser SDK can read
    them (and does not retry a 400 it could not see)."""
    try:
        return await _accept(request, kind)
    except MaisonError as exc:
        origin = request.headers.get("origin")
        headers: dict[str, str] = {}
        if origin and await run_in_threadpool(request.app.state.maison.keys.any_allows, origin):
            headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


async def _accept(request: Request, kind: str) -> Response:
    app = request.app.state.maison
    limits = app.settings.ingest
    body = parse_json(await read_body(request, limit=limits.max_request_bytes))
    write_key = basic_auth_user(request) or body.get("writeKey")
    key = write_key if isinstance(write_key, str) else None
    source = app.keys.remembered(key) or await run_in_threadpool(app.keys.verify, key)
    headers = _cors_headers(request, source)
    received_at = utcnow()
    sent_at = None
    if kind == "batch":
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise MalformedBody("a batch body needs a 'batch' array of messages")
        if isinstance(body.get("sentAt"), str):
            try:
                sent_at = parse_instant(body["sentAt"])
            except ValueError:
                raise MalformedBody("sentAt is not a valid ISO 8601 timestamp") from None
        context = body.get("context") if isinstance(body.get("context"), dict) else None
        default_type = None
    else:
        messages = [{k: v for k, v in body.items() if k != "writeKey"}]
        context = None
        default_type = kind

    def work() -> dict[str, Any]:
        valid, rejected = service.validate(
            messages, received_at=received_at, limits=limits, batch_context=context,
            sent_at=sent_at, default_type=default_type, privacy_requests=source.privacy_requests,
        )
        if kind != "batch" and rejected:
            r = rejected[0][0]
            raise InvalidMessage(r.reason, details={"field": r.field})
        result = in_transaction(app.engine, lambda conn: service.store(
            conn, source=source.name, valid=valid, rejected=rejected, received_at=received_at,
            suppression_key=app.suppression_key,
        ))
        return result.to_dict()

    return JSONResponse(await run_in_threadpool(work), headers=headers)


@router.post("/batch")
@router.post("/b")
@router.post("/import")
async def batch(request: Request) -> Response:
    """A batch of messages: good ones stored, bad ones quarantined, both in one transaction."""
    return await _handle(request, "batch")


def _single(kind: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _handle(request, kind)

    endpoint.__name__ = kind
    endpoint.__doc__ = f"One `{kind}` message; an invalid message gets 400 with its reason."
    return endpoint


for _kind in sorted(_SINGLE):
    router.add_api_route(f"/{_kind}", _single(_kind), methods=["POST"], name=_kind)
for _short, _kind in SHORT_PATHS.items():
    router.add_api_route(f"/{_short}", _single(_kind), methods=["POST"], name=f"{_kind}_short", include_in_schema=False)


@router.options("/{path:path}", include_in_schema=False)
async def preflight(request: Request, path: str) -> Response:
    """CORS preflight: allowed when some write key lists the origin (the key is in the body)."""
    origin = request.headers.get("origin")
    app = request.app.state.maison
    if not origin or not await run_in_threadpool(app.keys.any_allows, origin):
        return Response(status_code=403)
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": request.headers.get(
                "access-control-request-headers", "Content-Type, Authorization"
            ),
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )
