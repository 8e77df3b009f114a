"""Engine creation and schema upgrade for the embedded SQLite store and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from maison.core.dialect import RETRYABLE_UNIQUE

T = TypeVar("T")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with WAL and foreign keys on SQLite, and orjson for JSON columns."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # No server-side prepared statements: a generic plan chosen while a table was small (seq
    # scan) would be kept as it grows to millions of rows, turning index look-ups into scans.
    connect_args = {"prepare_threshold": None} if "psycopg" in url else {}
    engine = create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        **kwargs,
    )
    if "psycopg" in url:
        event.listen(engine, "do_executemany", _prepared_insertmany)
        event.listen(engine, "connect", _binary_arrays)
    return engine


def _binary_arrays(dbapi_conn: Any, _record: Any) -> None:
    """Send list parameters (the arrays of `core.dialect.is_one_of` and `rows_table`) in
    PostgreSQL's binary format. psycopg formats text arrays in Python, quoting each element:
    6 ms for 4,000 messageIds, a tenth of an ingest batch's time; binary takes under 1 ms."""
    from psycopg.types.array import ListBinaryDumper

    dbapi_conn.adapters.register_dumper(list, ListBinaryDumper)


def _prepared_insertmany(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """Run a multi-row INSERT ... VALUES as one prepared statement (PostgreSQL, psycopg).

    Without it every row is parsed and planned again (prepared statements are off, above);
    prepared, the server does a third of the work per row. A VALUES insert has one possible
    plan, so the reason for turning preparation off does not apply to it. Other statements
    keep the default path (returning None).
    """
    if not context.isinsert or "SELECT" in statement.upper():
        return None
    connection = cursor.connection
    connection.prepare_threshold = 0  # executemany prepares its statement once it may
    try:
        cursor.executemany(statement, parameters)
    finally:
        connection.prepare_threshold = None
    return True


_SQLITE_BUSY_SECONDS = 30


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    # A pool of connections (SQLAlchemy's default for a file): opening one per transaction cost
    # a connect and four PRAGMAs each time, and the close of the last open connection made
    # SQLite checkpoint the whole WAL into the database file, inside the request.
    engine = create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"timeout": _SQLITE_BUSY_SECONDS, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed (acknowledged) event survives a crashed process, but
        # not a power loss of the host; FULL would cost one fsync per commit.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_SECONDS * 1000}")
        cur.close()

    # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN instead
    # so that concurrent writers wait rather than fail with "database is locked" mid-way.
    @event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    turns = _WriteTurns()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Readers (see `reading`) take a deferred snapshot and never wait behind a writer.
        if conn.get_execution_options().get("maison_readonly", False):
            conn.exec_driver_sql("BEGIN")
            return
        turns.take(conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turns.give_back(conn.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn: Connection) -> None:
        turns.give_back(conn.info)

    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:  # a connection returned mid-transaction ends its turn too
            turns.give_back(record.info)

    return engine


class _WriteTurns:
    """Writers of one process queue here before BEGIN IMMEDIATE, and leave when they end.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so a crowd of waiting writers
    leaves the database idle between turns and stretches tail latency to seconds; a lock
    hands over at once. Writers in other processes still meet the busy timeout. A thread that
    opens a second write transaction while holding one is let through to SQLite, which then
    behaves as before (waits out the busy timeout and fails).
    """

    _KEY = "maison_write_turn"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    def take(self, info: dict[Any, Any]) -> None:
        me = threading.get_ident()
        if self._holder == me:
            return
        if not self._lock.acquire(timeout=_SQLITE_BUSY_SECONDS):
            raise sqlite3.OperationalError("database is locked")  # what the busy timeout raised
        self._holder = me
        info[self._KEY] = True

    def give_back(self, info: dict[Any, Any]) -> None:
        if info.pop(self._KEY, False):
            self._holder = None
            self._lock.release()


_DEADLOCK = "40P01"
_UNIQUE_VIOLATION = "23505"
_TRANSACTION_ATTEMPTS = 3


def _retryable(exc: Exception) -> bool:
    # Through SQLAlchemy the driver's error is wrapped; a COPY (`insert_rows`) raises it bare.
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    state = getattr(orig, "sqlstate", None)
    if state == _DEADLOCK:
        return True
    diag = getattr(orig, "diag", None)
    return state == _UNIQUE_VIOLATION and getattr(diag, "constraint_name", None) in RETRYABLE_UNIQUE


def in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run `work` in one transaction, again (up to three times) if PostgreSQL chose it as a
    deadlock victim, or if a concurrent writer stored a row it had just found absent.

    Writers of the identity graph lock what they touch in one ordered step, but a lock needed
    because a concurrent writer re-linked the same people in between is taken later, so a
    cycle remains possible in that rare case. Events are checked for duplicates, then copied
    in without a conflict clause (`insert_new_rows`): a retry racing its original makes the
    later one fail. In both cases the victim was rolled back whole: nothing of it was stored
    or acknowledged, so running it again is safe, and better than a 500.
    """
    for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except Exception as exc:
            if not _retryable(exc) or attempt == _TRANSACTION_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only: on SQLite it does not take the write lock."""
    with engine.connect().execution_options(maison_readonly=True) as conn:
        yield conn
