"""Privacy operations behind the API, the CLI and the dashboard."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.consent import service as consent
from maison.consent.exceptions import InvalidConsent
from maison.core.schema import notices, privacy_requests
from maison.core.settings import get_settings
from maison.identity import repository as identity_repo
from maison.ingest import service as ingest
from maison.personalize import derived
from maison.privacy import erasure, export, requests
from maison.privacy.rules import needs_renewal, settings_view

RECTIFIABLE = (
    "declared_categories", "sizes", "city", "country", "timezone", "channel_preferences", "first_name", "last_name"
)


def settings(conn: Connection, client_id: str, *, at: datetime | None = None) -> dict[str, Any]:
    state = consent.state(conn, client_id, at)
    view = settings_view(state, collection_access=derived.collections(conn, client_id, at=at))
    view["collection_access_reasons"] = derived.all_of(conn, client_id, derived.COLLECTION_ACCESS, at=at)
    view["needs_renewal"] = needs_renewal(state, *_notices(conn))
    return {"client_id": client_id, **view}


def _notices(conn: Connection) -> tuple[dict[str, str], dict[str, datetime]]:
    """Each purpose's newest notice version that changed its text, and every version's publication."""
    newest: dict[str, str] = {}
    published: dict[str, datetime] = {}
    for version, purposes, at in conn.execute(
        select(notices.c.version, notices.c.purposes, notices.c.published_at).order_by(notices.c.published_at)
    ):
        published[version] = at
        for p in purposes:
            newest[p] = version
    return newest, published


def publish_notice(conn: Connection, *, version: str, text: str, purposes: list[str], at: datetime) -> None:
    """A new notice text: consents to the listed purposes given under older notices need renewal."""
    import hashlib

    conn.execute(notices.insert().values(version=version, text=text,
                                         text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                                         purposes=purposes, published_at=at))


def export_now(conn: Connection, client_id: str, *, now: datetime, channel: str) -> dict[str, Any]:
    rid = requests.register(conn, client_id=client_id, kind="export", channel=channel, at=now)
    doc = export.build(conn, client_id, now=now)
    requests.complete(conn, rid, at=now)
    return doc


def erase_now(
    conn: Connection,
    client_id: str,
    *,
    now: datetime,
    channel: str,
    suppression_key: bytes,
    request_id: str | None = None,
) -> dict[str, Any]:
    rid = request_id or f"dsr_{uuid.uuid4().hex[:16]}"
    counts = erasure.erase(conn, client_id, request_id=rid, suppression_key=suppression_key, now=now)
    return {"request_id": rid, "erased": counts, "channel": channel}


def rectify(conn: Connection, client_id: str, traits: dict[str, Any], *, now: datetime, actor: str) -> str:
    """Correct declared data: stored as an identify event so the profile's history stays whole."""
    unknown = sorted(set(traits) - set(RECTIFIABLE))
    if unknown:
        raise InvalidConsent(f"cannot rectify {unknown}; rectifiable fields: {', '.join(RECTIFIABLE)}")
    idents = dict(identity_repo.identifiers_of_client(conn, client_id)[::-1])  # user wins over anon
    message: dict[str, Any] = {"type": "identify", "traits": traits, "timestamp": now.isoformat(),
                               "context": {"channel": "rectification"}}
    if "user" in idents:
        message["userId"] = idents["user"]
    elif "anon" in idents:
        message["anonymousId"] = idents["anon"]
    else:
        raise InvalidConsent("this client has no user or anonymous id to attach the correction to")
    rid = requests.register(
        conn, client_id=client_id, kind="rectification", channel="api", at=now, detail={"fields": sorted(traits)}
    )
    ingest.ingest(conn, [message], source="privacy", received_at=now, limits=get_settings().ingest)
    requests.complete(conn, rid, at=now)
    return rid


def open_requests(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(privacy_requests).where(privacy_requests.c.status != "done").order_by(privacy_requests.c.due_at)
    )
    return [dict(r) for r in rows.mappings()]
