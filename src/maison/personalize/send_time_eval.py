"""The send-time evaluation: Maison's learned time against a fixed hour and a per-client histogram.

Offline evaluation only; nothing here runs in the product. The protocol, for one cutoff:

* **Learn** from each client's `Email Opened` events of the `lookback_days` before the cutoff,
  exactly as the product does for a week starting at the cutoff: the same `estimate`, the same
  `clientele_prior` over every client's opens of that window, the same `SendTimePolicy`.
* **Baselines.** The fixed hour (the policy's default, 09:00) and the per-client histogram (the
  start of the client's modal open hour, no shrinkage; ties go to the earliest hour).
* **Score** on the opens *after* the cutoff, the hidden truth no method saw: the circular
  distance in minutes between the send time and each later open's local time of day, and the
  share of later opens that fall in the `within_minutes` after the send time (an email that
  lands just before someone usually looks is the point of choosing a time).
* Clients with at least `policy.min_opens` opens before the cutoff and one after are scored;
  those with at most `thin_max` opens before are reported apart, since thin data is where
  shrinkage toward the clientele should matter.

Local times are minutes of day (0..1439) computed by the caller with `send_time.local_minutes`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from maison.personalize.send_time import MINUTES_PER_DAY, SendTimePolicy, clientele_prior, estimate

METHODS = ("maison", "fixed_hour", "histogram")
LABELS = {"maison": "Maison (shrunk median)", "fixed_hour": "Fixed hour", "histogram": "Per-client histogram"}


def split_at(
    opens: Mapping[str, Sequence[tuple[datetime, int]]], *, cutoff: datetime, lookback_days: int
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Local minutes of each client's opens in the lookback window before `cutoff`, and at or after it.

    `opens` maps a client to (instant, local minute of day) pairs.
    """
    since = cutoff - timedelta(days=lookback_days)
    before: dict[str, list[int]] = {}
    after: dict[str, list[int]] = {}
    for client, pairs in opens.items():
        early = [m for t, m in sorted(pairs) if since <= t < cutoff]
        late = [m for t, m in sorted(pairs) if t >= cutoff]
        if early:
            before[client] = early
        if late:
            after[client] = late
    return before, after


def histogram_minute(opens: Sequence[int], *, default: int) -> int:
    """Start of the hour in which the client opened most often (earliest on a tie); `default` if none."""
    if not opens:
        return default
    counts = Counter(m // 60 for m in opens)
    top = max(counts.values())
    return min(h for h, n in counts.items() if n == top) * 60


def send_minutes(
    before: Mapping[str, Sequence[int]], clients: Sequence[str], *, policy: SendTimePolicy = SendTimePolicy()
) -> dict[str, dict[str, int]]:
    """The send minute of each method for each of `clients`, from the opens in `before` only.

    The clientele prior pools every client's opens of the window, as `aggregates.email_open_times`
    does for the product.
    """
    pooled = Counter(m for minutes in before.values() for m in minutes)
    prior = clientele_prior(dict(pooled), sum(1 for m in before.values() if m), policy)
    return {
        "maison": {c: estimate(before.get(c, []), clientele=prior, policy=policy).minute for c in clients},
        "fixed_hour": {c: policy.default_minute for c in clients},
        "histogram": {c: histogram_minute(before.get(c, []), default=policy.default_minute) for c in clients},
    }


def circular_distance(a: int, b: int) -> int:
    """Minutes between two times of day, the short way round the clock."""
    d = abs(a - b) % MINUTES_PER_DAY
    return min(d, MINUTES_PER_DAY - d)


def lands_before(send: int, open_minute: int, *, within_minutes: int) -> bool:
    """Whether the open falls in the `within_minutes` after the send time (wrapping past midnight)."""
    return (open_minute - send) % MINUTES_PER_DAY <= within_minutes


def score(
    sends: Mapping[str, int], after: Mapping[str, Sequence[int]], *, within_minutes: int
) -> dict[str, float | int | None]:
    """Distance and hit-rate figures of one method over the later opens of the clients in `sends`."""
    distances = [circular_distance(s, m) for c, s in sends.items() for m in after.get(c, [])]
    hits = [lands_before(s, m, within_minutes=within_minutes) for c, s in sends.items() for m in after.get(c, [])]
    per_client = [
        statistics.fmean(lands_before(s, m, within_minutes=within_minutes) for m in after[c])
        for c, s in sends.items()
        if after.get(c)
    ]
    if not distances:
        return {"clients": len(sends), "opens": 0, "mean_minutes": None, "median_minutes": None,
                "share_within": None, "client_share_within": None}
    return {
        "clients": len(sends),
        "opens": len(distances),
        "mean_minutes": round(statistics.fmean(distances), 1),
        "median_minutes": float(statistics.median(distances)),
        "share_within": round(sum(hits) / len(hits), 4),
        "client_share_within": round(statistics.fmean(per_client), 4),
    }


def evaluate(
    before: Mapping[str, Sequence[int]],
    after: Mapping[str, Sequence[int]],
    *,
    policy: SendTimePolicy = SendTimePolicy(),
    thin_max: int = 4,
    within_minutes: int = 180,
) -> dict[str, Any]:
    """The three methods scored on all eligible clients, on thin-data clients and on the others."""
    eligible = sorted(c for c, m in before.items() if len(m) >= policy.min_opens and after.get(c))
    sends = send_minutes(before, eligible, policy=policy)
    groups = {
        "all": eligible,
        "thin": [c for c in eligible if len(before[c]) <= thin_max],
        "rich": [c for c in eligible if len(before[c]) > thin_max],
    }
    learned = sum(1 for c in eligible if sends["maison"][c] != policy.default_minute)
    return {
        "policy": {"default": policy.default.isoformat("minutes"), "min_opens": policy.min_opens,
                   "prior_weight": policy.prior_weight, "lead_minutes": policy.lead_minutes,
                   "lookback_days": policy.lookback_days},
        "within_minutes": within_minutes,
        "thin_max_opens": thin_max,
        "clients_with_opens_before": len(before),
        "eligible_clients": len(eligible),
        "maison_moved_from_default": learned,
        "groups": {
            name: {method: score({c: sends[method][c] for c in ids}, after, within_minutes=within_minutes)
                   for method in METHODS}
            for name, ids in groups.items()
        },
    }
