"""What may be stored: the consent check at ingest, in front of the event store.

Order matters and is fixed here: events of erased clients are dropped before they can create
anything; consent records are applied before the events they govern (within a batch, by
timestamp); every other event is kept only if its category may be collected for its client
at the event's own timestamp. Dropped events are counted, never logged with their content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from maison.consent import service as consent
from maison.consent.entities import ConsentState, Use
from maison.consent.purposes import CONSENT_RECORD, PURPOSES
from maison.consent.rules import entries_from_consent_event
from maison.consent.rules import may as may_in_state
from maison.identity import repository as identity_repo
from maison.identity import service as identity
from maison.identity.rules import plan_links
from maison.ingest.entities import Event
from maison.privacy.suppression import suppressed

_DEFAULT = ConsentState()


@dataclass
class Admitted:
    """Events to store with their clients, and what was refused."""

    events: list[Event] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    dropped: int = 0


def _method(event: Event) -> str:
    channel = (event.channel or "").lower()
    return channel if channel in ("web", "app", "store", "associate", "email_link") else "web"


def admit(conn: Connection, batch: Sequence[Event], *, now: datetime, suppression_key: bytes) -> Admitted:
    out = Admitted()
    gone = suppressed(conn, suppression_key, {i for e in batch for i in e.identifiers})
    live = [e for e in batch if not any(i in gone for i in e.identifiers)]
    out.dropped += len(batch) - len(live)

    # Phase 1: what may be kept under the default state (identity, consent, declared data,
    # purchases) resolves identities first, so consent stated in this batch exists before
    # the behaviour it covers is judged.
    first = sorted((e for e in live if may_in_state(_DEFAULT, e.data_category, Use.COLLECT)), key=lambda e: (e.timestamp, e.index))
    rest = [e for e in live if not may_in_state(_DEFAULT, e.data_category, Use.COLLECT)]
    first_clients = identity.resolve(conn, first, now=now) if first else []
    entries = []
    for e, client in zip(first, first_clients, strict=True):
        if e.event == "Consent Updated" and e.data_category == CONSENT_RECORD:
            props = e.raw.get("properties") or {}
            context = e.raw.get("context") or {}
            entries += entries_from_consent_event(
                client, props, effective_at=e.timestamp, message_id=e.message_id, method=_method(e),
                geography=str(context.get("country") or props.get("geography") or "") or None,
            )
    if entries:
        consent.record(conn, entries, now=now)

    # Phase 2: observed behaviour needs a client who consented at the event's time.
    candidates: list[tuple[Event, str]] = []
    if rest:
        owner = identity_repo.owners(conn, {i for e in rest for i in e.identifiers})
        users = identity_repo.users_of(conn, set(owner.values()))
        for e in rest:
            target = plan_links(e.identifiers, owner, users).target
            if target is None:
                out.dropped += 1
            else:
                candidates.append((e, target))
    # Collection decisions read only the purpose rows of the categories in this batch.
    needed = {e.data_category for e in live} & set(PURPOSES)
    book = consent.book(conn, set(first_clients) | {c for _, c in candidates}, purposes=needed)
    for e, client in zip(first, first_clients, strict=True):
        if book.may(client, e.data_category, Use.COLLECT, e.timestamp):
            out.events.append(e)
            out.clients.append(client)
        else:
            out.dropped += 1
    kept = [e for e, c in candidates if book.may(c, e.data_category, Use.COLLECT, e.timestamp)]
    out.dropped += len(candidates) - len(kept)
    if kept:
        out.events += kept
        out.clients += identity.resolve(conn, kept, now=now)
    return out
