"""Dialect-specific SQL, one function each, so the rest of the code stays portable."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import CTE
from sqlalchemy.types import TypeDecorator, TypeEngine


def insert_ignoring_conflicts(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, index: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (index) DO NOTHING on either backend."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(index))
    conn.execute(stmt, list(rows))


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, index: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (index) DO UPDATE of every other column."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in index}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(index), set_=updates), list(rows))


_LEAN_INSERTS: dict[tuple[str, str, tuple[str, ...], bool], tuple[str, tuple[Any, ...]]] = {}


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Plain INSERT of many rows, given as tuples in `columns` order, without per-row overhead.

    SQLAlchemy's executemany builds and processes a parameter dictionary per row, which for an
    append-only table written a dozen rows per event (the consent ledger) cost more than the
    database's own insert. SQLite: the statement is compiled once per (table, columns) and
    each value goes only through its column type's bind processor, into the driver's
    executemany. PostgreSQL: COPY, the server's bulk path, whose rows psycopg formats in C
    (an array parameter per column was formatted in Python, at about 40 µs a text value);
    a few rows go as one pipelined INSERT (`_insert_few`), a round trip fewer.
    No RETURNING: callers need no keys back.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _postgres_insert(conn, table, columns, rows)
        return
    _lean_executemany(conn, table, columns, rows, skip_conflicts=False)


# Unique constraints whose violation means "a concurrent transaction stored this meanwhile": the
# writer checked the key was absent (`insert_new_rows`), so `core.db.in_transaction` runs its
# transaction again and the check then finds the row.
RETRYABLE_UNIQUE = frozenset({"uq_events_source_message"})


def insert_new_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, unique: str
) -> None:
    """`insert_rows` for rows the caller has just checked are not stored yet (by `unique`).

    A concurrent writer may store one of them between that check and this insert. SQLite has
    one writer at a time, so this cannot happen there (the statement still skips a conflict).
    PostgreSQL: the COPY then fails with a unique violation of `unique`; `core.db.in_transaction`
    runs the whole transaction again, and the caller's check then sees the row. That is
    rare (a retry racing its original), and cheaper than staging every batch to filter it.
    """
    if unique not in RETRYABLE_UNIQUE or unique not in {c.name for c in table.constraints}:
        # Checked on both backends: a race on a constraint `in_transaction` does not retry
        # would surface only on PostgreSQL, and only under load.
        raise ValueError(f"{unique} is not a retryable unique constraint of {table.name}")
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _postgres_insert(conn, table, columns, rows)
        return
    _lean_executemany(conn, table, columns, rows, skip_conflicts=True)


def _bind_processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[Any]:
    return [table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns]


Processor = tuple[int, Any, bool]  # (column position, value -> stored form, whether values repeat)


def _processing(table: Table, columns: Sequence[str], processors: Sequence[Any]) -> tuple[Processor, ...]:
    """The columns whose values need converting, and which of them hold instants.

    Most columns (strings, integers) go to the driver as they are, so only the others are
    touched. Instants repeat within a write (a batch's `received_at`, the dozen ledger rows of
    one consent statement): each distinct one is converted once per call.
    """
    return tuple(
        (i, p, _is_instant(table.c[c].type))
        for i, (c, p) in enumerate(zip(columns, processors, strict=True))
        if p is not None
    )


def _base_type(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a column stores: a TypeDecorator's underlying type, or the type itself."""
    return column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type


def _is_instant(column_type: TypeEngine[Any]) -> bool:
    return isinstance(_base_type(column_type), DateTime)


def _processed(rows: Sequence[Sequence[Any]], processing: tuple[Processor, ...]) -> Iterator[tuple[Any, ...]]:
    """Rows as tuples (what the drivers take), each value in its stored form (`_processing`);
    None stays None."""
    if not processing:
        yield from map(tuple, rows)
        return
    memos: list[dict[Any, Any] | None] = [{} if repeats else None for _, _, repeats in processing]
    for row in rows:
        out = list(row)
        for (i, convert, _), memo in zip(processing, memos, strict=True):
            v = out[i]
            if v is None:
                continue
            if memo is None:
                out[i] = convert(v)
            else:
                stored = memo.get(v)
                if stored is None:
                    stored = memo[v] = convert(v)
                out[i] = stored
        yield tuple(out)


def _lean_executemany(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, skip_conflicts: bool
) -> None:
    key = (conn.dialect.name, table.name, tuple(columns), skip_conflicts)
    lean = _LEAN_INSERTS.get(key)
    if lean is None:
        stmt = sqlite.insert(table).on_conflict_do_nothing() if skip_conflicts else table.insert()
        compiled = stmt.inline().compile(dialect=conn.dialect, column_keys=list(columns))
        if list(compiled.positiontup or ()) != list(columns):  # SQLite's qmark style: by position
            raise ValueError(f"unexpected parameters for {table.name}: {compiled.positiontup}")
        lean = _LEAN_INSERTS[key] = (str(compiled), _processing(table, columns, _bind_processors(conn, table, columns)))
    sql, processing = lean
    conn.exec_driver_sql(sql, list(_processed(rows, processing)))


_COPY_STATEMENTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[str] | None]] = {}


def _copy_value(column_type: TypeEngine[Any], conn: Connection) -> Any:
    """How one column's values are turned into what COPY reads (JSON as its text)."""
    if isinstance(column_type, JSON):
        return lambda v: orjson.dumps(v).decode()
    impl = column_type.dialect_impl(conn.dialect)
    if isinstance(column_type, TypeDecorator):
        return lambda v, t=column_type, d=conn.dialect: t.process_bind_param(v, d)
    return impl.bind_processor(conn.dialect)


def _binary_type(column_type: TypeEngine[Any]) -> str | None:
    """The PostgreSQL type whose binary form psycopg writes for a column, or None if unsure.

    JSON goes as `text`: the server's binary input of `json` is its text (not so for `jsonb`,
    which is left to the text format).
    """
    base = _base_type(column_type)
    if isinstance(base, JSON):
        return None if isinstance(base, postgresql.JSONB) else "text"
    if isinstance(base, DateTime):
        return "timestamptz" if base.timezone else "timestamp"
    for kind, name in _BINARY_TYPES:
        if isinstance(base, kind):
            return name
    return None


_BINARY_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Boolean, "bool"), (BigInteger, "int8"), (SmallInteger, "int2"), (Integer, "int4"),
    (Float, "float8"), (Numeric, "numeric"), (String, "text"),
)


_COPY_PROCESSING: dict[tuple[str, tuple[str, ...]], tuple[Processor, ...]] = {}


def _copy_processing(conn: Connection, table: Table, columns: Sequence[str]) -> tuple[Processor, ...]:
    """How each column's values are converted for PostgreSQL's COPY (and `_insert_few`)."""
    key = (table.name, tuple(columns))
    found = _COPY_PROCESSING.get(key)
    if found is None:
        processors = [_copy_value(table.c[c].type, conn) for c in columns]
        found = _COPY_PROCESSING[key] = _processing(table, columns, processors)
    return found


_FEW_ROWS = 8  # up to this many rows, one INSERT round trip beats COPY's two


def _postgres_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL's write of `insert_rows` and `insert_new_rows`: COPY, or one INSERT for a few rows."""
    (_insert_few if len(rows) <= _FEW_ROWS else _copy_rows)(conn, table, columns, rows)


_FEW_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}


def _insert_few(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A few rows as one INSERT statement executed per row in a pipeline (PostgreSQL).

    COPY costs a round trip to start and another to finish, which for the one or two rows of
    a single-event request (its event, its client, an identifier) was a tenth of the request.
    Values are converted as for COPY; JSON travels as its text, which the server casts.
    """
    key = (table.name, tuple(columns))
    sql = _FEW_INSERTS.get(key)
    if sql is None:
        quote = conn.dialect.identifier_preparer
        names = ", ".join(quote.quote(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = _FEW_INSERTS[key] = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({marks})"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.executemany(sql, list(_processed(rows, _copy_processing(conn, table, columns))))


def _copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY rows into a table, inside the connection's current transaction (PostgreSQL).

    In binary format when every column's type is known (`_binary_type`): psycopg then writes
    each value's wire form directly, where the text format escaped and the server parsed it
    again; for the consent ledger that was four times the cost of a row.
    """
    key = (table.name, tuple(columns))
    prepared = _COPY_STATEMENTS.get(key)
    if prepared is None:
        quote = conn.dialect.identifier_preparer
        names = ", ".join(quote.quote(c) for c in columns)
        types = [_binary_type(table.c[c].type) for c in columns]
        known = [t for t in types if t is not None]
        binary = known if len(known) == len(types) else None
        prepared = _COPY_STATEMENTS[key] = (
            f"COPY {quote.format_table(table)} ({names}) FROM STDIN" + (" (FORMAT BINARY)" if binary else ""),
            binary,
        )
    sql, binary = prepared
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        if binary:
            copy.set_types(binary)
        write = copy.write_row
        for row in _processed(rows, _copy_processing(conn, table, columns)):
            write(row)


_GRAPH_LOCK = 7201


def lock_identity_graph(conn: Connection) -> None:
    """Make this the only writer of the identity graph for the rest of the transaction.

    For admin merges and splits, which move identifiers and events of clients no batch names.
    SQLite already holds its single write lock from BEGIN IMMEDIATE; PostgreSQL takes the
    graph's advisory lock exclusively, which waits for every ingest transaction holding it
    shared (`lock_identity_keys`) and keeps new ones out until commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:graph)"), {"graph": _GRAPH_LOCK})


def without_jit(conn: Connection) -> None:
    """PostgreSQL: no JIT compilation of queries for the rest of this transaction (a no-op on SQLite).

    For bulk work whose statements probe an index once per row of a large probe table (an
    import chunk's consent statements: 2,000 probes of about 3-5 µs each). The planner costs
    such a statement above `jit_above_cost`, and compiling it took about 12 ms, longer than the
    10 ms it runs: the bench's import spent 19 of its 25 chunks compiling. `SET LOCAL` ends with
    the transaction, so a pooled connection goes back as it came.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


def lock_name(conn: Connection, name: str) -> None:
    """Make this transaction the only holder of a named lock until it ends (a job's write phase).

    PostgreSQL: an exclusive advisory lock on the name's key. SQLite: nothing to do, BEGIN
    IMMEDIATE already made this the only writer.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)})


MOST_KEY_LOCKS = 400  # a batch of a few hundred messages; bigger ones lock the whole graph


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


_LOCK_KEYS = text(
    "SELECT count(*) FROM (SELECT CASE WHEN x THEN pg_advisory_xact_lock(k)::text "
    "ELSE pg_advisory_xact_lock_shared(k)::text END FROM ("
    "SELECT r, k, x FROM unnest(CAST(:ranks AS int[]), CAST(:keys AS bigint[]), CAST(:exclusive AS boolean[])) "
    "AS t(r, k, x) ORDER BY r, k) AS ordered) AS taken"
)


def lock_identity_keys(conn: Connection, *, exclusive: Iterable[str], shared: Iterable[str]) -> None:
    """Lock parts of the identity graph by name for the rest of the transaction (PostgreSQL).

    Ingest writers lock what they touch, not the whole graph: exclusively the identifiers they
    are about to link and the clients they may merge; shared, the clients they add events or
    links to (many writers may do that at once; a merge of such a client waits for them).
    All locks, the graph lock (held shared) first, are taken in one statement in key order,
    so two writers never wait for each other in a cycle. A name asked for both ways is taken
    exclusively. SQLite: nothing to do, BEGIN IMMEDIATE already made this the only writer.
    """
    if conn.dialect.name != "postgresql":
        return
    exclusive, shared = set(exclusive), set(shared)
    if len(exclusive | shared) > MOST_KEY_LOCKS:
        # A bulk import chunk would take thousands: costly, and PostgreSQL's shared lock table
        # holds only about max_locks_per_transaction x max_connections (6,400 by default).
        # Such a batch takes the whole graph instead, as every writer did before key locks.
        lock_identity_graph(conn)
        return
    wanted: dict[int, bool] = {}
    for name in shared:
        wanted.setdefault(_lock_key(name), False)
    for name in exclusive:
        wanted[_lock_key(name)] = True
    keys = [_GRAPH_LOCK, *wanted]
    conn.execute(
        _LOCK_KEYS,
        {"ranks": [0] + [1] * len(wanted), "keys": keys, "exclusive": [False, *wanted.values()]},
    )


_SET_CHUNK = 50_000  # bounds the size of one parameter; a batch never comes near it


def value_chunks(conn: Connection, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """The values in parts small enough for one `is_one_of` parameter (in practice: all at once)."""
    for start in range(0, len(values), _SET_CHUNK):
        yield values[start : start + _SET_CHUNK]


def is_one_of(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column = ANY(array)` on PostgreSQL, `column IN (SELECT value FROM json_each(json))` on SQLite.

    One parameter, whatever the count: the statement text stays the same, so SQLAlchemy
    compiles it once (an expanding IN list was compiled again for every call, at several µs a
    value) and the database probes the column's index for each value. On PostgreSQL an array
    also gets an index plan while the table's statistics still describe it as empty (a fresh
    store being loaded), where IN lists were planned as scans that grew slower with every batch.
    Use with `value_chunks`.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    listed = func.json_each(bindparam(None, orjson.dumps(list(values)).decode(), type_=String)).table_valued("value")
    return column.in_(select(listed.c.value).scalar_subquery())

_LOOKUPS: dict[tuple[str, str, tuple[str, ...], str, tuple[str, ...]], Any] = {}


def lookup_keys(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
    *,
    value: str,
    where: Mapping[str, Any] | None = None,
) -> dict[tuple[Any, ...], Any]:
    """For each `key` tuple found in `table` (among rows whose `where` columns equal the values
    given), its `value` column (which must be NOT NULL: a NULL reads as not found).

    `key` (after the columns `where` fixes) must lead a unique index. The keys travel as one
    table (`rows_table`) and each is probed with LIMIT 1, which can only run as one index
    look-up per key: PostgreSQL, a LATERAL subquery (only the keys found come back); SQLite,
    a correlated scalar subquery. With `col = ANY(...)`, PostgreSQL planned (while a growing
    store's statistics were not yet gathered) a scan of the index's leading column that
    filtered all its rows: 10 ms a batch at 20,000 events, and growing. The statement is built
    once per shape and kept: building one per call (SQLite's `IN` lists) was a third of a
    one-event request. SQLite still uses `IN` lists for more than `_FEW_KEYS` keys (a bulk
    import chunk), where they run faster and their building cost is spread (`_lookup_in_lists`).
    """
    found: dict[tuple[Any, ...], Any] = {}
    wanted = list(dict.fromkeys(keys))
    fixed = dict(where or {})
    if not wanted:
        return found
    columns = [table.c[c] for c in key]
    if conn.dialect.name != "postgresql" and len(wanted) > _FEW_KEYS:
        return _lookup_in_lists(conn, table, columns, wanted, value=value, fixed=fixed)
    if conn.dialect.name == "postgresql" and len(wanted) <= _FEWEST_KEYS:
        return _lookup_few(conn, table, tuple(key), wanted, value=value, fixed=fixed)
    types = {c.name: c.type for c in columns}
    shape = (conn.dialect.name, table.name, tuple(key), value, tuple(sorted(fixed)))
    stmt = _LOOKUPS.get(shape)
    if stmt is None:
        probe = rows_table(conn, "probe", types)
        hit = (
            select(table.c[value].label("found"))
            .where(*[table.c[c] == bindparam(f"where_{c}") for c in shape[4]])
            .where(*[c == probe.c[c.name] for c in columns])
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            lateral = hit.lateral("hit")
            stmt = select(probe.c.n, lateral.c.found).select_from(probe.join(lateral, true()))
        else:
            stmt = select(probe.c.n, hit.scalar_subquery())
        _LOOKUPS[shape] = stmt
    for start in range(0, len(wanted), _SET_CHUNK):
        part = wanted[start : start + _SET_CHUNK]
        params = {**rows_params(conn, "probe", types, part), **{f"where_{c}": v for c, v in fixed.items()}}
        found.update((part[int(n)], v) for n, v in conn.execute(stmt, params) if v is not None)
    return found


_FEW_KEYS = 500  # SQLite: up to this many keys (a request), the kept probe statement; more, `IN` lists
_FEWEST_KEYS = 8  # PostgreSQL: up to this many keys (one event's identifiers), one OR of key equalities

_FEW_LOOKUPS: dict[tuple[Any, ...], Any] = {}


def _lookup_few(
    conn: Connection,
    table: Table,
    key: tuple[str, ...],
    wanted: Sequence[tuple[Any, ...]],
    *,
    value: str,
    fixed: Mapping[str, Any],
) -> dict[tuple[Any, ...], Any]:
    """PostgreSQL, a handful of keys (a one-event request): `WHERE (k = ? AND ...) OR ...` over the
    whole unique key, one index look-up per branch (a BitmapOr). The LATERAL probe over `unnest`
    arrays costs PostgreSQL about 250 µs to parse and plan, most of a one-key look-up; this one a
    fraction of that. Every branch names the full unique key, so the planner expects one row per
    branch whatever the column statistics say, and the statement is planned at each execution (no
    server-side preparation, `core.db`) against the table's current size in pages: a scan is
    chosen only while the table really is a page or two. Kept per key count."""
    shape = (table.name, key, value, tuple(sorted(fixed)), len(wanted))
    stmt = _FEW_LOOKUPS.get(shape)
    if stmt is None:
        branches = [and_(*[table.c[c] == bindparam(f"k{i}_{j}") for j, c in enumerate(key)])
                    for i in range(len(wanted))]
        stmt = select(*[table.c[c] for c in key], table.c[value]).where(
            *[table.c[c] == bindparam(f"where_{c}") for c in shape[3]], or_(*branches)
        )
        _FEW_LOOKUPS[shape] = stmt
    params = {f"k{i}_{j}": v for i, k in enumerate(wanted) for j, v in enumerate(k)}
    params.update({f"where_{c}": v for c, v in fixed.items()})
    asked = set(wanted)
    found: dict[tuple[Any, ...], Any] = {}
    for row in conn.execute(stmt, params):
        hit = tuple(row[:-1])
        if hit in asked and row[-1] is not None:
            found[hit] = row[-1]
    return found


def _lookup_in_lists(
    conn: Connection,
    table: Table,
    columns: Sequence[ColumnElement[Any]],
    wanted: Sequence[tuple[Any, ...]],
    *,
    value: str,
    fixed: Mapping[str, Any],
) -> dict[tuple[Any, ...], Any]:
    """SQLite, many keys (a bulk import chunk): one statement with an `IN` over the last key
    column per value of the others, which its planner probes. Its cost of building is spread
    over thousands of keys, and SQLite walks the index faster for a sorted list than it runs
    a correlated subquery per key (4,000 messageIds: 21 against 26 ms; 200: the same)."""
    found: dict[tuple[Any, ...], Any] = {}
    fixed_where = [table.c[c] == v for c, v in fixed.items()]
    for chunk in value_chunks(conn, wanted):
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for k in chunk:
            groups.setdefault(k[:-1], []).append(k[-1])
        per_lead = [
            and_(*[c == v for c, v in zip(columns, lead, strict=False)], is_one_of(conn, columns[-1], lasts))
            for lead, lasts in groups.items()
        ]
        for row in conn.execute(select(*columns, table.c[value]).where(*fixed_where, or_(*per_lead))):
            found[tuple(row[:-1])] = row[-1]
    return found


_PROBED_ROWS: dict[tuple[str, str, str, tuple[str, ...]], Any] = {}


def rows_of_keys(
    conn: Connection, table: Table, key: str, keys: Sequence[Any], columns: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Every row of `table` whose `key` column is one of `keys`, as (key, *columns) tuples.

    For a column with its own (non-unique) index, where a key may have several rows.
    PostgreSQL: each key is a LATERAL probe of that index, so the plan cannot turn into a
    scan whatever the statistics say; given `key = ANY(...)` plus a filter on another
    indexed column, a growing store's stale statistics made it scan that other index and
    filter every row (the userIds of all clients, for a hundred). SQLite: `IN (json_each)`,
    which it probes on the index. Either statement is built once per shape and kept.
    """
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    shape = (conn.dialect.name, table.name, key, tuple(columns))
    types = {key: table.c[key].type}
    stmt: Any = _PROBED_ROWS.get(shape)
    if stmt is None:
        probe = rows_table(conn, "probe", types)
        if conn.dialect.name == "postgresql":
            # OFFSET 0 keeps the subquery a per-key probe: without it PostgreSQL pulls a LATERAL
            # with no LIMIT up into a plain join, and stale statistics then hash-join a full
            # scan of the table (10,000 identifiers read to return 229, 1.2 ms a request).
            hit = (
                select(*[table.c[c] for c in columns]).where(table.c[key] == probe.c[key]).offset(0).lateral("hit")
            )
            stmt = select(probe.c[key], *[hit.c[c] for c in columns]).select_from(probe.join(hit, true()))
        else:
            stmt = select(table.c[key], *[table.c[c] for c in columns]).where(
                table.c[key].in_(select(probe.c[key]).scalar_subquery())
            )
        _PROBED_ROWS[shape] = stmt
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(wanted), _SET_CHUNK):
        part = wanted[start : start + _SET_CHUNK]
        rows += [tuple(r) for r in conn.execute(stmt, rows_params(conn, "probe", types, [(k,) for k in part]))]
    return rows


def rows_table(conn: Connection, name: str, columns: Mapping[str, TypeEngine[Any]]) -> CTE:
    """A table of rows to join or correlate with, given at execution (`rows_params`): columns
    `n` (the row's 0-based position) and `columns`, in order. Values are bound with each
    column type's own processor, so they compare with stored values of that type.

    The rows travel as one array parameter per column (PostgreSQL, `unnest`) or one JSON text
    (SQLite, `json_each`): the statement is the same whatever the rows, so a caller builds it
    once and keeps it. A VALUES list was compiled again for every batch, at about 100 µs a row;
    building and keying even a fixed statement cost about 0.3 ms, most of a one-event look-up.
    """
    names = list(columns)
    if conn.dialect.name == "postgresql":
        arrays = [bindparam(f"{name}_{c}", type_=ARRAY(columns[c])) for c in names]
        unnested = func.unnest(*arrays).table_valued(*names, with_ordinality="ordinality").render_derived()
        return select(
            (unnested.c.ordinality - 1).label("n"), *[unnested.c[c].label(c) for c in names]
        ).cte(name)
    each = func.json_each(bindparam(f"{name}_rows", type_=String())).table_valued("key", "value")
    return select(
        each.c.key.label("n"),
        *[func.json_extract(each.c.value, f"$[{i}]", type_=columns[c]).label(c) for i, c in enumerate(names)],
    ).cte(name)


def rows_params(
    conn: Connection, name: str, columns: Mapping[str, TypeEngine[Any]], rows: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    """The execution parameters of a `rows_table(conn, name, columns)` built without rows."""
    names = list(columns)
    if conn.dialect.name == "postgresql":
        return {f"{name}_{c}": [row[i] for row in rows] for i, c in enumerate(names)}
    processors = [columns[c].dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in names]
    cells = [[v if p is None else p(v) for v, p in zip(row, processors, strict=True)] for row in rows]
    return {f"{name}_rows": orjson.dumps(cells).decode()}
