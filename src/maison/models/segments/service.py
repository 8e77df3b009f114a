"""Segments fitted as of an instant, cached in-process, and a client placed in one.

Who is pooled. A client's behaviour enters the model only while, at the model's instant, their
consent lets their browsing be used for personalisation *and* they take part in
similar-customer personalisation (`similar_customer_signals`): a reciprocal pool, so a client
who declined to receive signals from others does not give theirs either. A pooled client's
other behavioural categories count only while each may be used (the gateway decides, per
category); missing ones are treated as unknown, not as zero.

When. A model is fitted on the events timestamped before the start of the instant's four-week
period (`fit_instant`: Mondays 00:00 UTC, every 28 days from Monday 5 January 1970), so every
instant of the period reuses one model and none sees its own future. Four weeks, not a day:
fitting reads every pooled client's events (about 10 s on the 3,000-client scenario store),
and segments of a clientele move slowly, while the client being placed is always read as of the
exact instant, so what they did this morning already counts.

Declared interests. After the fit, each segment also gets its members' mean declared categories
(those whose `declared_categories` may be used at the model's instant), without changing the
segments; a client is then placed by their own declaration too, while it may be used for them,
weighing `estimator.DECLARED_EVENTS` events. It decides between segments when behaviour is thin
and rarely once it is rich.

Cache and invalidation. Fitted models are kept in-process keyed by the database, the fit
instant and a high-water mark read with three cheap queries: the count and largest id of the
events before the fit instant (a late event, an erasure or a purge changes it), the same for
consent ledger entries effective before it (a grant or withdrawal), and the catalogue's size and
latest update (columns come from its categories and tags). Any change refits, one thread at a
time per period (the others meanwhile get the model of the data before, see `model_as_of`). A model fitted
for the weekly job is also kept in the store (`segment_models`, see the README), and read back by
a later process under the same mark instead of fitting again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from maison.analytics import aggregates
from maison.catalog import service as catalog
from maison.consent import gateway
from maison.consent import service as consent
from maison.consent.entities import Use
from maison.consent.readers import Reader
from maison.models.exceptions import ModelInputError
from maison.models.segments import features as F
from maison.models.segments import persist, readers
from maison.models.segments import repository as repo
from maison.models.segments.describe import describe
from maison.models.segments.estimator import DECLARED_EVENTS, Segmenter, reliability

MODEL_NAME = "segments-kmeans"
POOL_PURPOSES = ("browsing_behaviour", "similar_customer_signals")
MIN_EVENTS = 5  # a client with fewer usable behaviour events is not placed anywhere
PLACING = (*F.BLOCKS, F.DECLARED)  # what may place a client, when their consent lets it
_CACHE_SIZE = 6
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Segment:
    segment_id: int
    size: int
    description: str
    members: tuple[str, ...]  # internal client ids; never leaves the server


@dataclass(frozen=True, slots=True)
class SegmentModel:
    """A fitted segmentation as of an instant, with the pool it was fitted on."""

    as_of: datetime
    model_version: str
    vocabulary: F.Vocabulary
    segmenter: Segmenter
    segments: tuple[Segment, ...]
    pooled: int
    blocks: tuple[str, ...]  # the block of each column `segmenter.predict` takes

    def segment(self, segment_id: int) -> Segment:
        return self.segments[segment_id]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a client sits, and which of their data categories placed them."""

    segment: Segment
    data_categories: tuple[str, ...]


_cache: OrderedDict[tuple[Any, ...], SegmentModel | None] = OrderedDict()
_marks: OrderedDict[tuple[str, datetime], tuple[tuple[Any, ...], tuple[Any, ...]]] = OrderedDict()
_lock = threading.Lock()
# Periods being fitted in this process (database, fit instant), each by one thread. A late event
# or an erasure moves the data mark, and every personalised page then asked for the model at once:
# each fitted it in parallel (11 s alone at 20,000 clients on SQLite, times the pages in flight).
_fitting: dict[tuple[str, datetime], threading.Event] = {}


REFIT_DAYS = 28
_EPOCH = date(1970, 1, 5)  # a Monday


def fit_instant(at: datetime) -> datetime:
    """Monday 00:00 UTC starting the instant's 28-day period: the model every instant of it uses."""
    day = at.astimezone(UTC).date()
    start = _EPOCH + timedelta(days=(day - _EPOCH).days // REFIT_DAYS * REFIT_DAYS)
    return datetime.combine(start, time(0), tzinfo=UTC)


def data_mark(conn: Connection, *, as_of: datetime) -> tuple[Any, ...]:
    """A high-water mark of the data before `as_of`: events and ledger entries before it (count and
    largest id) and the catalogue. Those bounded counts scan the tables, so they are redone only
    when a whole-table mark moved (`core.marks.total`: two index look-ups on SQLite, a look at the
    newest rows on PostgreSQL), and from the rows added since alone when none was deleted: a store
    being written to (a server under traffic) does not scan its events for every personalised page.
    A process's first call starts from the marks kept with the period's model, if one was kept
    (a restarted server, each run of the weekly job), rather than from a count."""
    db = _database(conn)
    with _lock:
        seen = _marks.get((db, as_of))
    if seen is None:  # a new process: from the marks a kept model was read with, when there is one
        seen = repo.kept_marks(conn, as_of=as_of)
        if seen is not None:
            with _lock:
                _marks[(db, as_of)] = seen
    quick = (aggregates.stored_total(conn, since=seen[0][0] if seen else None),
             repo.consent_mark(conn, since=seen[0][1] if seen else None), repo.catalogue_mark(conn))
    if seen is not None and seen[0] == quick:
        return seen[1]
    # (each bounded mark, its table's mark) when last read: the rows added since may say the rest
    was_events, was_ledger = ((seen[1][i], seen[0][i]) for i in (0, 1)) if seen is not None else (None, None)
    events_before, events_total = aggregates.stored_before(conn, before=as_of, previous=was_events, now=quick[0])
    ledger_before, ledger_total = repo.consent_before(conn, before=as_of, previous=was_ledger, now=quick[1])
    full = (events_before, ledger_before, quick[2])
    with _lock:
        _marks[(db, as_of)] = ((events_total, ledger_total, quick[2]), full)
        while len(_marks) > 4 * _CACHE_SIZE:
            _marks.popitem(last=False)
    return full


def model_as_of(conn: Connection, *, at: datetime, keep: bool = False,
                parts: PartsReader | None = None) -> SegmentModel | None:
    """The segment model for an instant (None when too few clients are pooled to segment).

    In-process first, then the model kept in the store for the period and data mark, else a fit.
    One thread of the process fits a period at a time: while it does, another thread asking gets
    the period's model of the data before the change, this process's or else the one kept in the
    store (a page is not held for a fit because a late event arrived; the client is still placed
    from their events as of the instant, and a member whose consent no longer pools them is
    dropped by the members' own ledgers), else waits for that fit. A single caller always gets
    the model of the data now.
    `keep`: store a model fitted here for other processes (the weekly job, which runs often and
    each time in a new process, asks for it): in a transaction of its own, or in the caller's
    when the caller holds SQLite's write lock (see `_keep`). `parts`: how a fit here computes
    the clientele's parts (`fit`)."""
    as_of = fit_instant(at)
    mark = data_mark(conn, as_of=as_of)
    key = (_database(conn), as_of, mark)
    while True:
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
            running = _fitting.get(key[:2])
            if running is None:
                _fitting[key[:2]] = mine = threading.Event()
                break
            previous = [m for k, m in _cache.items() if k[:2] == key[:2]]
        if previous:  # another thread refits the period: its model of the data before meanwhile
            return previous[-1]
        kept = _stored(conn, as_of=as_of, mark=None)  # a new process: the model kept under an older mark
        if kept is not None:
            with _lock:
                if key[:2] in _fitting:  # still fitting: the others take it from the cache meanwhile
                    _cache[(*key[:2], ("kept", kept.model_version))] = kept
            return kept
        running.wait()  # the period's first fit anywhere: one at a time, then its model if the data is the same
    try:
        model = _stored(conn, as_of=as_of, mark=mark)
        if model is None:
            model = fit(conn, as_of=as_of, parts=parts or parts_here)
            if keep and model is not None:
                _keep(conn, model, mark)
        with _lock:
            for stale in [k for k in _cache if k[:2] == key[:2]]:
                del _cache[stale]  # the same store and week with older data: e.g. an erased client's membership
            _cache[key] = model
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    finally:
        with _lock:
            del _fitting[key[:2]]
        mine.set()
    return model


def _stored(conn: Connection, *, as_of: datetime, mark: tuple[Any, ...] | None) -> SegmentModel | None:
    """The model kept for the period under this data mark (None: under any), read back (None: none,
    or not readable)."""
    payload = repo.stored_model(conn, as_of=as_of, mark=mark)
    if payload is None:
        return None
    try:
        vocab = F.vocabulary(catalog.product_facets(conn), payload.get("content_types", ()))
        parts = persist.from_payload(payload, vocab)
    except (ValueError, KeyError, TypeError) as error:
        _log.warning("kept segment model of %s not used (%s): fitting again", as_of.isoformat(), error)
        return None
    segments = tuple(Segment(*s) for s in parts.pop("segments"))
    return SegmentModel(segments=segments, **parts)


def _keep(conn: Connection, model: SegmentModel, mark: tuple[Any, ...]) -> None:
    """Store the model: in a transaction of its own, or, when the caller holds SQLite's write lock
    (a plain connection there takes it at BEGIN), in the caller's, since a second writer would wait."""
    with _lock:
        seen = _marks.get((_database(conn), model.as_of))
    totals = seen[0] if seen is not None and seen[1] == mark else None

    def write(on: Connection) -> None:
        repo.keep_model(on, as_of=model.as_of, mark=mark, model_version=model.model_version,
                        payload=persist.to_payload(model), now=datetime.now(UTC), totals=totals)

    if conn.dialect.name == "sqlite" and not conn.get_execution_options().get("maison_readonly"):
        try:
            write(conn)
        except ValueError as error:
            _log.warning("segment model of %s not kept (%s)", model.as_of.isoformat(), error)
        return
    try:
        with conn.engine.begin() as own:
            write(own)
    except (OperationalError, ValueError) as error:  # a busy store, or a model JSON cannot hold: still used here
        _log.warning("segment model of %s not kept (%s)", model.as_of.isoformat(), error)


def clear_cache(engine: Engine | None = None) -> None:
    """Forget the models and marks cached for one store (None: for all)."""
    url = None if engine is None else engine.url.render_as_string(hide_password=True)
    with _lock:
        for cache in (_cache, _marks):
            for key in [k for k in cache if url is None or k[0] == url]:
                del cache[key]


def pooled(book: consent.ConsentBook, client_id: str, *, at: datetime | None) -> bool:
    """Whether the client's consent pools them at `at`: their browsing may be used to personalise
    and they take part in similar-customer signals themselves (reciprocity)."""
    return all(book.may(client_id, p, Use.PERSONALIZE, at) for p in POOL_PURPOSES)


@dataclass(frozen=True, slots=True)
class PoolPart:
    """What a fit needs from some of the clientele (`pool_part`): its pooled clients with
    `MIN_EVENTS` behaviour events or more, in client id order, with their behaviour vectors,
    which blocks their consent lets be used at the model's instant, and their declared
    categories; and the content types every pooled client of the part read."""

    kept: list[str]
    x: np.ndarray  # one row per kept client
    allowed: np.ndarray  # kept x `F.BLOCKS`
    declared: list[np.ndarray | None]  # per kept client, over the vocabulary's categories
    seen: set[str]


PartsReader = Callable[[Connection, Sequence[str], F.Vocabulary, datetime], list[PoolPart]]
"""`pool_part` of consecutive slices of the clients (sorted ids), in order: in this process
(`parts_here`), or spread over processes by a job that has them (`weekly`)."""

PART = 5_000  # clients whose ledgers one `pool_part` holds
_FIT_CATEGORIES = (*POOL_PURPOSES, *readers.BEHAVIOUR.categories, *readers.DECLARED_INTERESTS.categories)


def pool_part(conn: Connection, client_ids: Sequence[str], vocab: F.Vocabulary, *, as_of: datetime) -> PoolPart:
    """The fit's inputs from these clients (see `PoolPart`). Every client's part is their own:
    their ledger, their events, their vector. So a clientele cut into parts anyhow gives the
    same rows as one read, which lets a job compute the parts in several processes."""
    book = consent.book(conn, client_ids, answering=_FIT_CATEGORIES)
    pool = sorted(c for c in book.entries if pooled(book, c, at=as_of))
    kept, x, seen = _vectors(conn, pool, vocab, as_of=as_of, book=book)
    allowed = np.array([[book.may(c, b, Use.PERSONALIZE, as_of) for b in F.BLOCKS] for c in kept],
                       dtype=bool).reshape(len(kept), len(F.BLOCKS))
    declared: list[np.ndarray | None] = []
    for start in range(0, len(kept), _CHUNK):
        part = kept[start : start + _CHUNK]
        said = gateway.read(conn, readers.DECLARED_INTERESTS, part, at=as_of, book=book)
        declared += [F.declared_vector(said.get(c, []), vocab.categories, at=as_of) for c in part]
    return PoolPart(kept, x, allowed, declared, seen)


def parts_here(conn: Connection, client_ids: Sequence[str], vocab: F.Vocabulary, as_of: datetime) -> list[PoolPart]:
    """`pool_part` of each slice of `PART` clients, one after the other on this connection."""
    return [pool_part(conn, client_ids[i : i + PART], vocab, as_of=as_of) for i in range(0, len(client_ids), PART)]


def fit(conn: Connection, *, as_of: datetime, segmenter: Segmenter | None = None,
        parts: PartsReader = parts_here) -> SegmentModel | None:
    """Fit segments on the pooled clients' events before `as_of` (no cache).

    `parts` computes the clientele's `PoolPart`s; a job with several processes passes one that
    spreads them (reading and tallying every pooled client's events is most of a fit)."""
    ids = sorted(repo.client_ids(conn))
    facets = catalog.product_facets(conn)
    listed = {p.content_type for p in catalog.list_content_pages(conn)}
    vocab = F.vocabulary(facets, listed)
    found = parts(conn, ids, vocab, as_of)
    seen = set().union(*(p.seen for p in found))
    if not seen <= listed:  # a page type the catalogue does not list is a column too: vectors again with it
        vocab = F.vocabulary(facets, listed | seen)
        found = parts(conn, ids, vocab, as_of)
    kept = [c for p in found for c in p.kept]
    x = np.vstack([p.x for p in found]) if found else np.zeros((0, len(vocab.features)))
    blocks = [f.block for f in vocab.features]
    model = segmenter or Segmenter()
    if len(kept) < 2 * model.k_range[1]:
        return None
    allowed = np.vstack([p.allowed for p in found])
    declared = [d for p in found for d in p.declared]
    # Rows in an order set by the data, not by internal client ids (random per store): k-means'
    # seeding and the silhouette sample then give the same segments wherever the same
    # behaviour is stored. Clients with identical rows are interchangeable.
    order = np.lexsort(np.hstack([x, allowed]).T[::-1])
    kept, x, allowed, declared = [kept[i] for i in order], x[order], allowed[order], [declared[i] for i in order]
    available = allowed[:, [F.BLOCKS.index(b) for b in blocks]]
    try:
        model.fit(x, available, blocks)
    except ModelInputError:
        return None
    if any(d is not None for d in declared):  # members' mean declaration per segment; segments unchanged
        stated = np.array([[d is not None] * len(vocab.categories) for d in declared])
        shares = np.vstack([np.zeros(len(vocab.categories)) if d is None else d for d in declared])
        model.add_block(shares, stated, F.DECLARED)
        blocks += [F.DECLARED] * len(vocab.categories)
        x = np.hstack([x, shares])
    members: dict[int, list[str]] = {s: [] for s in range(model.k_)}
    for client, label in zip(kept, model.labels_, strict=True):
        members[int(label)].append(client)
    segments = tuple(
        Segment(s, len(members[s]), describe(model.profiles_[s], vocab.features), tuple(members[s]))
        for s in range(model.k_)
    )
    return SegmentModel(as_of, _version(as_of, kept, x), vocab, model, segments, len(kept), tuple(blocks))


_CHUNK = 2_000  # clients whose events are in memory at once while fitting


def _vectors(conn: Connection, pool: Sequence[str], vocab: F.Vocabulary, *, as_of: datetime,
             book: consent.ConsentBook) -> tuple[list[str], np.ndarray, set[str]]:
    """The pooled clients with `MIN_EVENTS` behaviour events or more, their feature vectors, and the
    content types seen in every pooled client's events. Read a chunk of clients at a time: a
    clientele's raw events do not fit in memory at once (20,000 clients held 1.7 GB)."""
    kept: list[str] = []
    vectors: list[np.ndarray] = []
    seen: set[str] = set()
    for start in range(0, len(pool), _CHUNK):
        part = pool[start : start + _CHUNK]
        fetched = gateway.prefetch(conn, part, until=as_of, categories=readers.BEHAVIOUR.categories,
                                   book=book)  # with the ledgers the fit read; the policy applies in `rows`
        rows = {c: fetched.rows(readers.BEHAVIOUR, c, at=as_of) for c in part}
        seen |= {t for found in rows.values() for t in F.content_types_seen(found)}
        mine = [c for c in part if len(rows[c]) >= MIN_EVENTS]
        kept += mine
        vectors += [F.stored_vector(rows[c], vocab, at=as_of) for c in mine]
    return kept, np.vstack(vectors) if vectors else np.zeros((0, len(vocab.features))), seen


def place(conn: Connection, model: SegmentModel, client_id: str, *, at: datetime,
          categories: Sequence[str] = PLACING, read: ClientEvents | None = None) -> Placement | None:
    """The segment whose members behave most like the client, from the client's events before `at`.

    Only the blocks the client's consent lets personalisation use at `at` (the gateway's
    answer), restricted to `categories` and with events their values rest on, place the client;
    the placement lists exactly those. Each block weighs by how many such events it has
    (`estimator.reliability`), so a client whose behaviour is still thin (one content visit, one
    purchase) is placed mostly by the blocks with evidence, not by shares estimated from one
    event. Their declared categories, while usable, count as `DECLARED_EVENTS` events. None when
    fewer than `MIN_EVENTS` behaviour events are usable: a declaration alone places no one.

    `read(reader)`: the client's events as `gateway.read` answers for that reader at `at`, when the
    caller has them already (a job reads a chunk of clients at once).
    """
    read = read or _gateway_reader(conn, client_id, at)
    rows = read(readers.BEHAVIOUR)
    allowed = [r for r in rows if r.get("data_category") in categories]
    x, evidence = F.vector_and_evidence(allowed, model.vocabulary, at=at)  # the blocks with none add nothing
    used = tuple(b for b in F.BLOCKS if b in categories and evidence.get(b, 0.0) > 0)
    if sum(1 for r in allowed if r.get("data_category") in used) < MIN_EVENTS:
        return None
    declared = _declared(model, read, at=at) if F.DECLARED in categories else None
    if declared is not None:
        used, evidence = (*used, F.DECLARED), {**evidence, F.DECLARED: DECLARED_EVENTS}
    x = np.concatenate([x, np.zeros(model.blocks.count(F.DECLARED)) if declared is None else declared])
    available = np.array([b in used for b in model.blocks])
    weight = reliability(evidence, model.blocks)
    label = int(model.segmenter.predict(x, available, reliability=weight)[0])
    return Placement(model.segment(label), used) if label >= 0 else None


ClientEvents = Callable[[Reader], Sequence[Mapping[str, Any]]]
"""One client's events that a reader may use at an instant (`gateway.read`'s answer for them)."""


def _gateway_reader(conn: Connection, client_id: str, at: datetime) -> ClientEvents:
    return lambda reader: gateway.read(conn, reader, [client_id], at=at).get(client_id, [])


def _declared(model: SegmentModel, read: ClientEvents, *, at: datetime) -> np.ndarray | None:
    """The client's declared categories as shares, when the model has the block and they may be used."""
    if F.DECLARED not in model.blocks:
        return None
    rows = read(readers.DECLARED_INTERESTS)
    return F.declared_vector(rows, model.vocabulary.categories, at=at)


def _database(conn: Connection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)


def _version(as_of: datetime, clients: Sequence[str], x: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(",".join(clients).encode())
    digest.update(np.ascontiguousarray(x.round(9)).tobytes())
    return f"{MODEL_NAME}/{as_of:%Y-%m-%d}/{digest.hexdigest()[:10]}"
