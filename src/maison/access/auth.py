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
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

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
        conn.execute(
            api_keys.insert().values(name=name, key_hash=digest(key), scope=scope, store_id=store_id, created_at=now)
        )
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


class ApiKeys:
    """Verifies admin and associate keys, remembering a valid key for `ttl` seconds.

    A key is looked up by its digest once, not on every request (the lookup was a connection,
    a transaction and a query each time); revoking it (`revoked_at`, possibly by another
    process) takes effect within `ttl`, as for write keys (`keys.KeyRing`). Only valid keys are
    remembered: a key that failed is looked up again, so a key created meanwhile works at once.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, *, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._valid: dict[str, tuple[float, Principal]] = {}

    def remembered(self, key: str) -> Principal | None:
        """The key's caller if it was found valid less than `ttl` seconds ago (no I/O)."""
        hit = self._valid.get(digest(key))
        return hit[1] if hit is not None and time.monotonic() - hit[0] <= self._ttl else None

    def verify(self, engine: Engine, key: str) -> Principal:
        """The key's caller, looked up in `engine`'s store unless remembered."""
        found = self.remembered(key)
        if found is not None:
            return found
        h = digest(key)
        now = time.monotonic()
        with reading(engine) as conn:
            row = conn.execute(
                select(api_keys.c.name, api_keys.c.scope, api_keys.c.store_id).where(
                    api_keys.c.key_hash == h, api_keys.c.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            self._valid.pop(h, None)
            raise Unauthorized("the API key is not valid")
        found = Principal(scope=row.scope, actor=row.name, store_id=row.store_id)
        if len(self._valid) >= self.MAX_ENTRIES:
            self._valid.clear()
        self._valid[h] = (now, found)
        return found


_API_KEYS: weakref.WeakKeyDictionary[Engine, ApiKeys] = weakref.WeakKeyDictionary()
_API_KEYS_LOCK = threading.Lock()


def api_keys_of(engine: Engine) -> ApiKeys:
    """The key verifier of a store (one per engine, gone with it: it holds no reference to it)."""
    with _API_KEYS_LOCK:
        found = _API_KEYS.get(engine)
        if found is None:
            found = _API_KEYS[engine] = ApiKeys()
        return found


async def principal(request: Request) -> Principal:
    """The caller, from a Bearer API key or a self-service token (header or `token` query).

    Async so that a remembered key or a token (an HMAC) costs no hand-off to the thread pool;
    a key that must be looked up is looked up there."""
    state = request.app.state.maison
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.query_params.get("token")
    if not token:
        raise Unauthorized("credentials required: Authorization: Bearer <api key or client token>")
    if token.startswith("mk_"):
        keys = api_keys_of(state.engine)
        remembered = keys.remembered(token)
        return remembered if remembered is not None else await run_in_threadpool(keys.verify, state.engine, token)
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
        conn.execute(
            access_log.insert().values(client_id=client_id, actor=caller.actor, scope=caller.scope, what=what, at=at)
        )
