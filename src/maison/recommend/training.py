"""The shop-wide model fitted from the store: behaviour read through the consent gateway.

Fitting reads every client's behaviour with the `TRAINING` reader (see `readers` for the rule:
only categories a client's consent lets us use for personalisation at the fit instant), the
catalogue, and units sold over the 30 days before the instant (an aggregate). The fitted model
holds item-level signals only. A process keeps one model per store and refits it after
`max_age` (recommendations reflect behaviour up to that age; the client's own events are read
fresh at every request).
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from maison.analytics import aggregates
from maison.catalog import service as catalog
from maison.catalog.entities import Product
from maison.consent import gateway
from maison.core.schema import clients
from maison.recommend import readers, signals
from maison.recommend.content import ItemAttributes, item_features
from maison.recommend.hybrid import HybridRanker
from maison.recommend.log import EventLog

MODEL = "recs-hybrid"
WINDOW = timedelta(days=30)
DEFAULT_MAX_AGE = timedelta(hours=1)
# Smaller than the offline evaluation's settings: serving scores every candidate of every request
# (and of every client in a batch), and 30 candidates per source with 60 shallow trees keep a
# request under a millisecond of model time (`maison bench recommend`).
SERVING: dict[str, Any] = {"horizon": 28.0, "candidates": 30, "n_estimators": 60, "num_leaves": 15}


@dataclass(frozen=True)
class ShopModel:
    """A fitted ranker over the catalogue as of `at`, and the catalogue's attributes then."""

    version: str
    at: datetime
    ranker: HybridRanker
    products: dict[str, Product]
    index: dict[str, int]
    top_sellers: dict[str, list[str]]  # category -> product ids by units sold in the 30 days before `at`
    sold: dict[str, int]
    clients: int  # clients whose behaviour the model learned from

    # Views of the fields above that every request needs, derived once per model rather than
    # per request (over a 10,000-item catalogue each cost about a millisecond or more).
    @cached_property
    def ids(self) -> tuple[str, ...]:
        """The item space in index order (`ids[index[p]] == p`)."""
        return tuple(self.index)

    @cached_property
    def shop_best_sellers(self) -> tuple[str, ...]:
        """Every product by units sold in the window, most first (ties by id)."""
        return tuple(sorted(self.products, key=lambda p: (-self.sold.get(p, 0), p)))

    @cached_property
    def seller_rank(self) -> dict[tuple[str, str], int]:
        """(category, product id) -> the product's position in `top_sellers[category]`."""
        return {(c, p): rank for c, pids in self.top_sellers.items() for rank, p in enumerate(pids)}


def attributes(product: Product) -> ItemAttributes:
    return ItemAttributes(
        item_id=product.product_id, category=product.category, subcategory=product.subcategory, tags=product.tags,
        materials=product.materials, maker=product.maker, collections=product.collections,
        price=float(product.price), description=product.description or "",
        extra=tuple(f"certification={c}" for c in product.certifications),
    )


def read_log(conn: Connection, item_ids: list[str], *, at: datetime) -> tuple[EventLog, int]:
    """Every current client's behaviour before `at` that consent lets us use (`readers.TRAINING`).

    Returns the log (users: the clients with usable behaviour) and how many clients that is.
    """
    index = {p: i for i, p in enumerate(item_ids)}
    current_ids = select(clients.c.id).where(clients.c.merged_into.is_(None)).order_by(clients.c.id)
    found = gateway.read(conn, readers.TRAINING, list(conn.execute(current_ids).scalars()), at=at)
    rows = [r for c, messages in found.items() for r in signals.rows(c, messages, known=index)]
    return EventLog.build(rows, users=sorted(found), items=item_ids), len(found)


def fit(conn: Connection, *, at: datetime, ranker: HybridRanker | None = None) -> ShopModel:
    """Fit the shop model on the store as of `at` (events strictly before `at`)."""
    products = {p.product_id: p for p in catalog.list_products(conn)}
    ids = sorted(products)
    log, consenting = read_log(conn, ids, at=at)
    model = ranker or HybridRanker(**SERVING)
    model.fit(log, at=signals.day(at), item_features=item_features([attributes(products[p]) for p in ids])
              if ids else None, item_categories=[products[p].category for p in ids])
    model.forget_users()  # the served model keeps item-level signals only
    index = {p: i for i, p in enumerate(ids)}
    sold = aggregates.units_sold(aggregates.sales(conn, start=at - WINDOW, end=at), start=at - WINDOW, end=at)
    by_category: dict[str, list[str]] = defaultdict(list)
    for pid in sorted(ids, key=lambda p: (-sold.get(p, 0), p)):
        by_category[products[pid].category].append(pid)
    digest = hashlib.sha256(f"{at.isoformat()}|{len(log)}|{log.n_users}|{len(ids)}".encode()).hexdigest()[:8]
    version = f"{MODEL}/{at:%Y%m%dT%H%M}/{digest}"
    return ShopModel(version, at, model, products, index, dict(by_category), sold, consenting)


_CACHE: dict[tuple[int, str], ShopModel] = {}
_LOCK = threading.Lock()


def current(conn: Connection, *, at: datetime, max_age: timedelta = DEFAULT_MAX_AGE) -> ShopModel:
    """The store's model, refitted when older than `max_age` (or fitted later than `at`)."""
    key = (id(conn.engine), str(conn.engine.url))
    with _LOCK:
        model = _CACHE.get(key)
        if model is None or not (at - max_age <= model.at <= at):
            model = fit(conn, at=at)
            _CACHE[key] = model
        return model


def install(conn: Connection, model: ShopModel) -> None:
    """Use this fitted model for the store of `conn` (a scheduler's refit, a benchmark, a test)."""
    with _LOCK:
        _CACHE[(id(conn.engine), str(conn.engine.url))] = model


def forget() -> None:
    """Drop every cached model (the next request refits)."""
    with _LOCK:
        _CACHE.clear()
