"""Identity resolution for a batch of events, and the admin operations merge and split.

The batch is resolved with one look-up of every identifier it carries; the graph is only
locked (and re-read) when the batch would create a link or a merge, so steady traffic from
known clients never waits on other writers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from maison.core.dialect import MOST_KEY_LOCKS, lock_identity_graph, lock_identity_keys
from maison.core.schema import clients
from maison.identity import repository as repo
from maison.identity.exceptions import MergeNotUndoable, UnknownClient
from maison.identity.rules import (
    ANON,
    EMAIL,
    IDENTIFIER_KINDS,
    PHONE,
    USER,
    event_owner_identifier,
    normalize,
    plan_links,
)
from maison.ingest.entities import Event

Identifier = tuple[str, str]


def _needs_writes(batch: Sequence[Event], owner: Mapping[Identifier, str]) -> bool:
    if any(e.type == "alias" for e in batch):
        return True
    for e in batch:
        idents = e.identifiers
        if any(i not in owner for i in idents):
            return True
        if len({owner[i] for i in idents}) > 1:
            return True
    return False


def _linked(event: Event) -> list[Identifier]:
    """Identifiers one message ties together (an alias's previous id included)."""
    return [*event.identifiers, *(_alias_previous(event) if event.type == "alias" else ())]


def lock_names(batch: Sequence[Event], owner: Mapping[Identifier, str]) -> tuple[set[str], set[str]]:
    """What a batch must lock before writing, as (exclusive, shared) lock names.

    Exclusive: every identifier it may link (unowned now), and every client it may merge. A
    merge only joins clients whose identifiers meet in the batch's messages, directly or
    through a chain (A with B in one message, B with C in another), so a group of identifiers
    so connected that reaches two or more clients has them all locked exclusively. Shared:
    the other clients it adds events or links to.
    """
    parent: dict[Identifier, Identifier] = {}

    def root(i: Identifier) -> Identifier:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for event in batch:
        idents = _linked(event)
        for other in idents[1:]:
            parent[root(other)] = root(idents[0])
        if idents:
            root(idents[0])
    clients_of: dict[Identifier, set[str]] = defaultdict(set)
    for ident in list(parent):
        if ident in owner:
            clients_of[root(ident)].add(owner[ident])
    exclusive = {f"identifier:{k}:{v}" for k, v in parent if (k, v) not in owner}
    shared: set[str] = set()
    for reached in clients_of.values():
        (exclusive if len(reached) > 1 else shared).update(f"client:{c}" for c in reached)
    return exclusive, shared - exclusive


def resolve(
    conn: Connection, batch: Sequence[Event], *, now: datetime, known: Mapping[Identifier, str] | None = None
) -> list[str]:
    """The client of each event, creating clients, links and merges as the rules allow.

    Concurrency (PostgreSQL): the batch holds the locks it needs (`lock_batch`) before it
    writes. `known` is an `owners` read of (at least) every identifier of the batch made
    earlier in this transaction, under those locks, which spares a read; it is ignored for
    aliases, whose previous ids it would not cover.
    """
    return resolve_keeping(conn, batch, now=now, known=None if known is None else dict(known)).clients


@dataclass
class Resolved:
    """The clients of a batch's events, and what is known of the graph after its writes.

    `owner` and `users` are None when they are not known to be current for everything they
    hold; the caller then reads again what it needs.
    """

    clients: list[str]
    owner: dict[Identifier, str] | None = None
    users: dict[str, frozenset[str]] | None = None


def resolve_keeping(
    conn: Connection, batch: Sequence[Event], *, now: datetime, known: dict[Identifier, str] | None
) -> Resolved:
    """`resolve`, keeping `known` current: the links and merges it makes are applied to it in
    place, so a caller that read the owners of more identifiers than this batch's (the ingest
    gate, before judging the rest of its batch) need not read them again."""
    wanted = {i for e in batch for i in _linked(e)}
    current = known is not None and not any(e.type == "alias" for e in batch)
    owner = known if known is not None and current else repo.owners(conn, wanted)
    if conn.dialect.name == "postgresql":
        locked = _lock_and_reread(conn, batch, wanted, owner)
        current = current and locked is owner  # read again: it holds only this batch's identifiers
        owner = locked
    users = _apply_links(conn, batch, owner, now=now) if _needs_writes(batch, owner) else None
    clients = [owner[event_owner_identifier(e.user_id, e.anonymous_id)] for e in batch]
    return Resolved(clients, owner if current else None, users if current else None)


def lock_batch(
    conn: Connection, batch: Sequence[Event], *, known: Mapping[Identifier, str] | None = None
) -> dict[Identifier, str]:
    """Lock, in one ordered step, everything the batch may touch; return its owners read under them.

    An ingest transaction calls this once before its first write: locks taken later, in a
    second step, would not follow the one global order and two writers could each hold what
    the other waits for. The owners read it returns may be passed to `resolve` as `known`;
    `known` here is an earlier, unlocked read that spares the first one.
    (SQLite has one writer at a time: there it only reads.)
    """
    wanted = {i for e in batch for i in _linked(e)}
    if known is not None and not any(e.type == "alias" for e in batch):
        owner = {i: known[i] for i in wanted if i in known}
    else:
        owner = repo.owners(conn, wanted)
    if conn.dialect.name != "postgresql":
        return owner
    return _lock_and_reread(conn, batch, wanted, owner)


_MAX_LOCK_ROUNDS = 5
_GRAPH_FIRST = 4 * MOST_KEY_LOCKS  # identifiers a batch names above which the graph is locked first
_HELD = "maison_identity_locks"
_WHOLE_GRAPH = "graph"  # a held name no key lock can have (they are "identifier:…" or "client:…")


def _held(conn: Connection) -> tuple[set[str], set[str]]:
    """Lock names (exclusive, shared) this transaction holds; advisory locks last until it ends."""
    transaction = conn.get_transaction()
    record = conn.info.get(_HELD)
    if record is None or record[0] is not transaction:
        record = conn.info[_HELD] = (transaction, set(), set())
    return record[1], record[2]


def lock_graph_first(conn: Connection, identifiers: int) -> None:
    """Lock the whole graph before the first owners read, when a batch names so many identifiers
    (a bulk import chunk, thousands) that `lock_batch` would take it anyway: the owners are
    then read once, under the lock, instead of once to name the locks and again under them.
    Only as a transaction's first lock, so the one global lock order holds. PostgreSQL only
    (SQLite's writer holds its single lock from BEGIN)."""
    if conn.dialect.name != "postgresql" or identifiers <= _GRAPH_FIRST:
        return
    held_x, held_s = _held(conn)
    if not held_x and not held_s:
        _take_whole_graph(conn, held_x)


def _take_whole_graph(conn: Connection, held_x: set[str]) -> None:
    """Lock the whole graph and remember it: later lock rounds of the transaction are then moot."""
    lock_identity_graph(conn)
    held_x.add(_WHOLE_GRAPH)


def _lock_and_reread(
    conn: Connection, batch: Sequence[Event], wanted: set[Identifier], owner: dict[Identifier, str]
) -> dict[Identifier, str]:
    """Lock what the batch needs and read the owners again, until a read needs no more locks.

    More rounds happen only when a concurrent writer changed an owner between the read and
    the lock; an owner read made while every lock it needs was held is used as it is.
    """
    held_x, held_s = _held(conn)
    if _WHOLE_GRAPH in held_x:
        return owner  # read while no one else may write the graph
    if not held_x and not held_s and _lock_count(wanted, owner) > MOST_KEY_LOCKS:
        # `lock_identity_keys` would take the whole graph anyway (a bulk import chunk): take it
        # now, without working out thousands of lock names first.
        _take_whole_graph(conn, held_x)
        return repo.owners(conn, wanted)
    for round_ in range(_MAX_LOCK_ROUNDS):
        exclusive, shared = lock_names(batch, owner)
        missing_x, missing_s = exclusive - held_x, shared - held_x - held_s
        if not missing_x and not missing_s and (round_ or held_x or held_s):
            return owner  # this read was made under every lock it needs
        lock_identity_keys(conn, exclusive=missing_x, shared=missing_s)
        held_x |= missing_x
        held_s |= missing_s
        before = {i: owner[i] for i in wanted if i in owner}
        owner = repo.owners(conn, wanted)
        if owner == before:
            return owner  # nothing moved before the locks: the same names, all held now
    # Owners kept moving under us (a storm of merges): take the whole graph instead.
    _take_whole_graph(conn, held_x)
    return repo.owners(conn, wanted)


def _lock_count(wanted: set[Identifier], owner: Mapping[Identifier, str]) -> int:
    """How many lock names `lock_names` gives: one per unowned identifier, one per client reached."""
    clients_reached = {owner[i] for i in wanted if i in owner}
    return len(wanted) - sum(1 for i in wanted if i in owner) + len(clients_reached)


def _alias_previous(event: Event) -> list[Identifier]:
    previous = event.raw.get("previousId")
    if previous in (None, ""):
        return []
    return [(USER, str(previous)), (ANON, str(previous))]


@dataclass
class _Pending:
    """New clients and links decided so far in a batch, written together rather than per event.

    Decisions only read the in-memory `owner` and `users` maps, so writing can wait; it must
    not wait past a merge, which reads and moves the merged client's links in the store.
    """

    clients: list[str] = field(default_factory=list)
    links: list[tuple[Identifier, str]] = field(default_factory=list)
    message_ids: dict[Identifier, str] = field(default_factory=dict)

    def link(self, idents: Sequence[Identifier], target: str, message_id: str) -> None:
        self.links += [(i, target) for i in idents]
        self.message_ids.update(dict.fromkeys(idents, message_id))

    def flush(self, conn: Connection, now: datetime) -> None:
        repo.create_clients(conn, self.clients, now)  # before the links that refer to them
        if self.links:
            repo.attach(conn, self.links, now, self.message_ids)
        self.clients, self.links, self.message_ids = [], [], {}


def _apply_links(
    conn: Connection, batch: Sequence[Event], owner: dict[Identifier, str], *, now: datetime
) -> dict[str, frozenset[str]]:
    """Write the batch's links and merges, updating `owner`; returns the userIds of every client
    `owner` names, as they are after the writes."""
    users = repo.users_of(conn, set(owner.values()))
    pending = _Pending()
    for event in sorted(batch, key=lambda e: (e.timestamp, e.index)):
        if event.type == "alias":
            _alias(conn, event, owner, users, pending, now=now)
            continue
        plan = plan_links(event.identifiers, owner, users)
        target = plan.target
        if target is None:
            target = repo.new_client_id()
            pending.clients.append(target)
            users[target] = frozenset()
        for merged in plan.merge:
            pending.flush(conn, now)
            _merge_into(conn, target, merged, owner, users, reason="identify", at=now, message_id=event.message_id)
        if plan.attach:
            pending.link(plan.attach, target, event.message_id)
            for ident in plan.attach:
                owner[ident] = target
                if ident[0] == USER:
                    users[target] = users.get(target, frozenset()) | {ident[1]}
    pending.flush(conn, now)
    return users


def _alias(
    conn: Connection,
    event: Event,
    owner: dict[Identifier, str],
    users: dict[str, frozenset[str]],
    pending: _Pending,
    *,
    now: datetime,
) -> None:
    """An explicit alias links previousId to userId, merging two clients if need be."""
    user_id = event.user_id or ""
    target = owner.get((USER, user_id))
    previous = next((owner[i] for i in _alias_previous(event) if i in owner), None)
    if target is None:
        target = previous
    if target is None:
        target = repo.new_client_id()
        pending.clients.append(target)
    if previous is not None and previous != target:
        pending.flush(conn, now)
        _merge_into(conn, target, previous, owner, users, reason="alias", at=now, message_id=event.message_id)
    wanted = list(event.identifiers)
    if previous is None:
        wanted.append((ANON, str(event.raw["previousId"])))
    attach = [i for i in wanted if i not in owner]
    pending.link(attach, target, event.message_id)
    for ident in attach:
        owner[ident] = target
        if ident[0] == USER:
            users[target] = users.get(target, frozenset()) | {ident[1]}


def _merge_into(
    conn: Connection,
    survivor: str,
    merged: str,
    owner: dict[Identifier, str],
    users: dict[str, frozenset[str]],
    *,
    reason: str,
    at: datetime,
    message_id: str | None = None,
    actor: str | None = None,
) -> int:
    merge_id = repo.merge(
        conn, survivor=survivor, merged=merged, reason=reason, at=at, message_id=message_id, actor=actor
    )
    for ident, client in list(owner.items()):
        if client == merged:
            owner[ident] = survivor
    users[survivor] = users.get(survivor, frozenset()) | users.pop(merged, frozenset())
    return merge_id


def find_client(conn: Connection, identifier: str) -> str:
    """The canonical client for any identifier: client id, userId, anonymousId, email, phone, card."""
    if "\x00" in identifier or len(identifier) > 320:
        raise UnknownClient("no client has that identifier")
    if identifier.startswith("cl_"):
        found = repo.canonical(conn, identifier)
        if found:
            return found
    candidates: list[Identifier] = []
    for kind in (USER, ANON, EMAIL, PHONE, *[k for k in IDENTIFIER_KINDS if k not in (USER, ANON, EMAIL, PHONE)]):
        norm = normalize(kind, identifier)
        if norm:
            candidates.append((kind, norm))
    owner = repo.owners(conn, candidates)
    for ident in candidates:
        if ident in owner:
            return owner[ident]
    raise UnknownClient("no client has that identifier")


def admin_merge(conn: Connection, survivor: str, merged: str, *, actor: str, now: datetime) -> int:
    """Merge two clients on an admin's word (the only implicit-rule override besides alias)."""
    lock_identity_graph(conn)
    a, b = find_client(conn, survivor), find_client(conn, merged)
    if a == b:
        raise MergeNotUndoable("both identifiers already belong to one client")
    return repo.merge(conn, survivor=a, merged=b, reason="admin", at=now, actor=actor)


def split(conn: Connection, merge_id: int, *, actor: str, now: datetime) -> int:
    """Undo one recorded merge; the later merges that depend on it must be undone first."""
    lock_identity_graph(conn)
    record = repo.get_merge(conn, merge_id)
    if record is None:
        raise UnknownClient(f"no merge with id {merge_id}")
    if record["undone_at"] is not None:
        raise MergeNotUndoable(f"merge {merge_id} was already undone")
    survivor_state = conn.execute(select(clients.c.merged_into).where(clients.c.id == record["survivor_id"])).scalar()
    if survivor_state is not None:
        later = [
            m["id"]
            for m in repo.list_merges(conn, record["survivor_id"])
            if m["merged_id"] == record["survivor_id"] and m["undone_at"] is None
        ]
        raise MergeNotUndoable(f"undo merge {later[-1] if later else '?'} first: the survivor was merged again since")
    return repo.undo_merge(conn, record, at=now, actor=actor)
