"""The consent ledger in the store: append, and read back per client."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, or_, select

from maison.consent.entities import EntryKind, LedgerEntry
from maison.core.dialect import insert_rows, is_one_of, rows_params, rows_table, value_chunks
from maison.core.schema import consent_ledger
from maison.core.types import UTCDateTime

Statement = tuple[str, str, datetime]  # (client id, purpose, instant)
_PROBES_PER_QUERY = 5_000  # bounds the size of one parameter, not the count


_LEDGER_COLUMNS = (
    "client_id", "kind", "purpose", "granted", "level", "effective_at", "recorded_at",
    "method", "source", "notice_version", "geography", "message_id", "actor",
)


def append(conn: Connection, entries: Sequence[LedgerEntry], *, recorded_at: datetime) -> None:
    """Append entries. A `Consent Updated` states every purpose, a dozen rows per event, so
    this is the widest write of ingestion after the events: it uses the lean `insert_rows`."""
    insert_rows(
        conn,
        consent_ledger,
        _LEDGER_COLUMNS,
        [
            (e.client_id, e.kind.value, e.purpose, e.granted, e.level, e.effective_at, recorded_at,
             e.method, e.source, e.notice_version, e.geography, e.message_id, e.actor)
            for e in entries
        ],
    )


_ENTRY_COLUMNS = (  # LedgerEntry's fields, in its order: a row builds an entry positionally
    consent_ledger.c.client_id, consent_ledger.c.kind, consent_ledger.c.effective_at, consent_ledger.c.purpose,
    consent_ledger.c.granted, consent_ledger.c.level, consent_ledger.c.method, consent_ledger.c.source,
    consent_ledger.c.notice_version, consent_ledger.c.geography, consent_ledger.c.message_id, consent_ledger.c.actor,
)
_KINDS = {k.value: k for k in EntryKind}


def _entry(row: Any) -> LedgerEntry:
    """A ledger row (`_ENTRY_COLUMNS`) as an entry: a job reads every client's ledger, so this is
    built without keyword matching or an enum lookup per row."""
    return LedgerEntry(row[0], _KINDS[row[1]], *row[2:])


def entries_for(
    conn: Connection, client_ids: Iterable[str], *, purposes: Iterable[str] | None = None,
    statements_of: Iterable[str] | None = None,
) -> dict[str, list[LedgerEntry]]:
    """Ledger entries of these clients, in time order. With `purposes`, only the entries that
    state those purposes (what a collection decision needs): the ingest gate's hot path. With
    `statements_of`, every entry but the purpose statements of other purposes."""
    ids = sorted(set(client_ids))
    found: dict[str, list[LedgerEntry]] = defaultdict(list)
    only = sorted(set(purposes)) if purposes is not None else None
    if only == []:
        return {}
    for chunk in value_chunks(conn, ids):
        stmt = select(*_ENTRY_COLUMNS).where(is_one_of(conn, consent_ledger.c.client_id, chunk))
        if only is not None:
            stmt = stmt.where(consent_ledger.c.kind == EntryKind.PURPOSE.value, consent_ledger.c.purpose.in_(only))
        if statements_of is not None:
            stmt = stmt.where(or_(consent_ledger.c.kind != EntryKind.PURPOSE.value,
                                  consent_ledger.c.purpose.in_(sorted(set(statements_of)))))
        for row in conn.execute(stmt.order_by(consent_ledger.c.effective_at, consent_ledger.c.id)):
            found[row.client_id].append(_entry(row))
    return dict(found)


_PROBE_COLUMNS: dict[str, Any] = {"client_id": String(), "purpose": String(), "at": UTCDateTime()}
_LATEST: dict[str, Any] = {}


def latest_statements(conn: Connection, probes: Sequence[Statement]) -> dict[Statement, bool | None]:
    """For each (client, purpose, instant): `granted` of the last statement of that purpose
    effective at or before the instant (ties: the one recorded last), or None if there is none.

    Set-based: the probes travel as one table (`rows_table`) and the database answers each with an
    index probe on (client_id, effective_at), so a batch costs one round trip per thousand
    events and returns one value per probe, however long the clients' ledgers are. Loading
    the ledger rows and folding them in Python instead was most of the cost of ingestion.
    """
    wanted = list(dict.fromkeys(probes))
    found: dict[Statement, bool | None] = {}
    if conn.dialect.name == "postgresql" and 0 < len(wanted) <= _FEWEST_PROBES:
        return _latest_few(conn, wanted)
    stmt = _LATEST.get(conn.dialect.name)
    if stmt is None:  # built once per backend: building and keying it cost most of a small batch's query
        probe = rows_table(conn, "probe", _PROBE_COLUMNS)
        stmt = _LATEST[conn.dialect.name] = select(
            probe.c.n, _last_granted(probe.c.client_id, probe.c.purpose, probe.c.at)
        )
    for start in range(0, len(wanted), _PROBES_PER_QUERY):
        part = wanted[start : start + _PROBES_PER_QUERY]
        for n, granted in conn.execute(stmt, rows_params(conn, "probe", _PROBE_COLUMNS, part)):
            found[part[n]] = None if granted is None else bool(granted)
    return found


def _last_granted(client_id: Any, purpose: Any, at: Any) -> Any:
    """`granted` of the purpose's last statement effective at or before `at` (ties: recorded last)."""
    return (
        select(consent_ledger.c.granted)
        .where(
            consent_ledger.c.client_id == client_id,
            consent_ledger.c.effective_at <= at,
            consent_ledger.c.kind == EntryKind.PURPOSE.value,
            consent_ledger.c.purpose == purpose,
            consent_ledger.c.granted.is_not(None),
        )
        .order_by(consent_ledger.c.effective_at.desc(), consent_ledger.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


_FEWEST_PROBES = 4  # PostgreSQL: up to this many (a one-event request), one plain subquery each
_LATEST_FEW: dict[int, Any] = {}


def _latest_few(conn: Connection, wanted: Sequence[Statement]) -> dict[Statement, bool | None]:
    """PostgreSQL, a handful of probes: one row with a plain `LIMIT 1` subquery per probe. The
    probe table over `unnest` arrays costs PostgreSQL about 300 µs to parse and plan, most of a
    one-event probe; each subquery here is the same index probe, planned for its own values."""
    stmt = _LATEST_FEW.get(len(wanted))
    if stmt is None:
        stmt = _LATEST_FEW[len(wanted)] = select(*[
            _last_granted(bindparam(f"c{i}", type_=String()), bindparam(f"p{i}", type_=String()),
                          bindparam(f"t{i}", type_=UTCDateTime()))
            for i in range(len(wanted))
        ])
    params: dict[str, Any] = {}
    for i, (client_id, purpose, at) in enumerate(wanted):
        params.update({f"c{i}": client_id, f"p{i}": purpose, f"t{i}": at})
    row = conn.execute(stmt, params).one()
    return {probe: None if granted is None else bool(granted) for probe, granted in zip(wanted, row, strict=True)}


def history(conn: Connection, client_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(consent_ledger).where(consent_ledger.c.client_id == client_id)
        .order_by(consent_ledger.c.effective_at, consent_ledger.c.id)
    ).mappings()
    return [{k: v for k, v in r.items() if k != "client_id"} for r in rows]
