"""`PUT /v1/consent/{client}` and the consent history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from maison.access.auth import Caller, authorize_client
from maison.consent import repository, service
from maison.consent.schemas import ConsentChange
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.identity.service import find_client

router = APIRouter(prefix="/v1", tags=["consent"])


@router.put("/consent/{identifier}")
def put_consent(identifier: str, change: ConsentChange, request: Request, caller: Caller) -> dict[str, Any]:
    """Grant or withdraw purposes, set the depth, restrict or object; returns the new settings."""
    engine = request.app.state.maison.engine
    with engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        method = "dashboard" if caller.scope == "client" and change.method == "api" else change.method
        now = utcnow()
        service.update(
            conn, client_id, purposes=change.purposes, level=change.personalization_level,
            restriction=change.restriction, object_marketing=change.object_marketing,
            object_profiling=change.object_profiling, method=method, at=now, actor=caller.actor,
            notice_version=change.notice_version, geography=change.geography,
        )
        # the same settings document as GET /v1/privacy/{id}/settings (collection access, renewals)
        from maison.privacy.service import settings

        return settings(conn, client_id, at=now)


@router.get("/consent/{identifier}/history")
def consent_history(identifier: str, request: Request, caller: Caller) -> dict[str, Any]:
    """Every consent change, in order (the ledger is append-only)."""
    with reading(request.app.state.maison.engine) as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        return {"client_id": client_id, "history": repository.history(conn, client_id)}
