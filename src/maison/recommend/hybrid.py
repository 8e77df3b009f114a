"""The hybrid ranker: candidates from the collaborative, content and popularity models, ordered
by a LightGBM LambdaRank model over their scores and the client's own signals.

Why learned, and why LambdaRank: the right mix of "people like you bought it", "it resembles
what you like", "everyone buys it" and "you buy it again" differs by shop (a grocer lives on
repurchase, a maison on discovery) and by client (a heavy buyer's own history says more than a
newcomer's). A fixed blend tuned by hand would be tuned to one shop; a ranker trained on a time
split of the shop's own data learns it, optimising NDCG directly, with interactions between
signals (recency x own purchases) a linear blend cannot express. Training is a time split only:
base models are fitted on events before `at - horizon`, the labels are purchases in
`[at - horizon, at)`, and the base models are then refitted on everything before `at`.

`exclude_seen=True` trains and serves for discovery (items the client never bought); the
offline evaluation trains one ranker per variant. Cold start: a client with no history gets
zero personal features, which the ranker orders by popularity; a new item has no
collaborative score but a content score, so it can still be a candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import sparse

from maison.recommend.collaborative import ItemItem
from maison.recommend.content import ContentSimilarity
from maison.recommend.log import ENGAGEMENT_WEIGHTS, EventLog, Kind

FEATURES = (
    "cf_engagement", "cf_purchase", "content", "popularity", "popularity_recent", "own_purchases",
    "own_engagement", "days_since_purchase", "days_since_engagement", "category_affinity", "repurchase_rate",
    "activity", "item_age",
)
FALLBACK_WEIGHTS = (1.0, 0.5, 0.5, 0.3, 0.3, 0.0, 0.2, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0)
"""A fixed blend used only while a shop has too few purchases to learn from (`min_training_users`)."""
NEVER = 9999.0  # "days since" when it never happened
_BATCH = 256


def _gather(m: sparse.csr_matrix, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    if rows.size == 0:
        return np.empty(0)
    if m.shape[0] == 1 and not rows.any():  # one client (serving): a dense row beats sparse fancy indexing
        return np.asarray(m.toarray()[0][cols], dtype=np.float64)
    return np.asarray(m[rows, cols], dtype=np.float64).ravel()


def _rows(m: sparse.csr_matrix, users: npt.NDArray[np.int64]) -> sparse.csr_matrix:
    """`m[users]`, without the copy when `users` are all of m's rows in order (serving one client)."""
    if users.size == m.shape[0] and np.array_equal(users, np.arange(users.size)):
        return m
    return m[users]


def _top_of_row(m: sparse.csr_matrix, r: int, k: int) -> npt.NDArray[np.int64]:
    lo, hi = m.indptr[r], m.indptr[r + 1]
    if hi == lo or k <= 0:
        return np.empty(0, np.int64)
    data, idx = m.data[lo:hi], m.indices[lo:hi]
    if data.size > k:
        keep = np.argpartition(-data, k - 1)[:k]
        idx = idx[keep]
    return np.asarray(idx, dtype=np.int64)


@dataclass
class Base:
    """The base models and per-user/per-item signals, all as of one instant `at`."""

    at: float
    engagement: sparse.csr_matrix
    purchases: sparse.csr_matrix
    last_purchase: sparse.csr_matrix
    last_engagement: sparse.csr_matrix
    cf: ItemItem
    cf_purchase: ItemItem
    content: ContentSimilarity | None
    popularity: npt.NDArray[np.float64]
    popularity_recent: npt.NDArray[np.float64]
    repurchase_rate: npt.NDArray[np.float64]
    first_seen: npt.NDArray[np.float64]
    category: npt.NDArray[np.int64]
    category_share: sparse.csr_matrix
    popular_order: npt.NDArray[np.int64]
    category_onehot: sparse.csr_matrix

    @classmethod
    def fit(cls, log: EventLog, *, at: float, recent: float, neighbors: int, shrink: float,
            content: ContentSimilarity | None, category: npt.NDArray[np.int64]) -> Base:
        known = log.before(at)
        bought = known.of_kind(Kind.PURCHASE)
        engagement = known.matrix(ENGAGEMENT_WEIGHTS)
        purchases = bought.matrix()
        buyers = np.asarray((purchases > 0).sum(axis=0)).ravel().astype(np.float64)
        repeat = np.asarray((purchases > 1).sum(axis=0)).ravel().astype(np.float64)
        recent_buyers = np.asarray((bought.between(at - recent, at).matrix() > 0).sum(axis=0)).ravel()
        first = np.full(log.n_items, np.inf)
        np.minimum.at(first, known.item, known.day)
        n_cat = int(category.max()) + 1 if category.size else 1
        onehot = sparse.csr_matrix((np.ones(log.n_items, np.float32), (np.arange(log.n_items), category)),
                                   shape=(log.n_items, n_cat))
        by_cat = sparse.csr_matrix(engagement @ onehot)
        totals = np.asarray(by_cat.sum(axis=1)).ravel()
        share = sparse.csr_matrix(sparse.diags(1.0 / np.maximum(totals, 1e-9)) @ by_cat)
        cf = ItemItem(neighbors=neighbors, shrink=shrink).fit(engagement)
        only_purchases = bool(len(known)) and bool((known.kind == int(Kind.PURCHASE)).all())  # same matrix twice
        return cls(
            at=at, engagement=engagement, purchases=purchases, last_purchase=bought.last_day(),
            last_engagement=known.last_day(),
            cf=cf, cf_purchase=cf if only_purchases else ItemItem(neighbors=neighbors, shrink=shrink).fit(purchases),
            content=content, popularity=np.log1p(buyers), popularity_recent=np.log1p(recent_buyers.astype(np.float64)),
            repurchase_rate=(repeat + 0.1) / (buyers + 1.0), first_seen=first, category=category,
            category_share=share, popular_order=np.argsort(-buyers, kind="stable"), category_onehot=onehot,
        )

    def with_history(self, history: EventLog) -> Base:
        """The same models and item signals, with the users of `history` (serving: one client's events now)."""
        engagement = history.matrix(ENGAGEMENT_WEIGHTS)
        by_cat = sparse.csr_matrix(engagement @ self.category_onehot)
        totals = np.asarray(by_cat.sum(axis=1)).ravel()
        bought = history.of_kind(Kind.PURCHASE)
        return replace(self, engagement=engagement, purchases=bought.matrix(), last_purchase=bought.last_day(),
                       last_engagement=history.last_day(),
                       category_share=sparse.csr_matrix(sparse.diags(1.0 / np.maximum(totals, 1e-9)) @ by_cat))

    def frame(self, users: npt.NDArray[np.int64], *, candidates: int, exclude_seen: bool,
              extra: sparse.csr_matrix | None = None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                             npt.NDArray[np.float64]]:
        """Candidate (user, item) pairs of `users` and their feature rows (len x len(FEATURES)).

        `extra` (users x items, aligned with `users`) forces items in as candidates (a served
        product page's neighbours, for instance).
        """
        eng, pur = _rows(self.engagement, users), _rows(self.purchases, users)  # read only below
        cf = self.cf.score(eng)
        cfp = self.cf_purchase.score(pur)
        ct = self.content.score(eng) if self.content is not None else sparse.csr_matrix(eng.shape)
        half = max(1, candidates // 2)
        popular = self.popular_order[:half]
        rows, cols = [], []
        for r in range(len(users)):
            pool = np.unique(np.concatenate([
                _top_of_row(cf, r, candidates), _top_of_row(cfp, r, half), _top_of_row(ct, r, half), popular,
                _top_of_row(eng, r, candidates),
                _top_of_row(extra, r, candidates) if extra is not None else np.empty(0, np.int64),
            ]))
            if exclude_seen:
                pool = np.setdiff1d(pool, pur.indices[pur.indptr[r]:pur.indptr[r + 1]], assume_unique=True)
            rows.append(np.full(pool.size, r, np.int64))
            cols.append(pool.astype(np.int64))
        local = np.concatenate(rows) if rows else np.empty(0, np.int64)
        items = np.concatenate(cols) if cols else np.empty(0, np.int64)
        glob = users[local]
        last_p = _gather(self.last_purchase, glob, items)
        last_e = _gather(self.last_engagement, glob, items)
        activity = np.log1p(np.asarray(pur.sum(axis=1)).ravel())[local]
        first = self.first_seen[items]
        x = np.column_stack([
            _gather(cf, local, items), _gather(cfp, local, items), _gather(ct, local, items),
            self.popularity[items], self.popularity_recent[items],
            np.log1p(_gather(pur, local, items)), np.log1p(_gather(eng, local, items)),
            np.where(last_p > 0, self.at - (last_p - 1.0), NEVER),
            np.where(last_e > 0, self.at - (last_e - 1.0), NEVER),
            _gather(self.category_share, glob, self.category[items]), self.repurchase_rate[items], activity,
            np.where(np.isfinite(first), self.at - first, -1.0),
        ])
        return glob, items, x


class HybridRanker:
    """LambdaRank over collaborative, content, popularity and own-history signals (see module doc)."""

    def __init__(self, *, candidates: int = 100, horizon: float = 28.0, recent: float = 28.0,
                 exclude_seen: bool = False,
                 neighbors: int = 100, shrink: float = 5.0, content_neighbors: int = 50, n_estimators: int = 150,
                 learning_rate: float = 0.05, num_leaves: int = 31, min_child_samples: int = 50, seed: int = 0,
                 threads: int = 1, min_training_users: int = 30) -> None:
        self.candidates = candidates
        self.horizon = horizon
        self.recent = recent
        self.exclude_seen = exclude_seen
        self.neighbors = neighbors
        self.shrink = shrink
        self.content_neighbors = content_neighbors
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed
        self.threads = threads
        self.min_training_users = min_training_users

    def fit(self, log: EventLog, *, at: float, item_features: sparse.spmatrix | None = None,
            item_categories: Sequence[str | None] | None = None) -> HybridRanker:
        """Train the ranker on the split `[at - horizon, at)` and refit the base models as of `at`."""
        import lightgbm as lgb

        if self.horizon <= 0:
            raise ValueError("horizon must be a positive number of days")
        content = (ContentSimilarity(neighbors=self.content_neighbors).fit(item_features)
                   if item_features is not None else None)
        names = list(item_categories) if item_categories is not None else [None] * log.n_items
        index = {c: i for i, c in enumerate(sorted({str(c) for c in names}))}
        category = np.array([index[str(c)] for c in names], np.int64)
        start = at - self.horizon
        base = self._base(log, at=start, content=content, category=category)
        labels = log.between(start, at).of_kind(Kind.PURCHASE).matrix()
        if self.exclude_seen:
            labels = labels - labels.multiply(base.purchases > 0)
            labels.eliminate_zeros()
        users = np.flatnonzero(np.diff(labels.indptr)).astype(np.int64)
        xs, ys, groups = [], [], []
        for s in range(0, users.size, _BATCH):
            batch = users[s : s + _BATCH]
            glob, items, x = base.frame(batch, candidates=self.candidates, exclude_seen=self.exclude_seen)
            xs.append(x)
            ys.append((_gather(labels, glob, items) > 0).astype(np.int32))
            groups.append(np.bincount(np.searchsorted(batch, glob), minlength=len(batch)))
        x_all = np.vstack(xs) if xs else np.empty((0, len(FEATURES)))
        y_all = np.concatenate(ys) if ys else np.empty(0, np.int32)
        group = np.concatenate(groups) if groups else np.empty(0, np.int64)
        keep_rows, keep_groups = self._groups_with_positives(y_all, group)
        self.training_users_ = int(keep_groups.size)
        self.base_ = self._base(log, at=at, content=content, category=category)
        self.at_ = at
        if self.training_users_ < self.min_training_users:
            self.ranker_ = None  # too little to learn from: the documented fixed blend
            return self
        self.ranker_ = lgb.LGBMRanker(
            objective="lambdarank", n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples, random_state=self.seed,
            deterministic=True, force_row_wise=True, num_threads=self.threads, verbose=-1,
            lambdarank_truncation_level=20, label_gain=[0.0, 1.0],
        )
        self.ranker_.fit(x_all[keep_rows], y_all[keep_rows], group=keep_groups, feature_name=list(FEATURES))
        return self

    def _base(self, log: EventLog, *, at: float, content: ContentSimilarity | None,
              category: npt.NDArray[np.int64]) -> Base:
        return Base.fit(log, at=at, recent=self.recent, neighbors=self.neighbors, shrink=self.shrink, content=content,
                        category=category)

    @staticmethod
    def _groups_with_positives(y: npt.NDArray[np.int32], group: npt.NDArray[np.int64]
                               ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
        ends = np.cumsum(group)
        positives = np.add.reduceat(y, ends - group) if group.size else np.empty(0)
        good = (group > 0) & (positives > 0)
        return np.repeat(good, group), group[good]

    def rank(self, users: npt.NDArray[np.int64], *, extra: sparse.csr_matrix | None = None,
             history: EventLog | None = None,
             ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Scored candidates: (user, item, score, features) rows, for explanation and serving.

        With `history`, the users are rows of that log (a client as they are now, known to the
        model or not) instead of the training users.
        """
        base = self.base_ if history is None else self.base_.with_history(history)
        glob, items, x = base.frame(np.asarray(users, np.int64), candidates=self.candidates,
                                    exclude_seen=self.exclude_seen, extra=extra)
        return glob, items, self.score(x), x

    def score(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The ranker's score of feature rows (the fixed blend while the shop is too small to learn)."""
        if not len(x):
            return np.empty(0)
        if self.ranker_ is None:
            z = x.copy()
            z[:, [FEATURES.index("days_since_purchase"), FEATURES.index("days_since_engagement")]] = 0.0
            return np.asarray(z @ np.array(FALLBACK_WEIGHTS), np.float64)
        return np.asarray(self.ranker_.booster_.predict(x, num_threads=self.threads), np.float64)

    def recommend(self, users: npt.NDArray[np.int64], k: int, *, history: EventLog | None = None
                  ) -> npt.NDArray[np.int64]:
        """Users x k item indices, best first (-1 where there are fewer candidates).

        Users index the training users, or the users of `history` when given.
        """
        users = np.asarray(users, np.int64)
        base = self.base_ if history is None else self.base_.with_history(history)
        out = np.full((users.size, k), -1, np.int64)
        for s in range(0, users.size, _BATCH):
            batch = users[s : s + _BATCH]
            glob, items, x = base.frame(batch, candidates=self.candidates, exclude_seen=self.exclude_seen)
            score = self.score(x)
            pos = np.searchsorted(batch, glob) if np.all(np.diff(batch) > 0) else _positions(batch, glob)
            order = np.lexsort((items, -score, pos))
            pos, items = pos[order], items[order]
            starts = np.searchsorted(pos, np.arange(batch.size))
            ends = np.searchsorted(pos, np.arange(batch.size), side="right")
            for r in range(batch.size):
                chosen = items[starts[r] : min(ends[r], starts[r] + k)]
                out[s + r, : chosen.size] = chosen
        return out

    def forget_users(self) -> HybridRanker:
        """Drop the training clients' interaction rows, keeping item-level signals only.

        A served model then holds no client's data; clients are scored from `history` (their
        events read at request time).
        """
        empty = EventLog((), _items(self.base_), *_no_events())
        self.base_ = self.base_.with_history(empty)
        return self

    def importances(self) -> dict[str, float]:
        """Share of total gain per feature (what the ranker learned to rely on)."""
        if self.ranker_ is None:
            return {}
        gain = self.ranker_.booster_.feature_importance(importance_type="gain")
        total = float(gain.sum()) or 1.0
        return {name: round(float(g) / total, 4) for name, g in zip(FEATURES, gain, strict=True)}


def _items(base: Base) -> tuple[str, ...]:
    return tuple(str(i) for i in range(base.category.size))


def _no_events() -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int8],
                          npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    return (np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.int8), np.empty(0, np.float64),
            np.empty(0, np.float32))


def _positions(batch: npt.NDArray[np.int64], glob: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    where = {int(u): i for i, u in enumerate(batch)}
    return np.fromiter((where[int(u)] for u in glob), np.int64, glob.size)
