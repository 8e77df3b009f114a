"""Read one client's profile, found by any of its identifiers, as of an instant.

The caller owns the connection (and its transaction); this only reads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from maison.core.clock import parse_instant, utcnow
from maison.core.errors import BadRequest
from maison.identity.service import find_client
from maison.profiles import repository as repo
from maison.profiles.entities import Profile
from maison.profiles.rules import build_profile, priced_products


def parse_as_of(value: str | None, *, name: str = "at") -> datetime | None:
    """An instant given as ISO 8601 text (no offset means UTC), or BadRequest naming the input."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise BadRequest(
            f"{name} is not an ISO 8601 instant; use for example 2026-02-17T19:15:00+00:00",
            details={"field": name},
        ) from None


def get_profile(conn: Connection, identifier: str, *, as_of: datetime | None = None) -> Profile:
    """The profile of the client holding `identifier` (client id, userId, anonymousId, email,
    phone), built from its events timestamped at or before `as_of` (default: now).

    Raises UnknownClient (404) when no client holds the identifier.
    """
    if as_of is None:
        as_of = utcnow()
    elif as_of.tzinfo is None:
        raise BadRequest("as_of needs a UTC offset, for example 2026-02-17T19:15:00+00:00")
    client_id = find_client(conn, identifier)
    events = repo.client_events(conn, client_id, until=as_of)
    identifiers = repo.client_identifiers(conn, client_id)
    prices = repo.catalogue_prices(conn, priced_products(events))
    return build_profile(client_id, identifiers, events, as_of=as_of, prices=prices)
