"""`Segmenter`: k-means on standardised, block-weighted behaviour features, k chosen by silhouette.

Why k-means on segments rather than each client's k nearest neighbours: one fitted model serves
the segment report, every client's cohort and every page, and assigning a client is a distance
to k centres (microseconds) instead of a search over every client; a segment is a stable group
of known, bounded-below size that can be described in words once, so what a client is told
("clients who browse like you") is the same group the report describes; and an aggregate over
a segment never rests on a handful of people. A Gaussian mixture with full covariances would
need far more clients per segment than a maison has in a small cluster; k-means on standardised
features is its equal-variance limit and behaved as well on the scenario population.

Features are z-scored, then each block (data category) is scaled by 1/sqrt(its width) so that a
wide block (one column per catalogue tag) does not outvote a narrow one (four parts of day).
Values a client's consent did not let us read are missing: they are set to the mean (z = 0)
when fitting, and left out of the distance when assigning, so a client is placed by the
purposes that may be used and by nothing else.

Placing a client whose behaviour is thin (cold start). A block's values are shares estimated
from the client's own events in it: from one content visit, "100 % sourcing pages"; from forty,
a taste. So `predict` takes a per-column weight, the block's reliability n / (n + m) for the
client's n (recency-weighted) events in it (`reliability`): the nearest centre is then the most
likely segment when a member's true values spread around their centre with variance s2 and
the client's observed share adds noise of variance v / n (the observed block then lies at
squared distance d from the centre with variance s2 + v / n, so d / (s2 + v / n) is proportional
to d * n / (n + m) with m = v / s2). A block without events weighs 0: the usual partial distance
for an incomplete vector. A block with many events weighs close to 1, so a client with plenty of
data is placed as before; the fitted segments do not change, only how a new vector is placed.

A client's value beyond every fitted client's (six opens in six days where members open three
times in fifty) is clipped, column by column, to the fitted range before the distance: the
squared distance of an outlier magnifies whatever small difference the centres have in that
one column, so the column would decide alone, on noise. The segments see no clipping.

Declared interests (`add_block`). What a cold-start client has for sure is what they told us
they like. A block the segments were not fitted on gets, per segment, its members' mean as
centre (standardised and width-scaled like the fitted blocks), so it pulls a client towards the
segment whose members declared alike without moving any segment. It enters the distance with
the weight of `DECLARED_EVENTS` pseudo-events through `reliability`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from maison.models.exceptions import ModelInputError, NotFittedError

# m: how many events a block's shares need before their noise equals members' spread around a
# centre. 1 on the scenario's pool: placing its 2,698 members by the weighted rule gives back
# their fitted segment for 97.8 % under the January model, k = 4 (unweighted: 97.4 %; m = 3:
# 97.0 %; m = 10: 95.3 %). Under the February model (k = 9, overlapping segments) the same
# check gives 88.4 %: the rate is a model's, not the rule's. (Measured before the email block had
# its open rate; with it the three models give 66.2, 94.4 and 96.4 %: models/segments/README.md.)
PRIOR_EVENTS = 1.0

# A declaration weighs as much as this many events of a behaviour block (reliability 1 / (1 + 1)
# = 0.5 with PRIOR_EVENTS = 1). Measured on the scenario population, each client placed from
# their first 14 days of behaviour and again from all of it to 31 March under one model: the
# early placement agreed with the late one for 76.0 -> 80.3 % of the 183 new clients (January
# model, k = 4) and 60.7 -> 65.6 % (February, k = 9); members placed back in their fitted
# segment 97.8 -> 97.7 % and 88.4 -> 87.8 %. Two pseudo-events buy a little more cold-start
# agreement (81.4 %, 68.3 %) at the price of members given back less often (97.3 %, 87.4 %) and
# more rich-behaviour placements moved (94 of 2,833 clients instead of 75, January). Of 0.25,
# 0.5, 1, 2 and 4, 1 is the largest that keeps the placed-back check within 0.6 points of the
# behaviour-only placement under both models. (Measured before the open rate, as above.)
DECLARED_EVENTS = 1.0


class Segmenter:
    """k-means with k in `k_range` picked by the silhouette on a seeded sample.

    Learned state: `mean_`, `scale_`, `weights_`, `low_`, `high_` (per column; the last two the
    range of the fitted clients' z-scores, to which `predict` clips a client's), `centers_` (weighted z space),
    `profiles_` (mean z-score of each feature per segment, unweighted, for descriptions),
    `labels_`, `sizes_`, `k_`, `silhouette_`; after `add_block`, `added_` (the blocks appended,
    whose columns follow the fitted ones in `mean_`, `scale_`, `weights_`, `low_`, `high_` and
    `centers_` only).
    """

    def __init__(self, *, k_range: tuple[int, int] = (4, 10), min_size: int = 20, n_init: int = 3,
                 sample: int = 1500, random_state: int = 0) -> None:
        self.k_range = k_range
        self.min_size = min_size
        self.n_init = n_init
        self.sample = sample
        self.random_state = random_state

    def fit(self, x: np.ndarray, available: np.ndarray, blocks: Sequence[str]) -> Segmenter:
        """`x`: clients x features; `available`: same shape, False where consent withheld the value;
        `blocks`: the block (data category) of each column."""
        x, available = np.asarray(x, dtype=float), np.asarray(available, dtype=bool)
        if x.ndim != 2 or x.shape != available.shape or x.shape[1] != len(blocks):
            raise ModelInputError("x, available and blocks must describe the same clients and features")
        low, high = self.k_range
        if not 2 <= low <= high:
            raise ModelInputError(f"k_range must be 2 <= low <= high, got {self.k_range}")
        if x.shape[0] < max(high, 2) * 2:
            raise ModelInputError(f"need at least {2 * high} clients to segment, got {x.shape[0]}")
        self.mean_, self.scale_ = _moments(x, available)
        widths = {b: sum(1 for c in blocks if c == b) for b in set(blocks)}
        self.weights_ = np.array([1.0 / np.sqrt(widths[b]) for b in blocks])
        z = self._z(x, available)
        self.low_, self.high_ = _range(z, available)
        zw = z * self.weights_
        rng = np.random.default_rng(self.random_state)
        rows = rng.choice(len(zw), size=min(self.sample, len(zw)), replace=False)
        best: tuple[float, int, KMeans] | None = None
        for k in range(low, high + 1):
            # One thread: a few thousand rows gain nothing from OpenMP, and on a busy 2-core host
            # oversubscribed threads made Lloyd's iterations 50x slower. Scoped, not global.
            with threadpool_limits(limits=1):
                fitted = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state).fit(zw)
            sizes = np.bincount(fitted.labels_, minlength=k)
            if sizes.min() < self.min_size:
                continue  # a segment too small to describe or to aggregate over
            score = float(silhouette_score(zw[rows], fitted.labels_[rows]))
            if best is None or score > best[0]:
                best = (score, k, fitted)
        if best is None:
            raise ModelInputError(f"no k in {self.k_range} gives segments of at least {self.min_size} clients")
        self.silhouette_, self.k_, fitted = best
        self.centers_ = fitted.cluster_centers_
        self.labels_ = fitted.labels_.astype(int)
        self.sizes_ = np.bincount(self.labels_, minlength=self.k_)
        self.profiles_ = np.vstack([z[self.labels_ == s].mean(axis=0) for s in range(self.k_)])
        self.added_: tuple[str, ...] = ()
        return self

    def add_block(self, x: np.ndarray, available: np.ndarray, block: str) -> Segmenter:
        """Append a block the segments were not fitted on: `x` holds its columns for the fitted
        clients, in the rows' order of `fit`, `available` False where a client's value is missing
        (left out of the block's moments and of their segment's mean). Each segment's centre for it
        is its members' mean; `labels_`, `sizes_`, `profiles_` and the fitted columns' centres stay
        as they were. `predict` then takes the fitted columns followed by these."""
        if not hasattr(self, "centers_"):
            raise NotFittedError("Segmenter is not fitted; call fit first")
        x, available = np.asarray(x, dtype=float), np.asarray(available, dtype=bool)
        if x.ndim != 2 or x.shape != available.shape or x.shape[0] != len(self.labels_):
            raise ModelInputError("x and available must have one row per fitted client, in the fit's order")
        mean, scale = _moments(x, available)
        unscaled = np.where(available, (x - mean) / scale, 0.0)
        low, high = _range(unscaled, available)
        z = unscaled * (1.0 / np.sqrt(x.shape[1]))
        centres = np.zeros((self.k_, x.shape[1]))
        for s in range(self.k_):
            mine, seen = z[self.labels_ == s], available[self.labels_ == s]
            centres[s] = mine.sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
        self.mean_ = np.concatenate([self.mean_, mean])
        self.scale_ = np.concatenate([self.scale_, scale])
        self.low_, self.high_ = np.concatenate([self.low_, low]), np.concatenate([self.high_, high])
        self.weights_ = np.concatenate([self.weights_, np.full(x.shape[1], 1.0 / np.sqrt(x.shape[1]))])
        self.centers_ = np.hstack([self.centers_, centres])
        self.added_ = (*self.added_, block)
        return self

    def predict(self, x: np.ndarray, available: np.ndarray, *, reliability: np.ndarray | None = None) -> np.ndarray:
        """Nearest centre by the available columns only, each weighted by `reliability` (same shape as
        `x`, in [0, 1]; 1 when not given). A client with no available, reliable column gets -1."""
        if not hasattr(self, "centers_"):
            raise NotFittedError("Segmenter is not fitted; call fit first")
        x, available = np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(available, dtype=bool))
        weight = available * (1.0 if reliability is None else np.atleast_2d(np.asarray(reliability, dtype=float)))
        if weight.shape != x.shape or x.shape[1] != self.centers_.shape[1] or np.any(weight < 0):
            raise ModelInputError("x, available and reliability must have one non-negative value per feature")
        # A value beyond every fitted client's says no more than the most extreme of them: unclipped,
        # its squared distance magnifies small differences between centres in that one column
        # (six opens in six days against members' three in fifty would outvote when they opened).
        zw = np.clip(self._z(x, available), self.low_, self.high_) * self.weights_
        out = np.full(len(zw), -1)
        for i, (row, w) in enumerate(zip(zw, weight, strict=True)):
            if (w > 0).any():
                out[i] = int(np.argmin((w * (self.centers_ - row) ** 2).sum(axis=1)))
        return out

    def _z(self, x: np.ndarray, available: np.ndarray) -> np.ndarray:
        z = (x - self.mean_) / self.scale_
        return np.where(available, z, 0.0)


def _moments(x: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation over the clients whose value is available."""
    counts = available.sum(axis=0)
    safe = np.maximum(counts, 1)
    mean = np.where(available, x, 0.0).sum(axis=0) / safe
    var = np.where(available, (x - mean) ** 2, 0.0).sum(axis=0) / safe
    scale = np.sqrt(var)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def _range(z: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the lowest and highest z-score among the clients whose value is available (0 without any)."""
    seen = available.any(axis=0)
    low = np.where(available, z, np.inf).min(axis=0)
    high = np.where(available, z, -np.inf).max(axis=0)
    return np.where(seen, low, 0.0), np.where(seen, high, 0.0)


def reliability(evidence: Mapping[str, float], blocks: Sequence[str], *,
                prior_events: float = PRIOR_EVENTS) -> np.ndarray:
    """Per column, n / (n + `prior_events`) for the n events its block rests on (0 without any).

    Why this curve: see the module docstring; it is the weight a block's squared distance gets
    when its observed shares carry noise that shrinks as 1 / n."""
    if prior_events <= 0:
        raise ModelInputError(f"prior_events must be > 0, got {prior_events}")
    n = np.array([max(float(evidence.get(b, 0.0)), 0.0) for b in blocks])
    return n / (n + prior_events)
