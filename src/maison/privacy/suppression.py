"""Suppression of erased clients: keyed hashes of identifiers, never the identifiers.

HMAC (not a plain hash) so that a leaked table cannot be reversed by hashing known emails.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection

from maison.core.dialect import insert_ignoring_conflicts, lookup_keys
from maison.core.schema import suppressions

Identifier = tuple[str, str]


@lru_cache(maxsize=65_536)
def keyed_hash(key: bytes, identifier: Identifier) -> str:
    """Cached: ingestion hashes every identifier of every batch, and a client's identifiers recur."""
    kind, value = identifier
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def suppressed(conn: Connection, key: bytes, identifiers: Iterable[Identifier]) -> set[Identifier]:
    """Which of these identifiers belong to an erased client (asked of every ingest batch)."""
    by_hash = {keyed_hash(key, i): i for i in set(identifiers)}
    hashes = [(h,) for h in sorted(by_hash)]
    found = lookup_keys(conn, suppressions, ("identifier_hash",), hashes, value="identifier_hash")
    return {by_hash[h] for (h,) in found}


def suppress(
    conn: Connection, key: bytes, identifiers: Sequence[Identifier], *, request_id: str | None, at: datetime
) -> None:
    rows = [{"identifier_hash": keyed_hash(key, i), "request_id": request_id, "suppressed_at": at} for i in identifiers]
    insert_ignoring_conflicts(conn, suppressions, rows, index=("identifier_hash",))
