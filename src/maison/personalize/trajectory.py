"""Taste trajectory: how a client's browsing and buying shifted, month by month (pure).

**Months.** A month is a block of four calendar weeks (28 days, Monday 00:00 local to Monday
00:00 local) counted from the Monday of the week the client joined (their first consent
record, else their first event). Weeks, not calendar months, because the digest is weekly: a
block always holds four whole digest weeks, so two months compare like with like, and the
boundaries do not move when a calendar month has 31 days or the clocks change. A month is
summarised once it is over; the month in progress is added, marked `complete: false`, once
`MIN_DAYS_IN_PROGRESS` of it have passed, and only the last `KEEP` months are kept.

**Metrics of a month** (events timestamped in the month and before the instant):
product views; the share of views on a top seller of the product's category *at the time of
viewing* (`top_sellers.top_sellers` over units sold in the 30 days before the view: the
shop's sales as they were then, not now); median view dwell; the share of views on a product
carrying a value tag, and the share carrying each aesthetic tag (which tags are which is the
maison's `Vocabulary`, not code); content-page visits and seconds; visits to impact-type
pages; the price band (quartiles of viewed prices); the share of views per category; saves
and purchases.

Every entry lists the purposes it rests on: `taste_trajectory` (the use) and the categories
of the events it summarised. The caller computes a trajectory only while `taste_trajectory`
may be used.
"""

from __future__ import annotations

import copy
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from maison.analytics.aggregates import OrderRow
from maison.analytics.entities import Sale
from maison.catalog.entities import Product
from maison.core.clock import epoch_micros
from maison.personalize.history import ClientHistory, Moment
from maison.personalize.top_sellers import TOP_N, WINDOW, ranking_index
from maison.personalize.vocabulary import Vocabulary

TASTE_TRAJECTORY = "taste_trajectory"
MONTH = timedelta(days=28)
MIN_DAYS_IN_PROGRESS = 14
KEEP = 6


@dataclass(frozen=True, slots=True)
class Month:
    index: int  # 1 = the four weeks from the client's first week
    start: datetime  # Monday 00:00 local
    end: datetime  # exclusive: Monday 00:00 local four weeks later
    complete: bool


def first_monday(joined: datetime, zone: ZoneInfo) -> date:
    local = joined.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def months(joined: datetime, at: datetime, zone: ZoneInfo) -> list[Month]:
    """The months to summarise as of `at` (see module doc): complete ones, then one in progress."""
    monday = first_monday(joined, zone)
    found: list[Month] = []
    index = 1
    while True:
        start = datetime.combine(monday + (index - 1) * MONTH, time(0), tzinfo=zone)
        end = datetime.combine(monday + index * MONTH, time(0), tzinfo=zone)
        if end <= at:
            found.append(Month(index, start, end, True))
        elif at - start >= timedelta(days=MIN_DAYS_IN_PROGRESS):
            found.append(Month(index, start, end, False))
            break
        else:
            break
        index += 1
    return found[-KEEP:]


class SalesTimeline:
    """All clients' sales in time order, to ask "was this piece a top seller at instant t?".

    Built once from `analytics.aggregates.sales` (shop-wide, non-personal); each question is a
    bisect and a count over 30 days of sales. A client's trajectory asks at every view, so the
    sales are kept as arrays (time, product, category, units) and a question counts its window
    with NumPy; the answer is that of `top_sellers` over the window's units, exactly.

    A weekly job builds one timeline of every stored order (`of_orders`) and gives each client
    a view `since` the start of their months: the sales `aggregates.sales` would read from that
    start, where an order stored twice counts at its first row after the start.
    """

    def __init__(self, sales: Sequence[Sale], products: Sequence[Product]) -> None:
        self._build(products, [(s, _NEVER) for s in sales])

    @classmethod
    def of_orders(cls, rows: Sequence[OrderRow], products: Sequence[Product]) -> SalesTimeline:
        """Every line of every order row (`aggregates.order_rows`, in stored order), each with when its
        order's previous row was stored, so that `since` can count each order once from any start."""
        previous: dict[str, int] = {}
        lines = []
        for row in rows:
            before = previous.get(row.order, _NEVER)
            previous[row.order] = epoch_micros(row.at)
            lines += [(sale, before) for sale in row.sales]
        timeline = cls.__new__(cls)
        timeline._build(products, lines)
        return timeline

    def since(self, start: datetime) -> SalesTimeline:
        """This timeline as `aggregates.sales(start=start, ...)` would have read it: nothing before
        `start`, and lines of an order row only when no earlier row of the same order was stored at
        or after `start`."""
        view = copy.copy(self)
        view._since = epoch_micros(start)
        return view

    def _build(self, products: Sequence[Product], lines: Sequence[tuple[Sale, int]]) -> None:
        self._index = ranking_index(products)
        known = sorted(((s, b) for s, b in lines if s.product_id in self._index.position), key=lambda line: line[0].at)
        times = np.array([epoch_micros(s.at) for s, _ in known], dtype=np.int64)
        positions = np.array([self._index.position[s.product_id] for s, _ in known], dtype=np.int64)
        units = np.array([s.quantity for s, _ in known], dtype=np.int64)
        previous = np.array([b for _, b in known], dtype=np.int64)
        categories = self._index.category_code[positions] if known else np.zeros(0, dtype=np.int64)
        # each category's lines apart, still in time order: a question reads only its own category
        # in the window, not every sale of the shop's last 30 days
        grouped = np.argsort(categories, kind="stable")
        bounds = np.searchsorted(categories[grouped], np.arange(len(self._index.codes) + 1))
        self._by_category = [
            _CategoryLines.of(*(a[grouped[lo:hi]] for a in (times, positions, units, previous)))
            for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ]
        self._since: int | None = None

    def is_top_seller(self, category: str, product_id: str, at: datetime) -> bool:
        """Whether the product is among `top_sellers` of the category's recommendable products sold
        in `[at - WINDOW, at)`, ranked by those units: it is when it sold in the window and fewer
        than `TOP_N` others rank before it (more units, or as many and an earlier product_id).
        A trajectory asks at each of a client's views, each at its own instant; ranking every
        product the category sold, for each view, was most of a month's summary."""
        position = self._index.position.get(product_id)
        if position is None:
            return False
        window = self._window(category, at)
        if window is None:
            return False
        sold, units = window
        i = int(np.searchsorted(sold, position))
        if i == len(sold) or int(sold[i]) != position:
            return False
        mine = units[i]
        return int(np.count_nonzero((units > mine) | ((units == mine) & (sold < position)))) < TOP_N

    def _window(self, category: str, at: datetime) -> tuple[np.ndarray, np.ndarray] | None:
        """The recommendable products of the category sold in `[at - WINDOW, at)` (positions,
        ascending) and their units; None for a category the catalogue does not have."""
        code = self._index.codes.get(category)
        if code is None:
            return None
        first = epoch_micros(at - WINDOW) if self._since is None else max(epoch_micros(at - WINDOW), self._since)
        lines = self._by_category[code]
        lo, hi = np.searchsorted(lines.times, [first, epoch_micros(at)], side="left").tolist()
        if self._since is not None and hi > lo and int(lines.previous[lo:hi].max()) >= self._since:
            # some order in the window was stored again after the start: count its first row only
            inside = lines.previous[lo:hi] < self._since
            sold, where = np.unique(lines.products[lo:hi][inside], return_inverse=True)
            units = np.bincount(where, weights=lines.units[lo:hi][inside], minlength=len(sold)).astype(np.int64)
        else:
            sold, units = lines.sold, lines.units_between(lo, hi)
        eligible = (units > 0) & self._index.recommendable[sold]
        return sold[eligible], units[eligible]


_NEVER = np.iinfo(np.int64).min  # an order row with no earlier row of its order


@dataclass(frozen=True, slots=True)
class _CategoryLines:
    """One category's sale lines in time order: instants (µs), product positions, units, and when
    each line's order was last stored before (`_NEVER`: not before).

    A question's window is a run of these lines, and a client's trajectory asks at each product
    view. Counting the run line by line grew with the shop's sales (thousands of lines in 30
    days, per question); the units each product sold before every `_BLOCK`-th line are kept, so
    a run's units are two rows of those totals and at most two blocks' lines counted, whatever
    the run's length."""

    times: np.ndarray
    products: np.ndarray
    units: np.ndarray
    previous: np.ndarray
    sold: np.ndarray  # the positions of the products with a line, ascending
    local: np.ndarray  # each line's product, as an index into `sold`
    before: np.ndarray  # row k: units per `sold` product in the lines before line k * block
    block: int

    @classmethod
    def of(cls, times: np.ndarray, products: np.ndarray, units: np.ndarray, previous: np.ndarray) -> _CategoryLines:
        sold, local = np.unique(products, return_inverse=True)
        block = _BLOCK
        blocks = len(times) // block
        sums = [np.bincount(local[k * block : (k + 1) * block], weights=units[k * block : (k + 1) * block],
                            minlength=len(sold)).astype(np.int64) for k in range(blocks)]
        before = np.zeros((blocks + 1, len(sold)), dtype=np.int64)
        if sums:
            np.cumsum(np.vstack(sums), axis=0, out=before[1:])
        return cls(times, products, units, previous, sold, local, before, block)

    def units_between(self, lo: int, hi: int) -> np.ndarray:
        """Units per `sold` product in lines `[lo, hi)`."""
        first, last = -(-lo // self.block), hi // self.block  # the whole blocks inside the run
        if first >= last:
            return self._count(lo, hi)
        found: np.ndarray = (self.before[last] - self.before[first]) + self._count(lo, first * self.block) \
            + self._count(last * self.block, hi)
        return found

    def _count(self, lo: int, hi: int) -> np.ndarray:
        counted: np.ndarray = np.bincount(self.local[lo:hi], weights=self.units[lo:hi],
                                          minlength=len(self.sold)).astype(np.int64)
        return counted


_BLOCK = 256  # lines between two rows of kept totals


@dataclass(frozen=True, slots=True)
class MonthSummary:
    month: Month
    product_views: int
    top_seller_share: float | None
    median_dwell_seconds: float | None
    value_tagged_share: float | None
    tag_shares: Mapping[str, float] = field(hash=False)  # aesthetic tag -> share of views
    value_tag_shares: Mapping[str, float] = field(hash=False)
    content_visits: int = 0
    content_seconds: float = 0.0
    impact_visits: int = 0
    price_band: Mapping[str, float] | None = field(default=None, hash=False)
    category_shares: Mapping[str, float] = field(default_factory=dict, hash=False)
    saves: int = 0
    purchases: int = 0
    data_categories: tuple[str, ...] = (TASTE_TRAJECTORY,)
    evidence: tuple[Moment, ...] = field(default=(), hash=False)  # the views behind the shares
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.index,
            "start": self.month.start.date().isoformat(),
            "end": (self.month.end - timedelta(days=1)).date().isoformat(),
            "complete": self.month.complete,
            "product_views": self.product_views,
            "top_seller_share": _round(self.top_seller_share),
            "median_dwell_seconds": self.median_dwell_seconds,
            "value_tagged_share": _round(self.value_tagged_share),
            "tag_shares": {t: _round(v) for t, v in sorted(self.tag_shares.items())},
            "value_tag_shares": {t: _round(v) for t, v in sorted(self.value_tag_shares.items())},
            "content_visits": self.content_visits,
            "content_seconds": self.content_seconds,
            "impact_visits": self.impact_visits,
            "price_band_eur": dict(self.price_band) if self.price_band else None,
            "category_shares": {c: _round(v) for c, v in sorted(self.category_shares.items())},
            "saves": self.saves,
            "purchases": self.purchases,
            "text": self.text,
            "data_categories": list(self.data_categories),
        }


def summarize_month(
    history: ClientHistory, month: Month, *, products: Mapping[str, Product], sales: SalesTimeline,
    vocabulary: Vocabulary,
) -> MonthSummary:
    """The metrics of one month (see module doc), without the plain-words text."""
    inside = history.between(month.start, month.end)
    views = [m for m in inside if m.name == "Product Viewed" and m.product_id in products]
    seen = [products[str(v.product_id)] for v in views]
    content = [m for m in inside if m.is_content_visit]
    n = len(views)

    def share(test: Any) -> float | None:
        return sum(1 for p in seen if test(p)) / n if n else None

    on_top = sum(1 for v, p in zip(views, seen, strict=True) if sales.is_top_seller(p.category, p.product_id, v.at))
    top = on_top / n if n else None
    tags = Counter(t for p in seen for t in set(p.tags))
    used = {m.data_category for m in [*views, *content]}
    purchases = [m for m in inside if m.name == "Order Completed"]
    used |= {m.data_category for m in purchases}
    return MonthSummary(
        month=month,
        product_views=n,
        top_seller_share=top,
        median_dwell_seconds=statistics.median(v.dwell_seconds for v in views) if views else None,
        value_tagged_share=share(lambda p: vocabulary.is_value_tagged(p.tags)),
        tag_shares={t: tags[t] / n for t in sorted(vocabulary.aesthetic_tags)} if n else {},
        value_tag_shares={t: tags[t] / n for t in sorted(vocabulary.value_tags)} if n else {},
        content_visits=len(content),
        content_seconds=sum(m.dwell_seconds for m in content),
        impact_visits=sum(1 for m in content if m.content_type in vocabulary.impact_content_types),
        price_band=_band([float(p.price) for p in seen]),
        category_shares={c: k / n for c, k in Counter(p.category for p in seen).items()},
        saves=sum(1 for m in inside if m.name == "Product Added to Wishlist"),
        purchases=len(purchases),
        data_categories=(TASTE_TRAJECTORY, *sorted(used)),
        evidence=tuple(views),
    )


def trajectory(
    history: ClientHistory, *, joined: datetime, products: Mapping[str, Product], sales: SalesTimeline,
    vocabulary: Vocabulary,
) -> list[MonthSummary]:
    """The client's months as of `history.at`, each with its plain-words text."""
    found: list[MonthSummary] = []
    for month in months(joined, history.at, history.zone):
        summary = summarize_month(history, month, products=products, sales=sales, vocabulary=vocabulary)
        previous = found[-1] if found else None
        found.append(_with_text(summary, previous))
    return found


def rising_tags(months_: Sequence[MonthSummary], *, min_rise: float = 0.15) -> list[tuple[str, float, float]]:
    """Aesthetic tags whose share of views rose by `min_rise` or more from the first to the last
    month with views: `(tag, first share, last share)`, biggest rise first."""
    viewed = [m for m in months_ if m.product_views]
    if len(viewed) < 2:
        return []
    first, last = viewed[0], viewed[-1]
    rises = [(t, first.tag_shares.get(t, 0.0), s) for t, s in last.tag_shares.items()]
    return sorted((r for r in rises if r[2] - r[1] >= min_rise), key=lambda r: (r[1] - r[2], r[0]))


# ---------------------------------------------------------------- plain words


def _with_text(summary: MonthSummary, previous: MonthSummary | None) -> MonthSummary:
    from dataclasses import replace

    return replace(summary, text=describe(summary, previous))


def describe(m: MonthSummary, previous: MonthSummary | None) -> str:
    """One paragraph on a month, compared with the month before when there is one."""
    span = f"month {m.month.index} ({_day(m.month.start)} to {_day(m.month.end - timedelta(days=1))})"
    if not m.month.complete:
        span += ", so far"
    parts = [f"In {span} you looked at {m.product_views} piece{'s' if m.product_views != 1 else ''}"]
    if m.median_dwell_seconds is not None:
        parts[0] += f", spending a median {m.median_dwell_seconds:.0f} seconds on each"
        if previous and previous.median_dwell_seconds is not None:
            parts[0] += f" ({previous.median_dwell_seconds:.0f} the month before)"
    sentences = [parts[0] + "."]
    if m.product_views:
        sentences.append(_shares_sentence(m, previous))
    if m.content_visits:
        text = f"You read {m.content_visits} content page{'s' if m.content_visits != 1 else ''} ({_minutes(m)}"
        if previous is not None:
            text += f", against {_minutes(previous)} the month before"
        text += ")"
        if m.impact_visits:
            text += f", including impact reporting {_times(m.impact_visits)}"
        sentences.append(text + ".")
    if m.price_band:
        sentences.append(f"Half of the pieces you viewed were priced between EUR {m.price_band['p25_eur']:,.0f} "
                         f"and EUR {m.price_band['p75_eur']:,.0f}.")
    return " ".join(sentences)


def _shares_sentence(m: MonthSummary, previous: MonthSummary | None) -> str:
    def pct(value: float | None) -> str:
        return percent(value or 0.0)

    def was(attr: str) -> str:
        value = getattr(previous, attr) if previous is not None and previous.product_views else None
        return f" ({pct(value)} before)" if value is not None else ""

    said = [f"{pct(m.top_seller_share)} of your views were on best-sellers of the moment{was('top_seller_share')}"]
    tagged = sorted((t for t, s in m.value_tag_shares.items() if s > 0), key=lambda t: -m.value_tag_shares[t])
    if tagged:
        said.append(f"{pct(m.value_tagged_share)} on pieces tagged {_or(tagged[:3])}{was('value_tagged_share')}")
    lead = _leading_shift(m, previous)
    if lead:
        tag, before, now = lead
        said.append(f"{pct(now)} on {tag} pieces" + (f" ({pct(before)} before)" if previous and previous.product_views
                                                       else ""))
    return "; ".join(said) + "."


def _leading_shift(m: MonthSummary, previous: MonthSummary | None) -> tuple[str, float, float] | None:
    """The aesthetic tag whose share rose most (the largest one in a first month); None if none rose."""
    if not m.tag_shares:
        return None
    before = previous.tag_shares if previous is not None and previous.product_views else {}
    tag = max(sorted(m.tag_shares), key=lambda t: m.tag_shares[t] - before.get(t, 0.0))
    rose = m.tag_shares[tag] > before.get(tag, 0.0)
    return (tag, before.get(tag, 0.0), m.tag_shares[tag]) if rose else None


def _minutes(m: MonthSummary) -> str:
    minutes = round(m.content_seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _band(prices: list[float]) -> dict[str, float] | None:
    if not prices:
        return None
    if len(prices) == 1:
        return {"p25_eur": prices[0], "median_eur": prices[0], "p75_eur": prices[0]}
    q1, q2, q3 = statistics.quantiles(prices, n=4, method="inclusive")
    return {"p25_eur": q1, "median_eur": q2, "p75_eur": q3}


def percent(share: float) -> str:
    """`13%`: a share as a whole percentage, halves rounded up (as people read them)."""
    return f"{int(share * 100 + 0.5)}%"


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _day(local: datetime) -> str:
    return f"{local.day} {local:%b}"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _or(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
