"""Write keys: created once, shown once, stored as a SHA-256 digest.

Keys are 192-bit random secrets, so a plain digest is enough (no slow KDF is needed against
guessing), and looking a key up stays one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from maison.core.db import reading
from maison.core.errors import BadRequest, Conflict, NotFound, Unauthorized
from maison.core.schema import sources


@dataclass(frozen=True, slots=True)
class Source:
    """The write key's owner: the name events are deduplicated under, its allowed origins, and
    whether its events may carry data-subject requests (`privacy.requests.REQUEST_EVENTS`)."""

    id: int
    name: str
    allowed_origins: tuple[str, ...]
    privacy_requests: bool = False


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, *, name: str, origins: list[str], now: datetime,
               privacy_requests: bool = False) -> str:
    """A new key, returned once. `privacy_requests`: its events may ask for a client's export or
    erasure, which is acted on at once; so never a key a browser uses (any in `origins`): a
    key in a page is public, and with it anyone could erase any client whose userId they know."""
    if privacy_requests and origins:
        raise BadRequest("a key with browser origins is public: it cannot carry privacy requests "
                         "(create a separate key for the shop's back end)")
    key = "mk_" + secrets.token_urlsafe(24)
    try:
        conn.execute(
            sources.insert().values(
                name=name, key_hash=digest(key), key_prefix=key[:8], allowed_origins=origins, created_at=now,
                privacy_requests=privacy_requests,
            )
        )
    except IntegrityError:
        raise Conflict(f"a key named {name!r} exists already") from None
    return key


def may_send_privacy_requests(conn: Connection, name: str) -> bool:
    """Whether the source named `name` is an active key whose events may carry data-subject requests."""
    return conn.execute(
        select(sources.c.id).where(sources.c.name == name, sources.c.revoked_at.is_(None),
                                   sources.c.privacy_requests.is_(True))
    ).first() is not None


def revoke_key(conn: Connection, *, name: str, now: datetime) -> None:
    result = conn.execute(
        update(sources).where(sources.c.name == name, sources.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    if result.rowcount == 0:
        raise NotFound(f"no active key named {name!r}")


def list_keys(conn: Connection) -> list[dict[str, object]]:
    rows = conn.execute(select(sources).order_by(sources.c.id)).mappings()
    return [{k: v for k, v in r.items() if k != "key_hash"} for r in rows]


class KeyRing:
    """Verifies write keys with a short-lived cache (revocation takes effect within `ttl`)."""

    def __init__(self, engine: Engine, *, ttl: float = 5.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Source | None]] = {}

    def remembered(self, key: str | None) -> Source | None:
        """The key's source if it was found valid less than `ttl` seconds ago, without I/O, so
        the event loop may ask before handing the request to a worker thread."""
        hit = self._cache.get(digest(key)) if key else None
        if hit is None or hit[1] is None or time.monotonic() - hit[0] > self._ttl:
            return None
        return hit[1]

    def verify(self, key: str | None) -> Source:
        if not key:
            raise Unauthorized("a write key is required (HTTP Basic user name, or writeKey in the body)")
        h = digest(key)
        now = time.monotonic()
        hit = self._cache.get(h)
        if hit is None or now - hit[0] > self._ttl:
            with reading(self._engine) as conn:
                row = conn.execute(
                    select(sources.c.id, sources.c.name, sources.c.allowed_origins, sources.c.privacy_requests)
                    .where(sources.c.key_hash == h, sources.c.revoked_at.is_(None))
                ).first()
            found = (Source(row.id, row.name, tuple(row.allowed_origins or ()), bool(row.privacy_requests))
                     if row else None)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[h] = hit = (now, found)
        if hit[1] is None:
            raise Unauthorized("the write key is not valid")
        return hit[1]

    def any_allows(self, origin: str) -> bool:
        """Whether some active key accepts this origin (for CORS preflight, which carries no key)."""
        with reading(self._engine) as conn:
            rows = conn.execute(select(sources.c.allowed_origins).where(sources.c.revoked_at.is_(None)))
            return any(origin in (r[0] or []) or "*" in (r[0] or []) for r in rows)
