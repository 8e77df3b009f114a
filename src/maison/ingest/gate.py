"""What may be stored: the consent check at ingest, in front of the event store.

Order matters and is fixed here: events of erased clients are dropped before they can create
anything; consent records are applied before the events they govern (within a batch, by
timestamp); every other event is kept only if its category may be collected for its client
at the event's own timestamp. Dropped events are counted, never logged with their content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from maison.consent import service as consent
from maison.consent.entities import ConsentState, Use
from maison.consent.purposes import CONSENT_RECORD
from maison.consent.rules import UNSUBSCRIBED, entries_from_consent_event, entries_from_unsubscribe
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


def _decides_links(batch: Sequence[Event], owner: Mapping[tuple[str, str], str]) -> bool:
    """Whether any event's client depends on the userIds clients hold (`plan_links`): only when
    its identifiers reach a client and are not all that one client's. Steady traffic from
    known people needs no such read."""
    return any(len({owner.get(i) for i in e.identifiers}) > 1 for e in batch)


def admit(conn: Connection, batch: Sequence[Event], *, now: datetime, suppression_key: bytes) -> Admitted:
    out = Admitted()
    gone = suppressed(conn, suppression_key, {i for e in batch for i in e.identifiers})
    live = [e for e in batch if not any(i in gone for i in e.identifiers)]
    out.dropped += len(batch) - len(live)

    # Phase 1: what may be kept under the default state (identity, consent, declared data,
    # purchases) resolves identities first, so consent stated in this batch exists before
    # the behaviour it covers is judged.
    first = sorted(
        (e for e in live if may_in_state(_DEFAULT, e.data_category, Use.COLLECT)), key=lambda e: (e.timestamp, e.index)
    )
    rest = [e for e in live if not may_in_state(_DEFAULT, e.data_category, Use.COLLECT)]
    # Every lock the batch may need (identifiers it may link, clients it may write or merge),
    # taken once, before any write. Behaviour of people with no client yet links nothing (it
    # is dropped), unless this batch's own consent or identify creates the client: what that
    # needs is locked later (mostly the new client, which no one else can see; a cycle with
    # another writer is possible only then, and `core.db.in_transaction` retries its victim).
    named = {i for e in live for i in e.identifiers}
    identity.lock_graph_first(conn, len(named))
    seen = identity_repo.owners(conn, named)
    linking = [*first, *(e for e in rest if any(i in seen for i in e.identifiers))]
    owner = identity.lock_batch(conn, linking, known=seen)
    resolved = identity.resolve_keeping(conn, first, now=now, known=owner) if first else None
    first_clients = resolved.clients if resolved else []
    entries = []
    for e, client in zip(first, first_clients, strict=True):
        if e.data_category != CONSENT_RECORD:
            continue
        if e.event == "Consent Updated":
            props = e.raw.get("properties") or {}
            context = e.raw.get("context") or {}
            entries += entries_from_consent_event(
                client, props, effective_at=e.timestamp, message_id=e.message_id, method=_method(e),
                geography=str(context.get("country") or props.get("geography") or "") or None,
            )
        elif e.event == UNSUBSCRIBED:
            entries += entries_from_unsubscribe(client, effective_at=e.timestamp, message_id=e.message_id,
                                                method=_method(e) if e.channel else "email_link")
    if entries:
        consent.record(conn, entries, now=now)

    # Phase 2: observed behaviour needs a client who consented at the event's time.
    candidates: list[tuple[Event, str]] = []
    if rest:
        users = None
        if resolved is not None:  # phase 1 may have linked or merged
            if resolved.owner is None:  # not kept current (an alias): read again
                owner = identity_repo.owners(conn, {i for e in rest for i in e.identifiers})
            else:  # every identifier the batch had, with phase 1's links and merges applied
                owner, users = resolved.owner, resolved.users
        if users is None:
            users = identity_repo.users_of(conn, set(owner.values())) if _decides_links(rest, owner) else {}
        for e in rest:
            target = plan_links(e.identifiers, owner, users).target
            if target is None:
                out.dropped += 1
            else:
                candidates.append((e, target))
    # One set-based question for the whole batch, asked after this batch's consent is recorded.
    judged = [*zip(first, first_clients, strict=True), *candidates]
    allowed = consent.may_collect(conn, [(c, e.data_category, e.timestamp) for e, c in judged])
    verdicts = iter(allowed)
    for e, client in zip(first, first_clients, strict=True):
        if next(verdicts):
            out.events.append(e)
            out.clients.append(client)
        else:
            out.dropped += 1
    kept = [e for (e, _), ok in zip(candidates, verdicts, strict=True) if ok]
    out.dropped += len(candidates) - len(kept)
    if kept:
        out.events += kept
        # The owners read above is current for this transaction: resolve need not read it again.
        out.clients += identity.resolve(conn, kept, now=now, known=owner)
    return out
