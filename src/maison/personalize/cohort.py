"""Clients who browse like you: a client's cohort, and what it says about products, as aggregates.

A cohort is the other members of the client's behavioural segment (`models.segments`): one
model fitted per week on the pooled clients, the client placed in it by their own events up to
the exact instant. Why a segment and not each client's nearest neighbours: see
`models/segments/estimator.py`.

Consent, for the client: a cohort exists only while `similar_customer_signals` may be used to
personalise for them (L2 or deeper, granted, no objection to profiling, no restriction). What
places them is only what their consent lets personalisation use at that instant: browsing,
content reading, email open times, purchases. If browsing is switched off, the placement rests
on the rest (reading, email, purchases) and says so in `data_categories`. Each category weighs
by how many events it rests on (`segments.place`), so thin behaviour does not decide on one
event; with fewer than `segments.MIN_EVENTS` usable events there is no cohort. The categories
the client declared count too while `declared_categories` may be used (as one event's worth:
they matter while behaviour is thin), and then the basis says "…and share your interests".

Consent, for the others: a client is pooled only while their browsing may be used for
personalisation and they take part in similar-customer signals themselves (reciprocity; see
`models/segments/service.py`). Members' ratings, fit answers and purchases are read through the
gateway at the instant (their `purchase_history` must still be usable), and only ever leave as
counts, means, a verdict or a lift over at least 20 members (`cohort_signals`).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine

from maison.analytics import aggregates
from maison.analytics.sweeps import Codes
from maison.catalog.entities import Product
from maison.consent import gateway
from maison.consent import service as consent
from maison.consent.entities import ConsentState, Use
from maison.consent.readers import declare
from maison.consent.rules import may
from maison.core import marks
from maison.core.clock import epoch_micros
from maison.models.segments import repository as segment_marks
from maison.models.segments import service as segments
from maison.models.segments.features import DECLARED  # placed them too, while usable
from maison.personalize import cohort_signals as signals
from maison.personalize import derived
from maison.personalize.reads import ClientReads
from maison.personalize.trajectory import SalesTimeline

COHORT = "cohort"  # the client_derived kind
SIGNALS = "similar_customer_signals"
MIN_MEMBERS = 20

MEMBERS = declare(
    "personalize.cohort.members",
    use=Use.PERSONALIZE,
    categories=("purchase_history",),
    why="Ratings, fit answers and purchases of the clients in a cohort, shown only as counts, means, a fit "
        "verdict or a lift over at least 20 of them (cohort rating, sizing guidance, similar clients' picks).",
)

# In-process caches (bounded, keyed by the store and a high-water mark of what they were read from).
_pairs: OrderedDict[tuple[Any, ...], dict[str, Counter[str]]] = OrderedDict()
_pools: OrderedDict[tuple[Any, ...], PooledSpans] = OrderedDict()
_lock = threading.Lock()

_VERBS = {"browsing_behaviour": "browse", "content_engagement": "read", "purchase_history": "buy"}


@dataclass(frozen=True, slots=True)
class Cohort:
    """The clients who behave like one client at an instant (never includes the client)."""

    client_id: str
    segment_id: int
    members: tuple[str, ...]  # internal ids: for aggregates on the server, never shown
    model_version: str
    description: str  # the segment in plain words
    data_categories: tuple[str, ...]  # similar_customer_signals + the client's own categories that placed them
    at: datetime

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def basis(self) -> str:
        """Who the cohort is, in the words of the categories that placed the client."""
        verbs = [_VERBS[c] for c in _VERBS if c in self.data_categories]
        habits = [f"{_join(verbs)} like you"] if verbs else []
        if not verbs or "email_engagement" in self.data_categories:
            habits.append("open our emails when you do")
        if DECLARED in self.data_categories:
            habits.append("share your interests")
        return f"{self.size} similar clients, who {_join(habits)}"

    def payload(self) -> dict[str, Any]:
        """What the client's export shows: the segment, its size and description, no member."""
        return {"segment": self.segment_id, "size": self.size, "description": self.description,
                "basis": self.basis, "model_version": self.model_version, "as_of": self.at.isoformat(),
                "data_categories": list(self.data_categories)}


def cohort_of(conn: Connection, client_id: str, *, at: datetime, shared: SharedReads | None = None,
              reads: ClientReads | None = None) -> Cohort | None:
    """The client's cohort as of `at`, or None when consent, data or numbers do not allow one.

    `reads`: the client's consent and events when the caller has read them already (a job's chunk)."""
    read: segments.ClientEvents
    if reads is not None:
        state, read = reads.state(client_id, at), (lambda reader: reads.events(reader, client_id, at=at))
    else:
        state, read = _own_reads(conn, client_id, at)
    if not may(state, SIGNALS, Use.PERSONALIZE):
        return None
    model = shared.model_as_of(at) if shared is not None else segments.model_as_of(conn, at=at)
    if model is None:
        return None
    placed = segments.place(conn, model, client_id, at=at, read=read)
    if placed is None:
        return None
    members = (shared.still_pooled(model.model_version, placed.segment, client_id, at=at)
               if shared is not None and at <= shared.until
               else _still_pooled(conn, placed.segment.members, client_id, at=at))
    if len(members) < MIN_MEMBERS:
        return None
    return Cohort(client_id, placed.segment.segment_id, members, model.model_version, placed.segment.description,
                  (SIGNALS, *placed.data_categories), at)


def _own_reads(conn: Connection, client_id: str, at: datetime) -> tuple[ConsentState, segments.ClientEvents]:
    """The client's consent state at `at`, and their events for each reader as the gateway lets
    them be used, from one read of their ledger (a page read it three times: for the state, then
    for each of the placement's two readers). The policy still decides every category."""
    book = consent.book(conn, [client_id])
    return book.state(client_id, at), lambda reader: gateway.read(conn, reader, [client_id], at=at,
                                                                   book=book).get(client_id, [])


def _still_pooled(conn: Connection, members: tuple[str, ...], client_id: str, *, at: datetime) -> tuple[str, ...]:
    """Members other than the client whose consent still pools them at `at` (the model is as of Monday)."""
    return tuple(m for m in _pooled(conn, members).at(at) if m != client_id)


def clear_cache(engine: Engine | None = None) -> None:
    """Forget the cached member lists' spans of one store (None: of all), emptied by other means
    than deletes (a TRUNCATE fires no trigger, so the ledger's marks cannot tell)."""
    url = None if engine is None else engine.url.render_as_string(hide_password=True)
    with _lock:
        for key in [k for k in _pools if url is None or k[0] == url]:
            del _pools[key]


def _pooled(conn: Connection, members: tuple[str, ...]) -> PooledSpans:
    """When each member is pooled, under the ledger as it is now: cached per member list and
    ledger mark. A new mark (a consent banner anywhere in the shop) reads again the ledgers of the
    members with entries added since (`core.marks.added`)."""
    key = (_database(conn), members)
    with _lock:
        found = _pools.get(key)
        others = [p for k, p in _pools.items() if k[0] == key[0]] if found is None else []
    mark = segment_marks.consent_mark(conn, since=found.mark if found else others[-1].mark if others else None)
    if found is None or found.mark != mark:
        touched = segment_marks.consent_added(conn, then=found.mark, now=mark) if found else None
        found = (PooledSpans.read(conn, members, mark, known=[p for p in others if p.mark == mark])
                 if found is None or touched is None else found.updated(conn, touched, mark))
        with _lock:
            _pools[key] = found
            _pools.move_to_end(key)
            while len(_pools) > 16:
                _pools.popitem(last=False)
    return found


class PooledSpans:
    """Who of a segment's members is pooled at any instant: each member's spans of pooling (their
    spans of constant consent, `ConsentBook.spans`, where `segments.pooled` holds) as arrays, so an
    instant's answer is a mask over the segment, not the policy asked for each of thousands of
    members at every page (50 ms at 20,000 members)."""

    def __init__(self, members: tuple[str, ...], book: consent.ConsentBook, spans: _Spans,
                 mark: marks.Mark, positions: dict[str, int] | None = None) -> None:
        self.members, self.book, self.spans, self.mark = members, book, spans, mark
        self._positions = positions if positions is not None else {m: i for i, m in enumerate(members)}

    @classmethod
    def read(cls, conn: Connection, members: tuple[str, ...], mark: marks.Mark,
             known: Sequence[PooledSpans] = ()) -> PooledSpans:
        """The members' spans, their ledgers read, except those that `known` (other segments' spans
        under the same ledger mark) hold already: a refitted model's segments are the same clients
        shared out anew, and each segment's first page read all its members' ledgers again."""
        if not known:
            book = consent.book(conn, members, answering=segments.POOL_PURPOSES)
        else:
            held = {m for spans in known for m in spans.members}
            missing = [m for m in members if m not in held]
            entries = {c: e for spans in known for c, e in spans.book.entries.items()}  # of held members only
            fresh = consent.book(conn, missing, answering=segments.POOL_PURPOSES).entries if missing else {}
            book = consent.ConsentBook({**{m: entries[m] for m in members if m in entries}, **fresh},
                                       answering=frozenset(segments.POOL_PURPOSES))
        return cls(members, book, _Spans.pooled(book, enumerate(members)), mark)

    def updated(self, conn: Connection, clients: set[str], mark: marks.Mark) -> PooledSpans:
        """These spans with the ledgers of `clients` (those among the members) read again."""
        touched = {self._positions[c]: c for c in clients if c in self._positions}
        if not touched:
            return PooledSpans(self.members, self.book, self.spans, mark, self._positions)
        fresh = consent.book(conn, touched.values(), answering=segments.POOL_PURPOSES)
        book = self.book.with_ledgers_of(touched.values(), fresh)
        kept = ~np.isin(self.spans.members, np.fromiter(touched, dtype=np.int64, count=len(touched)))
        spans = self.spans.only(kept).joined(_Spans.pooled(book, touched.items()))
        return PooledSpans(self.members, book, spans, mark, self._positions)

    def at(self, at: datetime) -> tuple[str, ...]:
        """The pooled members at `at`, in the segment's order."""
        mask = np.zeros(len(self.members), dtype=bool)
        mask[self.spans.members[self.spans.holding(at)]] = True
        return tuple(self.members[i] for i in np.flatnonzero(mask).tolist())


def reviews(conn: Connection, cohort: Cohort, product_id: str, *, at: datetime) -> list[signals.Review]:
    """Each member's latest review of a product before `at` (for aggregation only)."""
    rows = gateway.read_about(conn, MEMBERS, cohort.members, at=at, event=signals.REVIEWED, product_id=product_id)
    return list(signals.latest_reviews((r for found in rows.values() for r in found), product_id).values())


def product_signals(conn: Connection, cohort: Cohort, product: Product, *, at: datetime) -> dict[str, Any]:
    """The product page's cohort parts: `cohort_rating` and `sizing_guidance` (each None when too thin)."""
    found = reviews(conn, cohort, product.product_id, at=at)
    rated = signals.rating(found)
    fit = signals.sizing(found, sizes=product.sizes)
    categories = list(cohort.data_categories)
    return {
        "cohort_rating": None if rated is None else {
            "mean": round(rated.mean, 2), "count": rated.count, "data_categories": categories,
            "basis": f"Rated by {rated.count} of {cohort.basis}.",
        },
        "sizing_guidance": None if fit is None else {
            "verdict": fit.verdict, "count": fit.count, "data_categories": categories,
            "basis": f"From the fit answers of {fit.count} of {cohort.basis}: most say it "
                     f"{'is ' if fit.verdict == signals.TRUE_TO_SIZE else ''}{fit.verdict}.",
        },
    }


class SharedReads:
    """What a job composing many L3 digests reads once, not once per client: cohorts and the shop's sales.

    Each segment's members' events and ledgers are read once (`gateway.prefetch`; again after any
    new consent entry) and the policy is applied to them at each client's instant, as
    `gateway.read` would, once per change in what the segment holds (`SegmentReads`); all
    clients' buyers per product (an aggregate) are counted from one read of the orders; the
    segment model is asked once per model period; the shop's orders form one timeline.
    """

    def __init__(self, conn: Connection, *, until: datetime) -> None:
        self.conn, self.until = conn, until
        self._segments: dict[tuple[Any, ...], SegmentReads] = {}
        self._buyers: dict[datetime, tuple[aggregates.BuyerCounts, int]] = {}
        self._buyers_timeline: aggregates.BuyersTimeline | None = None
        self._models: dict[datetime, segments.SegmentModel | None] = {}
        self._timeline: tuple[Sequence[Product], SalesTimeline] | None = None
        self._orders: list[aggregates.OrderRow] | None = None
        self._mark: marks.Mark | None = None
        self._mark_read = False

    def still_pooled(self, model_version: str, segment: segments.Segment, client_id: str, *,
                     at: datetime) -> tuple[str, ...]:
        """`_still_pooled(conn, segment.members, client_id, at=at)`, from the segment's reads."""
        key = (model_version, segment.segment_id, self._consent_mark())
        found = self._segments.get(key)
        if found is None or found.members != segment.members:
            book = consent.book(self.conn, segment.members, answering=(*MEMBERS.categories, *segments.POOL_PURPOSES))
            found = self._segments[key] = SegmentReads(
                gateway.prefetch(self.conn, segment.members, until=self.until, categories=MEMBERS.categories,
                                 book=book),
                segment.members)
        return found.at(at).pooled_without(client_id)

    def member_buyers(self, cohort: Cohort, *, at: datetime) -> tuple[dict[str, int], int] | None:
        """`signals.buyers` of the cohort members' rows as the policy lets them be used at `at`, when
        the cohort is pooled members of a segment this job has read (`still_pooled`); else None."""
        found = self._read_segment(cohort)
        return found.at(at).buyers(cohort.members, cohort.client_id) if found is not None else None

    def member_affinities(self, cohort: Cohort, *, at: datetime, min_buyers: int,
                          min_lift: float = 0.0) -> dict[str, signals.Affinity] | None:
        """`signals.affinities` of `member_buyers(cohort, at=at)` against all clients' buyers at `at`,
        when the cohort is the pooled members of a segment this job has read, less the client; else None."""
        found = self._read_segment(cohort)
        if found is None:
            return None
        all_buyers, all_count = self.distinct_buyers(at)
        return found.at(at).affinities(cohort.members, cohort.client_id, all_buyers, all_count, min_buyers=min_buyers,
                                       min_lift=min_lift)

    def _read_segment(self, cohort: Cohort) -> SegmentReads | None:
        """The reads of the cohort's segment, if `still_pooled` made them under the current consent."""
        return self._segments.get((cohort.model_version, cohort.segment_id, self._consent_mark()))

    def next_snapshot(self) -> None:
        """The job ended its read transaction: consent may have changed since (another process)."""
        self._mark_read = False

    def _consent_mark(self) -> marks.Mark:
        """The ledger's mark (`segments.repository.consent_mark`), read once per read transaction: what
        the members' cached reads were read under (the same mark while the ledger did not change)."""
        if not self._mark_read:
            self._mark = segment_marks.consent_mark(self.conn, since=self._mark)
            self._mark_read = True
        assert self._mark is not None
        return self._mark

    def timeline(self, products: Sequence[Product]) -> SalesTimeline:
        """Every order up to the job's horizon, read once, as one `trajectory.SalesTimeline` (per
        catalogue): each L3 digest reads months of the shop's sales, and a client's view of it
        `since` their start answers as a timeline of `aggregates.sales(start, at)` would."""
        if self._timeline is None or self._timeline[0] is not products:
            self._timeline = (products, SalesTimeline.of_orders(self._order_rows(), products))
        return self._timeline[1]

    def _order_rows(self) -> list[aggregates.OrderRow]:
        """Every order up to the horizon, read once for the sales timeline and the buyers' counts
        (at 100,000 clients each read of the orders was seconds)."""
        if self._orders is None:
            self._orders = aggregates.order_rows(self.conn, end=self.until)
        return self._orders

    def model_as_of(self, at: datetime) -> segments.SegmentModel | None:
        """`segments.model_as_of`, asked once per model period (`segments.fit_instant`), which is all
        the model depends on: its freshness check counts the stored events."""
        period = segments.fit_instant(at)
        if period not in self._models:
            self._models[period] = segments.model_as_of(self.conn, at=at, keep=True)  # for the next runs
        return self._models[period]

    def distinct_buyers(self, at: datetime) -> tuple[aggregates.BuyerCounts, int]:
        """`aggregates.distinct_buyers(conn, before=at)` for `at` up to the job's horizon, from one read
        of the orders (`aggregates.BuyersTimeline`)."""
        found = self._buyers.get(at)
        if found is None:
            if self._buyers_timeline is None:
                self._buyers_timeline = aggregates.BuyersTimeline(self._order_rows(), end=self.until)
            found = self._buyers[at] = self._buyers_timeline.counts_at(at)
        return found


class SegmentReads:
    """A segment's members read once (events the cohort signals use, and their whole ledgers), and
    who is pooled and what each bought at an instant, worked out once per change.

    Who is pooled at t (their consent at t) and what they bought (their rows before t, as their
    consent at t lets them be used) change only at a member's ledger entry or stored row, so all
    the instants between two such changes share one answer (`SegmentAt`). A client's cohort is the
    pooled members without the client; its counts are the segment's minus the client's own.

    Each member's spans of constant consent (`ConsentBook.spans`) say when the pooling rule holds
    for them, and the gateway says when each of their rows is one `read` returns (`visible`); both
    are kept as arrays of instants, so an answer is a few masks over the segment, not the policy
    asked again for every member at every instant (that grew with the clientele squared).
    """

    def __init__(self, prefetched: gateway.Prefetched, members: tuple[str, ...]) -> None:
        # Only what answers `at` is kept (arrays, instants, names), not the rows and ledgers read.
        self.members = members  # in the segment's order, as `_still_pooled` keeps them
        self._positions = {m: i for i, m in enumerate(members)}
        self._rows = prefetched.stamps()
        self._ledger = sorted({e.effective_at for c in self.members for e in prefetched.book.entries.get(c, ())})
        self._at: dict[tuple[int, int], SegmentAt] = {}
        self._pooled = _Spans.pooled(prefetched.book, enumerate(members))
        self._products = Codes()
        self._names = self._products.names
        lines: list[tuple[int, int, datetime | None, datetime | None]] = []
        for i, m in enumerate(members):
            for row, a, b in prefetched.visible(MEMBERS, m):
                lines += [(i, self._products.code(pid), a, b) for pid in sorted(signals.products_bought(row))]
        self._bought = _Spans([x[0] for x in lines], [x[2] for x in lines], [x[3] for x in lines])
        # Each line as one (member, product) code, the lines in code order: the pairs an instant
        # holds, each once, are then a mask and a comparison with the neighbour, not a sort. A
        # week's sends fall at thousands of instants with an order between them (20-25 ms a sort
        # for a segment of 36,000 members).
        self._width = max(len(self._names), 1)
        pairs = self._bought.members * self._width + np.array([x[1] for x in lines], dtype=np.int64)
        self._pair_order = np.argsort(pairs, kind="stable")
        self._pairs = pairs[self._pair_order]
        self._pooled_at: dict[int, tuple[np.ndarray, tuple[str, ...], frozenset[str], dict[str, int]]] = {}

    def at(self, at: datetime) -> SegmentAt:
        key = (bisect_left(self._rows, at), bisect_right(self._ledger, at))
        found = self._at.get(key)
        if found is None:
            pooled, ids, id_set, places = self._pooled_between(key[1], at)
            lines = self._bought.holding(at) & pooled[self._bought.members]
            held = self._pairs[lines[self._pair_order]]  # in code order
            pairs = held[np.concatenate(([True], held[1:] != held[:-1]))] if held.size else held
            found = self._at[key] = SegmentAt(
                ids, id_set, places, _Bought(pairs // self._width, pairs % self._width, self.members, self._names),
                self._positions)
        return found

    def _pooled_between(self, changes: int, at: datetime) -> tuple[np.ndarray, tuple[str, ...], frozenset[str],
                                                                  dict[str, int]]:
        """Who is pooled at `at` (a mask over the members, their ids, as a set, each id's place among
        them): it changes only at a ledger instant (`changes` of them are at or before `at`), not
        when an order is stored."""
        found = self._pooled_at.get(changes)
        if found is None:
            mask = np.zeros(len(self.members), dtype=bool)
            mask[self._pooled.members[self._pooled.holding(at)]] = True
            ids = tuple(self.members[i] for i in np.flatnonzero(mask).tolist())
            found = self._pooled_at[changes] = (mask, ids, frozenset(ids), {m: i for i, m in enumerate(ids)})
        return found


class _Spans:
    """Spans `[start, end)` of instants, each of a member (by position): as arrays of microseconds."""

    def __init__(self, members: list[int], starts: list[datetime | None], ends: list[datetime | None]) -> None:
        self.members = np.array(members, dtype=np.int64)
        self.starts = np.array([_EARLIEST if t is None else epoch_micros(t) for t in starts], dtype=np.int64)
        self.ends = np.array([_LATEST if t is None else epoch_micros(t) for t in ends], dtype=np.int64)

    @classmethod
    def pooled(cls, book: consent.ConsentBook, members: Iterable[tuple[int, str]]) -> _Spans:
        """The spans in which each member (position, id) is pooled, by the book."""
        found = [(i, a, b) for i, m in members for a, b, asked in book.spans(m) if segments.pooled(book, m, at=asked)]
        return cls([s[0] for s in found], [s[1] for s in found], [s[2] for s in found])

    def only(self, kept: np.ndarray) -> _Spans:
        """The spans a mask keeps."""
        out = _Spans([], [], [])
        out.members, out.starts, out.ends = self.members[kept], self.starts[kept], self.ends[kept]
        return out

    def joined(self, other: _Spans) -> _Spans:
        out = _Spans([], [], [])
        out.members = np.concatenate((self.members, other.members))
        out.starts = np.concatenate((self.starts, other.starts))
        out.ends = np.concatenate((self.ends, other.ends))
        return out

    def holding(self, at: datetime) -> np.ndarray:
        """Which spans hold the instant."""
        t = epoch_micros(at)
        found: np.ndarray = (self.starts <= t) & (t < self.ends)
        return found


_EARLIEST, _LATEST = np.iinfo(np.int64).min, np.iinfo(np.int64).max
_NO_CODES = (np.zeros(0, dtype=np.int64),) * 3


class _Bought:
    """Who bought what among a segment's pooled members at an instant: pairs of a member's position
    and a product's code, each pair once, ordered by member."""

    def __init__(self, buyers: np.ndarray, products: np.ndarray, members: tuple[str, ...],
                 names: Sequence[str]) -> None:
        self.buyers, self.products, self.members, self.names = buyers, products, members, names

    def counted(self) -> tuple[np.ndarray, int]:
        """`signals.buyers_among` over every pooled member: buyers per product code, and buyers of anything."""
        buyers = self.buyers  # in order: who bought anything is where the member changes
        return (np.bincount(self.products, minlength=len(self.names)),
                int(np.count_nonzero(buyers[1:] != buyers[:-1])) + 1 if buyers.size else 0)

    def products_of(self, member: int) -> frozenset[int]:
        """The codes of what the member (by position) bought: the pairs are ordered by member."""
        lo, hi = np.searchsorted(self.buyers, [member, member + 1]).tolist()
        return frozenset(self.products[lo:hi].tolist())

    def by_member(self) -> dict[str, frozenset[str]]:
        """`signals.bought_by` of the pooled members' rows."""
        found: dict[str, set[str]] = {}
        for i, p in zip(self.buyers.tolist(), self.products.tolist(), strict=True):
            found.setdefault(self.members[i], set()).add(self.names[p])
        return {m: frozenset(pids) for m, pids in found.items()}


class SegmentAt:
    """A segment's pooled members at an instant and what each bought (see `SegmentReads`)."""

    def __init__(self, pooled: tuple[str, ...], pooled_set: frozenset[str], places: Mapping[str, int],
                 bought: _Bought, positions: Mapping[str, int]) -> None:
        self.pooled = pooled
        self._pooled = pooled_set  # `pooled` as a set, and each one's index in it: shared by the
        self._places = places  # answers of one ledger state (`SegmentReads._pooled_between`)
        self._bought = bought
        self._positions = positions  # member -> position in the segment
        self._by_member: dict[str, frozenset[str]] | None = None
        self._counts: dict[str, int] | None = None
        self._frequent: tuple[Any, Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = (None, None, _NO_CODES)
        self._counted, self.count = bought.counted()
        self._without: tuple[str | None, tuple[str, ...]] = (None, ())

    @property
    def counts(self) -> dict[str, int]:
        """Buyers per product among every pooled member (`signals.buyers_among`), as a dictionary."""
        if self._counts is None:
            names = self._bought.names
            self._counts = {names[p]: int(self._counted[p]) for p in np.flatnonzero(self._counted).tolist()}
        return self._counts

    @property
    def bought(self) -> dict[str, frozenset[str]]:
        """What each pooled member bought (members who bought nothing are absent), worked out when asked."""
        if self._by_member is None:
            self._by_member = self._bought.by_member()
        return self._by_member

    def pooled_without(self, client_id: str) -> tuple[str, ...]:
        """The pooled members less the client (in the segment's order). The last answer is kept: the
        client's cohort holds it, and `affinities` then knows it without comparing thousands of ids."""
        if client_id not in self._pooled:
            return self.pooled
        if self._without[0] != client_id:
            i = self._places[client_id]
            self._without = (client_id, self.pooled[:i] + self.pooled[i + 1 :])
        return self._without[1]

    def buyers(self, members: Sequence[str], client_id: str) -> tuple[dict[str, int], int] | None:
        """`signals.buyers` of these members' rows: the segment's counts less the client's own when
        `members` is the pooled members without the client, counted from what each bought when they
        are some pooled members; None when some are not pooled members (not read here)."""
        if not self._pooled.issuperset(members):
            return None
        if len(members) != len(self.pooled) - (client_id in self._pooled) or client_id in members:
            return signals.buyers_among(self.bought, members)
        own = self.bought.get(client_id) if client_id in self._pooled else None
        if not own:
            return dict(self.counts), self.count
        counts = dict(self.counts)
        for pid in own:
            counts[pid] -= 1
            if not counts[pid]:
                del counts[pid]
        return counts, self.count - 1

    def affinities(self, members: Sequence[str], client_id: str, all_buyers: aggregates.BuyerCounts, all_count: int, *,
                   min_buyers: int, min_lift: float = 0.0) -> dict[str, signals.Affinity] | None:
        """`signals.affinities` of `buyers(members, client_id)` when `members` are the pooled members
        without the client; else None (ask `buyers`).

        Only products at least `min_buyers` pooled members bought can qualify (the client's own
        purchase lowers a count by one at most). They are found once per answer, with all
        clients' buyers of each (kept for the last `all_buyers` asked), in code order (the
        order `buyers` lists them); the shares and lifts are computed over them as arrays, with
        the same IEEE divisions as `signals.affinities`. Building and walking every product the
        segment bought, for each client, was most of a cohort's cost."""
        if not self._is_all_but(members, client_id):
            return None
        own = self._own_codes(client_id)
        member_count = self.count - 1 if own else self.count
        if member_count <= 0 or all_count <= 0:
            return {}
        codes, bought, overall = self._frequent_with(min_buyers, all_buyers)
        if own:
            bought = bought - np.isin(codes, np.fromiter(own, dtype=np.int64, count=len(own)))
        kept = (bought >= min_buyers) & (bought > 0) & (overall > 0)  # a product no one else bought is not counted
        names = self._bought.names
        bought_kept, overall_kept = bought[kept], overall[kept]
        member_share = bought_kept / member_count
        overall_share = overall_kept / all_count
        lift = member_share / overall_share
        strong = lift >= min_lift  # the rest are never built: at 100,000 clients, thousands of products a segment buys
        codes_kept, bought_kept = codes[kept][strong], bought_kept[strong]
        member_share, overall_share, lift = member_share[strong], overall_share[strong], lift[strong]
        return {
            names[c]: signals.Affinity(names[c], b, m, o, f)
            for c, b, m, o, f in zip(codes_kept.tolist(), bought_kept.tolist(), member_share.tolist(),
                                     overall_share.tolist(), lift.tolist(), strict=True)
        }

    def _frequent_with(self, min_buyers: int, all_buyers: aggregates.BuyerCounts) -> tuple[np.ndarray, np.ndarray,
                                                                                            np.ndarray]:
        """The codes at least `min_buyers` pooled members bought, those counts, and all clients'
        buyers of each product in `all_buyers` (kept for the last counts asked: one per instant)."""
        if self._frequent[0] != min_buyers or self._frequent[1] is not all_buyers:
            codes = np.flatnonzero(self._counted >= max(min_buyers, 1))
            overall = all_buyers.among(self._bought.names)[codes]
            self._frequent = (min_buyers, all_buyers, (codes, self._counted[codes], overall))
        return self._frequent[2]

    def _is_all_but(self, members: Sequence[str], client_id: str) -> bool:
        """Whether `members` are the pooled members without the client (what `buyers` subtracts from)."""
        if members is self.pooled or (self._without[0] == client_id and members is self._without[1]):
            return client_id not in self._pooled or members is not self.pooled
        return (len(members) == len(self.pooled) - (client_id in self._pooled) and client_id not in members
                and self._pooled.issuperset(members))

    def _own_codes(self, client_id: str) -> frozenset[int]:
        """The codes of the products the client bought, as a pooled member (else none)."""
        if client_id not in self._pooled:
            return frozenset()
        return self._bought.products_of(self._positions[client_id])


def cohort_product_affinity(conn: Connection, cohort: Cohort, *, at: datetime,
                            min_buyers: int = signals.MIN_BUYERS, min_lift: float = 0.0,
                            shared: SharedReads | None = None) -> dict[str, signals.Affinity]:
    """Per product bought by at least `min_buyers` members before `at`, with a lift of at least
    `min_lift`: how many, and the lift of the cohort's share of buyers over all clients' (a lift
    of 3 = bought three times as often)."""
    shared = shared if shared is not None and at <= shared.until else None
    quick = (shared.member_affinities(cohort, at=at, min_buyers=min_buyers, min_lift=min_lift)
             if shared is not None else None)
    if quick is not None:
        return quick
    counted = shared.member_buyers(cohort, at=at) if shared is not None else None
    if counted is None:
        rows = gateway.read(conn, MEMBERS, cohort.members, at=at)
        counted = signals.buyers(r for found in rows.values() for r in found)
    member_buyers, member_count = counted
    all_buyers, all_count = (shared.distinct_buyers(at) if shared is not None
                             else aggregates.distinct_buyers(conn, before=at))
    return signals.affinities(member_buyers, member_count, all_buyers, all_count, min_buyers=min_buyers,
                              min_lift=min_lift)


def remember(conn: Connection, cohort: Cohort) -> bool:
    """Write the cohort to `client_derived` (the client's data: exported, erased), unless the latest
    row already says the same (same model, segment and categories). Returns whether a row was written."""
    rows = new_rows(conn, [cohort])
    derived.record_all(conn, rows)
    return bool(rows)


_SAME = ("model_version", "segment", "size", "data_categories")


def new_rows(conn: Connection, placed: Sequence[Cohort]) -> list[dict[str, Any]]:
    """The `client_derived` rows `remember` would write for these cohorts (one client each), with
    the clients' latest cohort rows read in one query."""
    if not placed:
        return []
    kept = derived.rows_of(conn, [c.client_id for c in placed], [COHORT], until=max(c.at for c in placed))
    rows = []
    for cohort in placed:
        payload = cohort.payload()
        latest = kept.latest(cohort.client_id, COHORT, at=cohort.at)
        if isinstance(latest, dict) and all(latest.get(k) == payload[k] for k in _SAME):
            continue
        rows.append(derived.row(cohort.client_id, kind=COHORT, as_of=cohort.at, payload=payload,
                                data_categories=cohort.data_categories, model_version=cohort.model_version))
    return rows


# ---------------------------------------------------------------- coordinating items (aggregates)

MIN_CO_ORDERS = 3


def co_bought(conn: Connection, product_id: str, *, at: datetime) -> list[tuple[str, int]]:
    """Products bought in the same order as `product_id` at least `MIN_CO_ORDERS` times before the
    the start of `at`'s 28-day segment period, most often first (a shop-wide aggregate, cached per period)."""
    as_of = segments.fit_instant(at)
    key = (_database(conn), as_of, segments.data_mark(conn, as_of=as_of))
    with _lock:
        table = _pairs.get(key)
    if table is None:
        table = aggregates.co_purchases(conn, before=as_of)
        with _lock:
            _pairs[key] = table
            while len(_pairs) > 6:
                _pairs.popitem(last=False)
    together = table.get(product_id, Counter())
    return sorted(((p, n) for p, n in together.items() if n >= MIN_CO_ORDERS), key=lambda pair: (-pair[1], pair[0]))


def _database(conn: Connection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
