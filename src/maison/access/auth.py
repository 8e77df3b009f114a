"""Who is asking: admin and associate API keys, and client self-service tokens.

Keys travel as `Authorization: Bearer <key>`; self-service tokens are HMAC-signed
`client_id.expiry.signature` strings handed to the client in a signed link, valid only for
that client's own data and only until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from maison.access.keys import digest
from maison.core.db import reading
from maison.core.errors import Conflict, Forbidden, Unauthorized
from maison.core.schema import access_log, api_keys, events

SCOPES = ("admin", "associate")


@dataclass(frozen=True, slots=True)
class Principal:
    scope: str  # admin | associate | client
    actor: str  # key name, or "client" for self-service
    store_id: str | None = None
    client_id: str | None = None  # set for self-service tokens

    @property
    def is_person(self) -> bool:
        """Reads by staff are audited; a client reading their own data is not a third party."""
        return self.scope in ("admin", "associate")


def create_api_key(conn: Connection, *, name: str, scope: str, store_id: str | None, now: datetime) -> str:
    if scope not in SCOPES:
        raise Conflict(f"scope must be one of {', '.join(SCOPES)}")
    if scope == "associate" and not store_id:
        raise Conflict("an associate key is bound to a store: give --store")
    key = f"mk_{scope[:3]}_" + secrets.token_urlsafe(24)
    try:
        conn.execute(api_keys.insert().values(name=name, key_hash=digest(key), scope=scope, store_id=store_id, created_at=now))
    except IntegrityError:
        raise Conflict(f"a key named {name!r} exists already") from None
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def issue_token(secret: bytes, client_id: str, *, ttl_seconds: int = 3600, now: float | None = None) -> str:
    expiry = int((now if now is not None else time.time()) + ttl_seconds)
    payload = f"{client_id}.{expiry}"
    sig = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(sig)}"


def verify_token(secret: bytes, token: str, *, now: float | None = None) -> str:
    """The client id a valid, unexpired token was issued for."""
    try:
        client_id, expiry, sig = token.rsplit(".", 2)
        expires = int(expiry)
    except ValueError:
        raise Unauthorized("the token is malformed") from None
    expected = _b64(hmac.new(secret, f"{client_id}.{expiry}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, sig):
        raise Unauthorized("the token signature is not valid")
    if expires < (now if now is not None else time.time()):
        raise Unauthorized("the token has expired; ask for a new link")
    return client_id


def principal(request: Request) -> Principal:
    """The caller, from a Bearer API key or a self-service token (header or `token` query)."""
    state = request.app.state.maison
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.query_params.get("token")
    if not token:
        raise Unauthorized("credentials required: Authorization: Bearer <api key or client token>")
    if token.startswith("mk_"):
        with reading(state.engine) as conn:
            row = conn.execute(
                select(api_keys.c.name, api_keys.c.scope, api_keys.c.store_id).where(
                    api_keys.c.key_hash == digest(token), api_keys.c.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            raise Unauthorized("the API key is not valid")
        return Principal(scope=row.scope, actor=row.name, store_id=row.store_id)
    client_id = verify_token(state.settings.token_secret(), token)
    return Principal(scope="client", actor="client", client_id=client_id)


Caller = Annotated[Principal, Depends(principal)]


def require_admin(caller: Principal) -> None:
    if caller.scope != "admin":
        raise Forbidden("this needs an admin key")


def authorize_client(caller: Principal, client_id: str, *, conn: Connection | None = None) -> None:
    """Self-service tokens reach only their own client; admins reach any; an associate reaches
    the clients of their own store (who bought or visited there), checked when `conn` is given."""
    if caller.scope == "client" and caller.client_id != client_id:
        raise Forbidden("this token is for another client")
    if caller.scope == "associate":
        if conn is None:
            raise Forbidden("this needs an admin key or the client's own link")
        known = conn.execute(
            select(events.c.id).where(events.c.client_id == client_id, events.c.store_id == caller.store_id).limit(1)
        ).first()
        if known is None:
            raise Forbidden("this client is not a client of your store")


def audit_read(conn: Connection, caller: Principal, client_id: str, what: str, *, at: datetime) -> None:
    """Every read of a client's data by a person is recorded."""
    if caller.is_person:
        conn.execute(access_log.insert().values(client_id=client_id, actor=caller.actor, scope=caller.scope, what=what, at=at))
