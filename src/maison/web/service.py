"""What the dashboard's pages do, over one connection the page owns (one transaction each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from maison.consent import service as consent
from maison.identity.exceptions import UnknownClient
from maison.identity.service import find_client
from maison.privacy import decisions
from maison.privacy import service as privacy
from maison.web.entities import Change, Dashboard
from maison.web.exceptions import NoDataForLink
from maison.web.rules import dashboard

CHANNEL = "dashboard"  # how consent changes and data-subject requests made here are recorded
RECENT_DECISIONS = 20


def client_of(conn: Connection, token_client_id: str) -> str:
    """The client a link was issued for, followed through identity merges (404 once erased)."""
    try:
        return find_client(conn, token_client_id)
    except UnknownClient:
        raise NoDataForLink("we hold no data for this link any more") from None


def load(conn: Connection, client_id: str) -> Dashboard:
    """The dashboard now: consent state, the settings document the API serves (renewals, collection
    access), recent decisions."""
    state = consent.state(conn, client_id)
    settings = privacy.settings(conn, client_id)
    recent = decisions.for_client(conn, client_id, limit=RECENT_DECISIONS)
    return dashboard(state, recent, renewal=settings["needs_renewal"],
                     collection_access=settings["collection_access_reasons"])


def apply(conn: Connection, client_id: str, change: Change, *, now: datetime) -> None:
    """Record one change in the ledger, exactly as the consent API would (withdrawals enforced)."""
    consent.update(
        conn,
        client_id,
        purposes={change.purpose: bool(change.granted)} if change.purpose else None,
        level=change.level,
        restriction=change.restriction,
        object_marketing=change.object_marketing,
        object_profiling=change.object_profiling,
        method=CHANNEL,
        at=now,
        actor="client",
    )


def export(conn: Connection, client_id: str, *, now: datetime) -> dict[str, Any]:
    return privacy.export_now(conn, client_id, now=now, channel=CHANNEL)


def erase(conn: Connection, client_id: str, *, now: datetime, suppression_key: bytes) -> str:
    """Erase the client now; returns the request reference (the only thing the page may show)."""
    result = privacy.erase_now(conn, client_id, now=now, channel=CHANNEL, suppression_key=suppression_key)
    return str(result["request_id"])
