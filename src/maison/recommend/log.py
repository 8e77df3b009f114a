"""Interactions as columnar arrays: who did what to which item, when. Pure, no I/O.

One `EventLog` feeds every model (collaborative, content profiles, popularity, repurchase,
the hybrid ranker and the baselines), whether it was built from the store's events read
through the consent gateway, from a population file or from a public data set. Time is a
float number of days since an arbitrary origin, so windows are plain comparisons and a log
"as of t" (`before(t)`) is how no look-ahead is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from scipy import sparse


class Kind(IntEnum):
    """What a client did to an item, weakest signal first."""

    VIEW = 0
    SAVE = 1  # wishlist
    CART = 2
    PURCHASE = 3


ENGAGEMENT_WEIGHTS: Mapping[Kind, float] = {Kind.VIEW: 1.0, Kind.SAVE: 3.0, Kind.CART: 3.0, Kind.PURCHASE: 5.0}
"""Implicit confidence of each kind in the engagement matrix (co-views and co-purchases together)."""


@dataclass(frozen=True)
class EventLog:
    """Events over fixed user and item index spaces (`users[i]`, `items[j]` are their ids)."""

    users: tuple[str, ...]
    items: tuple[str, ...]
    user: npt.NDArray[np.int32]
    item: npt.NDArray[np.int32]
    kind: npt.NDArray[np.int8]
    day: npt.NDArray[np.float64]
    quantity: npt.NDArray[np.float32]

    @classmethod
    def build(
        cls, rows: Sequence[tuple[str, str, Kind, float, float]], *, users: Sequence[str] | None = None,
        items: Sequence[str] | None = None, item_index: Mapping[str, int] | None = None,
    ) -> EventLog:
        """From `(user_id, item_id, kind, day, quantity)` rows; unknown ids are added to the index.

        `item_index` is the position of each of `items` when the caller holds it already (a
        served model scoring one client's events), so that the catalogue is not indexed again
        for each log; every row must then name one of `items` (the index is not extended).
        """
        user_ids = list(users) if users is not None else sorted({r[0] for r in rows})
        item_ids = list(items) if items is not None else sorted({r[1] for r in rows})
        uix = {u: i for i, u in enumerate(user_ids)}
        for r in rows:
            if r[0] not in uix:
                uix[r[0]] = len(user_ids)
                user_ids.append(r[0])
        iix: Mapping[str, int]
        if item_index is not None:
            if len(item_index) != len(item_ids) or any(r[1] not in item_index for r in rows):
                raise ValueError("item_index must give the position of each of items, and rows name only those")
            iix = item_index
        else:
            grown = {p: i for i, p in enumerate(item_ids)}
            for r in rows:
                if r[1] not in grown:
                    grown[r[1]] = len(item_ids)
                    item_ids.append(r[1])
            iix = grown
        return cls(
            tuple(user_ids), tuple(item_ids),
            np.fromiter((uix[r[0]] for r in rows), np.int32, len(rows)),
            np.fromiter((iix[r[1]] for r in rows), np.int32, len(rows)),
            np.fromiter((int(r[2]) for r in rows), np.int8, len(rows)),
            np.fromiter((r[3] for r in rows), np.float64, len(rows)),
            np.fromiter((r[4] for r in rows), np.float32, len(rows)),
        )

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return int(self.user.size)

    def select(self, mask: npt.NDArray[np.bool_]) -> EventLog:
        """The events where `mask` holds, over the same index spaces."""
        return EventLog(self.users, self.items, self.user[mask], self.item[mask], self.kind[mask], self.day[mask],
                        self.quantity[mask])

    def before(self, day: float) -> EventLog:
        """Events strictly before `day` (what is known as of that instant)."""
        return self.select(self.day < day)

    def between(self, start: float, end: float) -> EventLog:
        """Events in `[start, end)`."""
        return self.select((self.day >= start) & (self.day < end))

    def of_kind(self, *kinds: Kind) -> EventLog:
        return self.select(np.isin(self.kind, np.array([int(k) for k in kinds], dtype=np.int8)))

    def matrix(self, weights: Mapping[Kind, float] | None = None, *, quantity: bool = False) -> sparse.csr_matrix:
        """Users x items, summing each event's weight (1 per event by default, or its quantity)."""
        if weights is None:
            w = np.ones(len(self), np.float32)
        else:
            table = np.zeros(len(Kind), np.float32)
            for k, v in weights.items():
                table[int(k)] = v
            w = table[self.kind]
        if quantity:
            w = w * self.quantity
        m = sparse.coo_matrix((w, (self.user, self.item)), shape=(self.n_users, self.n_items), dtype=np.float32)
        out = m.tocsr()
        out.sum_duplicates()
        out.eliminate_zeros()
        return out

    def last_day(self) -> sparse.csr_matrix:
        """Users x items: the day of the latest event plus one (so that day 0 is not an empty cell)."""
        if not len(self):
            return sparse.csr_matrix((self.n_users, self.n_items))
        key = self.user.astype(np.int64) * self.n_items + self.item
        order = np.lexsort((self.day, key))
        key, day = key[order], self.day[order]
        last = np.r_[key[1:] != key[:-1], True]
        return sparse.csr_matrix((day[last] + 1.0, (key[last] // self.n_items, key[last] % self.n_items)),
                                 shape=(self.n_users, self.n_items))
