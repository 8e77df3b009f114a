"""The weekly digest job: every client's digest of a week, each as of its own send instant.

A scheduler runs it as often as it likes (every quarter hour, say): each run composes and
records the digests whose send instant has passed and that are not recorded yet, so a rerun
after a crash sends nothing twice and a digest is never composed before its instant (no
look-ahead: the events up to it may not have arrived).

One digest alone reads the shop's figures and the client's data for itself (`service.produce`).
Here the shop's figures are computed once per send instant for the whole run, after a first
pass that finds every client's send instant (`ShopView.prepare`), and clients are read a chunk
at a time (`ClientReads`). Composing happens on a read connection; each chunk's digests are then
recorded in one short write transaction, so the job never holds the write lock while it thinks;
that transaction checks again what an overlapping run recorded meanwhile, under a lock per week.
The digests are the ones `service.produce` would write, client by client
(`test_weekly_job.py` checks it).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from queue import Empty, Queue
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from maison.core.collector import bulk_work
from maison.core.db import make_engine, reading
from maison.core.dialect import lock_name
from maison.core.schema import clients as clients_table
from maison.core.schema import decisions
from maison.core.settings import get_settings
from maison.models.segments import service as model_segments
from maison.models.segments.features import Vocabulary
from maison.models.segments.service import PART, PoolPart
from maison.personalize import cohort as cohorts
from maison.personalize import repeats, service
from maison.personalize import repository as repo
from maison.personalize.reads import SEND_TIME, ClientReads
from maison.personalize.recorded import Recorded
from maison.personalize.sections import identity_predictive
from maison.personalize.send_time import iso_week, local_instant
from maison.personalize.shop import ShopView

CHUNK = 500


@dataclass(frozen=True, slots=True)
class WeekRun:
    """What one run of the week's job did."""

    week: str
    clients: int  # clients considered
    sent: int  # digests composed and recorded by this run
    withheld: int  # nothing the client's consent lets us send (restriction, objection, no usable data)
    already_sent: int  # recorded by an earlier run
    not_due: int  # send instant still ahead of `now`
    seconds: float
    fit_seconds: float | None = None  # the week's segment model fitted before the workers started (workers > 1)


def run_week(
    engine: Engine, monday: date, *, now: datetime, client_ids: Sequence[str] | None = None, chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None, workers: int = 1,
) -> WeekRun:
    """Compose and record the week's due digests not recorded yet (see module doc).

    `progress(n)` is called with the number of clients done after each chunk. `workers` > 1
    splits the clients between that many processes (one per core: composing is Python work,
    and one process uses one core); each reads and records its own share, after the week's
    segment model has been fitted once with its parts spread over them (`_fit_first`).
    """
    with bulk_work():  # the job holds many objects a long time: a collection walks them all
        if workers > 1:
            return _in_processes(engine, monday, now=now, client_ids=client_ids, chunk=chunk, progress=progress,
                                 workers=workers)
        return _run(engine, monday, now=now, client_ids=client_ids, chunk=chunk, progress=progress)


def _run(
    engine: Engine, monday: date, *, now: datetime, client_ids: Sequence[str] | None, chunk: int,
    progress: Callable[[int], None] | None,
) -> WeekRun:
    """`run_week` in this process."""
    started = datetime.now(UTC)
    until = datetime.combine(monday + timedelta(days=3), time(), UTC)  # after Tuesday's last send, any zone
    sent = withheld = already = not_due = 0
    # every send instant is after Monday 00:00 UTC - 14 h, so every resting pick is read from here
    picks_since = repeats.lookback(datetime.combine(monday - timedelta(days=1), time(), UTC),
                                   get_settings().personalize.pick_rest_weeks)
    with reading(engine) as conn:
        ids = list(client_ids) if client_ids is not None else _all_clients(conn)
        shop = ShopView(conn)
        shared = cohorts.SharedReads(conn, until=until)
        sends = {}
        for part in _chunks(ids, chunk):  # first pass: every client's send instant
            reads = ClientReads(conn, part, until=until, readers=SEND_TIME, states=False)
            for client in part:
                sends[client] = service.send_time(conn, client, monday, shop=shop, reads=reads)
            conn.commit()  # end the read snapshot: a long one keeps SQLite's log from restarting
        shop.prepare(s.send_at for s in sends.values() if s.send_at <= now)
        for part in _chunks(ids, chunk):
            recorded = _recorded(conn, part, monday, {c: ZoneInfo(sends[c].zone) for c in part})
            due = [c for c in part if sends[c].send_at <= now and c not in recorded]
            already += sum(1 for c in part if c in recorded)
            not_due += sum(1 for c in part if c not in recorded and sends[c].send_at > now)
            reads = ClientReads(conn, due, until=until)
            # only L3 digests ask the records: read them for the clients at L3 at their send instant
            at_l3 = [c for c in due if reads.state(c, sends[c].send_at).level == "L3"]
            reads.recorded = Recorded(conn, at_l3, until=until, picks_since=picks_since,
                                      section=identity_predictive.KIND)
            composed = [
                (c, service.compose_for_job(conn, c, monday, shop=shop, reads=reads, send=sends[c], shared=shared))
                for c in due
            ]
            conn.commit()
            shared.next_snapshot()
            with engine.begin() as write:
                # a run that overlapped this one may have recorded some of them since: the lock
                # orders the two runs' writes, and the second sees the first's records
                lock_name(write, f"maison.digests.{iso_week(monday)}")
                raced = _recorded(write, [c for c, found in composed if found[0] is not None], monday,
                                  {c: ZoneInfo(sends[c].zone) for c, _ in composed})
                service.keep_all(write, [(c, found) for c, found in composed if c not in raced])
            already += len(raced)
            sent += sum(1 for c, found in composed if found[0] is not None and c not in raced)
            withheld += sum(1 for _, found in composed if found[0] is None)
            if progress is not None:
                progress(len(part))
    return WeekRun(iso_week(monday), len(ids), sent, withheld, already, not_due,
                   (datetime.now(UTC) - started).total_seconds())


def client_count(engine: Engine) -> int:
    """How many clients a run over everyone considers (for a progress bar)."""
    with reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(clients_table)).scalar_one())


def _all_clients(conn: Connection) -> list[str]:
    return [r.id for r in conn.execute(select(clients_table.c.id).order_by(clients_table.c.id))]


def _chunks(ids: Sequence[str], size: int) -> list[Sequence[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _recorded(conn: Connection, client_ids: Sequence[str], monday: date, zones: dict[str, ZoneInfo]) -> set[str]:
    """Clients whose digest of the week (Monday to Monday in their zone) is already recorded."""
    start = datetime.combine(monday - timedelta(days=1), time(), UTC)
    end = datetime.combine(monday + timedelta(days=8), time(), UTC)
    rows = conn.execute(
        select(decisions.c.client_id, decisions.c.decided_at)
        .where(decisions.c.client_id.in_(list(client_ids)), decisions.c.kind == repo.DIGEST,
               decisions.c.decided_at >= start, decisions.c.decided_at < end)
    )
    return {
        r.client_id for r in rows
        if local_instant(monday, 0, zones[r.client_id]) <= r.decided_at
        < local_instant(monday + timedelta(days=7), 0, zones[r.client_id])
    }


def _in_processes(
    engine: Engine, monday: date, *, now: datetime, client_ids: Sequence[str] | None, chunk: int,
    progress: Callable[[int], None] | None, workers: int,
) -> WeekRun:
    started = datetime.now(UTC)
    if client_ids is None:
        with reading(engine) as conn:
            client_ids = _all_clients(conn)
    shares = [list(client_ids[i::workers]) for i in range(workers)]  # interleaved: similar mixes of clients
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
        fitting = datetime.now(UTC)
        _fit_first(engine, monday, pool, url, workers)
        fit_seconds = (datetime.now(UTC) - fitting).total_seconds()
        done = manager.Queue()
        futures = [pool.submit(_worker, url, monday, now, share, chunk, done) for share in shares if share]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.5)
            _drain(done, progress)
        _drain(done, progress)
        runs = [f.result() for f in futures]
    return WeekRun(iso_week(monday), sum(r.clients for r in runs), sum(r.sent for r in runs),
                   sum(r.withheld for r in runs), sum(r.already_sent for r in runs), sum(r.not_due for r in runs),
                   (datetime.now(UTC) - started).total_seconds(), fit_seconds)


def _fit_first(engine: Engine, monday: date, pool: Executor, url: str, workers: int) -> None:
    """Have the segment model of the week's period kept before the workers start, its fit's parts
    spread over the pool (`segments.fit`): each worker would otherwise fit the same model alone.

    The period starting at or before Monday 00:00 UTC is the one nearly every send uses; one
    starting that very Monday leaves the sends of Sunday evening UTC (Monday morning east of it)
    in the previous period, whose model a worker fits when it needs it, as before."""
    def spread(conn: Connection, client_ids: Sequence[str], vocab: Vocabulary, as_of: datetime) -> list[PoolPart]:
        size = max(1, min(PART, -(-len(client_ids) // (4 * workers))))  # a few parts per worker
        slices = [client_ids[i : i + size] for i in range(0, len(client_ids), size)]
        return list(pool.map(_pool_part, repeat(url), slices, repeat(vocab), repeat(as_of)))

    with reading(engine) as conn:
        model_segments.model_as_of(conn, at=datetime.combine(monday, time(), UTC), keep=True, parts=spread)


def _pool_part(url: str, client_ids: Sequence[str], vocab: Vocabulary, as_of: datetime) -> PoolPart:
    engine = make_engine(url)  # one per part (a few per worker): no connection outlives the fit
    try:
        with bulk_work(), reading(engine) as conn:
            return model_segments.pool_part(conn, client_ids, vocab, as_of=as_of)
    finally:
        engine.dispose()


def _worker(url: str, monday: date, now: datetime, share: list[str], chunk: int, done: Queue[int]) -> WeekRun:
    engine = make_engine(url)
    try:
        return run_week(engine, monday, now=now, client_ids=share, chunk=chunk, progress=done.put)
    finally:
        engine.dispose()


def _drain(done: Queue[int], progress: Callable[[int], None] | None) -> None:
    while True:
        try:
            n = done.get_nowait()
        except Empty:
            return
        if progress is not None:
            progress(n)
