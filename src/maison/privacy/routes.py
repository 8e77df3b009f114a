"""The privacy API: settings, export, erasure, rectification, decisions, requests."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from maison.access.auth import Caller, audit_read, authorize_client, issue_token, require_admin
from maison.core.clock import parse_instant, utcnow
from maison.core.db import reading
from maison.core.errors import BadRequest
from maison.identity.service import find_client
from maison.privacy import decisions, service
from maison.privacy.export import SCHEMA_PATH

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])


def _at(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise BadRequest("at is not an ISO 8601 instant", details={"field": "at"}) from None


@router.get("/export.schema.json")
def export_schema() -> dict[str, Any]:
    """The published JSON Schema of the export document."""
    return json.loads(SCHEMA_PATH.read_text())  # type: ignore[no-any-return]


@router.get("/{identifier}/settings")
def privacy_settings(
    identifier: str, request: Request, caller: Caller, at: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Every purpose with its level, granted state, current use, description and last change."""
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        audit_read(conn, caller, client_id, "privacy settings", at=utcnow())
        return service.settings(conn, client_id, at=_at(at))


@router.get("/{identifier}/export")
def export(identifier: str, request: Request, caller: Caller) -> dict[str, Any]:
    """Art. 15/20: one JSON document with everything stored and derived about the client."""
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        audit_read(conn, caller, client_id, "export", at=utcnow())
        return service.export_now(conn, client_id, now=utcnow(), channel=caller.scope)


@router.post("/{identifier}/erasure")
def erase(identifier: str, request: Request, caller: Caller) -> dict[str, Any]:
    """Art. 17: erase the client everywhere; only a keyed-hash suppression record remains."""
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        return service.erase_now(
            conn,
            client_id,
            now=utcnow(),
            channel=caller.scope,
            suppression_key=request.app.state.maison.suppression_key,
        )


@router.patch("/{identifier}/declared")
def rectify(
    identifier: str, request: Request, caller: Caller, traits: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Art. 16: correct declared data (categories, sizes, city, time zone, channel preferences)."""
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        rid = service.rectify(conn, client_id, traits, now=utcnow(), actor=caller.actor)
    return {"client_id": client_id, "request_id": rid, "status": "done"}


@router.get("/{identifier}/decisions")
def why(
    identifier: str, request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    """"Why am I seeing this": recent automated decisions with versions, data used and reasons."""
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        audit_read(conn, caller, client_id, "decisions", at=utcnow())
        return {"client_id": client_id, "decisions": decisions.for_client(conn, client_id, limit=limit)}


@router.post("/{identifier}/token")
def self_service_token(
    identifier: str,
    request: Request,
    caller: Caller,
    ttl_seconds: Annotated[int, Query(ge=60, le=7 * 86400)] = 3600,
) -> dict[str, Any]:
    """Admin: issue a signed, expiring self-service link token for the client's dashboard."""
    require_admin(caller)
    state = request.app.state.maison
    with reading(state.engine) as conn:
        client_id = find_client(conn, identifier)
    token = issue_token(state.settings.token_secret(), client_id, ttl_seconds=ttl_seconds)
    return {"client_id": client_id, "token": token, "dashboard": f"/privacy?token={token}", "expires_in": ttl_seconds}


@router.get("/requests")
def open_requests(request: Request, caller: Caller) -> dict[str, Any]:
    """Admin: data-subject requests not yet done, by due date (30 days from the request)."""
    require_admin(caller)
    with reading(request.app.state.maison.engine) as conn:
        return {"requests": service.open_requests(conn)}
