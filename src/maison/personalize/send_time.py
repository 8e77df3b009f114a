"""When the weekly digest goes out: Tuesday, at a local time learned from email opens or the default.

The model, per client and week (pure; the service reads the data):

* **Data.** The local minute of day of the client's `Email Opened` events (any campaign) of the
  last `lookback_days` before Monday 00:00 local of the digest's week. Opens of the current
  week are not used, so the time is fixed before the week starts and cannot depend on the
  digest it schedules.
* **Shrinkage.** The client's opens are pooled with a prior worth `prior_weight` pseudo-opens:
  `default_share` of it at the house default (09:00) and the rest spread over the clientele's
  own open-time histogram (all clients, same window; used only when at least
  `min_clientele_clients` clients contribute, else all of it sits on the default). The pooled
  weighted median is the estimate of when this client opens. With few opens the prior holds
  the median; with a steady habit the client's own opens do. This is the weighted-median form
  of an empirical-Bayes (Dirichlet) posterior over open times.
* **Decision.** A time is learned only when the client has at least `min_opens` opens and the
  pooled median lies within `window_minutes` of the client's own median (else the data are
  too thin or too scattered to trust). The send time is then the pooled median minus
  `lead_minutes` (arrive just before the client usually looks), floored to the quarter hour,
  and clamped into [median - window, median] of the client's own opens, rounded inward to
  the quarter hour, and into waking hours [`earliest`, `latest`]. A habit that lies wholly
  outside waking hours (an early riser, a night owl) gets the waking bound nearest to it,
  which is closer to the habit than the house default (measured by `maison eval sendtime`).
  Otherwise the default holds.

Time zones are IANA zones; instants are built with zoneinfo so `send_at` carries the offset in
force that day (GMT or BST), and a wall time that does not exist on a DST day moves forward.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from maison.core.clock import zone as named_zone

MINUTES_PER_DAY = 24 * 60
SEND_WEEKDAY = 1  # Tuesday (Monday is 0)


@dataclass(frozen=True, slots=True)
class SendTimePolicy:
    """Hyper-parameters of the send-time estimate (see the module docstring)."""

    default: time = time(9, 0)
    step_minutes: int = 15
    lead_minutes: int = 15
    window_minutes: int = 90
    min_opens: int = 3
    prior_weight: float = 2.0
    default_share: float = 0.5
    min_clientele_clients: int = 50
    lookback_days: int = 182
    earliest: time = time(7, 0)
    latest: time = time(21, 45)

    @property
    def default_minute(self) -> int:
        return self.default.hour * 60 + self.default.minute


@dataclass(frozen=True, slots=True)
class Estimate:
    """The local minute of day to send at, and whether the client's opens decided it."""

    minute: int
    learned: bool
    opens: int
    client_median: float | None = None
    pooled_median: float | None = None


@dataclass(frozen=True, slots=True)
class Prior:
    """The pseudo-opens every client's opens are pooled with: the default minute and the clientele's
    histogram, as arrays sorted by minute with their running weight. Built once per histogram: a
    week's job pools thousands of clients with it, and each pooling then needs no sort of it."""

    minutes: NDArray[np.float64]  # ascending, each with a positive weight
    weights: NDArray[np.float64]
    first: NDArray[np.float64]  # first[i]: the weight of minutes[:i]

    @classmethod
    def of(cls, points: Sequence[tuple[float, float]]) -> Prior:
        kept = sorted((m, w) for m, w in points if w > 0)
        weights = np.array([w for _, w in kept], dtype=np.float64)
        return cls(np.array([m for m, _ in kept], dtype=np.float64), weights,
                   np.concatenate(([0.0], np.cumsum(weights))))

    def pooled_median(self, opens: Sequence[float]) -> float:
        """The weighted median of these points and the opens (weight 1 each), as `weighted_median`
        finds it: the smallest value at which the weight at or below it reaches half the total."""
        own = np.sort(np.asarray(opens, dtype=np.float64))
        if not own.size and not self.minutes.size:
            raise ValueError("weighted_median needs at least one point with positive weight")
        half = (self.first[-1] + own.size) / 2 - 1e-9
        at_minutes = self.first[1:] + np.searchsorted(own, self.minutes, side="right")  # weight at or below
        at_opens = self.first[np.searchsorted(self.minutes, own, side="right")] + np.searchsorted(own, own, "right")
        return min(float(values[np.argmax(reached)]) for values, reached in
                   ((self.minutes, at_minutes >= half), (own, at_opens >= half)) if reached.any())


def prior(clientele: Mapping[int, int] | None, policy: SendTimePolicy) -> Prior:
    """`prior_weight` pseudo-opens: `default_share` on the default, the rest spread as the clientele opens."""
    total = sum(clientele.values()) if clientele else 0
    spread = policy.prior_weight * (1 - policy.default_share) if total else 0.0
    points = [(float(policy.default_minute), policy.prior_weight - spread)]
    if clientele and total:
        points.extend((float(m), spread * n / total) for m, n in clientele.items())
    return Prior.of(points)


def estimate(
    opens: Sequence[int], *, clientele: Mapping[int, int] | Prior | None = None,
    policy: SendTimePolicy = SendTimePolicy(),
) -> Estimate:
    """The send minute for a client whose opens fell at `opens` (local minutes of day).

    `clientele`: the clientele's histogram, or the `Prior` built from it once for many clients."""
    default = Estimate(policy.default_minute, False, len(opens))
    if len(opens) < policy.min_opens:
        return default
    own = float(statistics.median(opens))
    pooled_with = clientele if isinstance(clientele, Prior) else prior(clientele, policy)
    pooled = pooled_with.pooled_median(opens)
    if abs(pooled - own) > policy.window_minutes:
        return Estimate(policy.default_minute, False, len(opens), own, pooled)
    step = policy.step_minutes
    low = ceil_to_step(own - policy.window_minutes, step)
    high = floor_to_step(own, step)
    earliest = policy.earliest.hour * 60 + policy.earliest.minute
    latest = policy.latest.hour * 60 + policy.latest.minute
    low, high = max(low, earliest), min(high, latest)
    if low > high:  # the habit is outside waking hours: the waking bound nearest to it, round the clock
        minute = min((earliest, latest), key=lambda bound: _around_the_clock(bound, own))
        return Estimate(minute, True, len(opens), own, pooled)
    minute = min(max(floor_to_step(pooled - policy.lead_minutes, step), low), high)
    return Estimate(minute, True, len(opens), own, pooled)


def _around_the_clock(a: float, b: float) -> float:
    """Minutes between two times of day, the short way round midnight."""
    gap = abs(a - b) % MINUTES_PER_DAY
    return min(gap, MINUTES_PER_DAY - gap)


def weighted_median(points: Iterable[tuple[float, float]]) -> float:
    """The smallest value at which the cumulative weight reaches half the total."""
    pairs = list(points)
    return _weighted_median(np.array([v for v, _ in pairs], dtype=np.float64),
                            np.array([w for _, w in pairs], dtype=np.float64))


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    kept = weights > 0
    values, weights = values[kept], weights[kept]
    if not values.size:
        raise ValueError("weighted_median needs at least one point with positive weight")
    order = np.lexsort((weights, values))  # by value, then weight: the order the running sum takes
    running = np.cumsum(weights[order])
    at = min(int(np.searchsorted(running, running[-1] / 2 - 1e-9, side="left")), values.size - 1)
    return float(values[order][at])


def floor_to_step(minute: float, step: int) -> int:
    return int(minute // step) * step


def ceil_to_step(minute: float, step: int) -> int:
    return -int(-minute // step) * step


def clientele_prior(minutes: Mapping[int, int], clients: int, policy: SendTimePolicy) -> Mapping[int, int] | None:
    """The clientele's histogram, or None when too few clients contribute to be anonymous."""
    return minutes if clients >= policy.min_clientele_clients and minutes else None


# ---------------------------------------------------------------- calendar and zones


def week_monday(iso_week: str) -> date:
    """The Monday of an ISO week written `2026-W06`; ValueError names the expected form."""
    try:
        year, week = iso_week.strip().upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValueError(f"{iso_week!r} is not an ISO week; write it like 2026-W06") from None


def iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def send_day(monday: date) -> date:
    return monday + timedelta(days=SEND_WEEKDAY)


@lru_cache(maxsize=8192)  # a week's job asks about the same few days, minutes and zones for every client
def local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """`day` at `minute` local time, with the offset in force then.

    A wall time skipped by a DST change (01:30 on the spring-forward day in London) is moved
    forward by the gap, as a clock that was not changed would show it.
    """
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone)


def local_minutes(instants: Iterable[datetime], zone: ZoneInfo) -> list[int]:
    """Local minute of day of each instant."""
    return [(t := i.astimezone(zone)).hour * 60 + t.minute for i in instants]


def zone_for_day(stated_before: Callable[[datetime], str | None], day: date, default: ZoneInfo) -> ZoneInfo:
    """The zone a profile states at the start of `day` in that very zone.

    `stated_before(t)` gives the latest zone name stated before the instant `t` (or None). A
    fixed point: start from the default, look up what was stated before midnight there, and
    repeat with that zone. When a zone was stated between two midnights (after midnight in
    Tokyo, before midnight in London) the search cycles; then the zone stated last wins.
    """
    visited = [default]
    while True:
        found = named_zone(stated_before(local_instant(day, 0, visited[-1]))) or default
        if found.key == visited[-1].key:
            return found
        if any(found.key == v.key for v in visited):
            latest = max(local_instant(day, 0, v) for v in visited)
            return named_zone(stated_before(latest)) or default
        visited.append(found)


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
