"""Recommendations for a client on a surface, as of an instant: read through the policy, rank,
apply the brand-safety rules, explain, and (by the route) record the served set.

Depth follows the client's consent at the instant:
- restricted processing (Art. 18): nothing is served;
- L1, or no usable behaviour: the best sellers of the declared categories (round robin in name
  order; the shop's best sellers when nothing is declared), the same for every client with the
  same declarations; a product page shows the product's companions, the same for everyone;
- L2: the hybrid ranker over the client's own views, saves, cart adds and purchases (each
  category only while `may(state, category, PERSONALIZE)`), bought items never re-offered;
- L3 with `exploratory_recommendations`: up to `exploratory` slots go to the best-ranked items
  outside the categories the client engages with, labelled exploratory.
`surface=digest` returns the items of the client's digest of the instant's ISO week.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy import Connection

from maison.catalog import service as catalog
from maison.catalog.entities import Product
from maison.consent import gateway
from maison.consent import service as consent
from maison.consent.entities import ConsentState, Use
from maison.consent.purposes import LEVELS
from maison.consent.rules import may
from maison.consent.service import ConsentBook
from maison.core.clock import parse_instant
from maison.privacy import decisions
from maison.recommend import readers, reasons, rules, signals, training
from maison.recommend.entities import SURFACES, Item, Reason, Recommendations
from maison.recommend.exceptions import InvalidSurface, MissingProduct
from maison.recommend.log import EventLog, Kind
from maison.recommend.training import ShopModel

MAX_K = 50
RULES = rules.BrandSafety()
_LOOK_AT = 8  # candidates looked at, per item served: 3k first, then up to 8k if the rules drop many


@dataclass(frozen=True, slots=True)
class Request:
    surface: str = "home"
    product_id: str | None = None
    k: int = 10
    exploratory: int = 2


def recommend(conn: Connection, client_id: str, request: Request, *, at: datetime,
              brand_safety: rules.BrandSafety = RULES, model: ShopModel | None = None) -> Recommendations:
    """The served set for `client_id` (not recorded: see `record`)."""
    if request.surface not in SURFACES:
        raise InvalidSurface(f"surface must be one of {', '.join(SURFACES)}", details={"field": "surface"})
    if not 1 <= request.k <= MAX_K:
        raise InvalidSurface(f"k must be between 1 and {MAX_K}", details={"field": "k"})
    if request.surface == "product_page" and not request.product_id:
        raise MissingProduct("surface=product_page needs product_id", details={"field": "product_id"})
    book = consent.book(conn, [client_id])  # read once: the state here, and every gateway read below
    state = book.state(client_id, at)
    model = model or training.current(conn, at=at)
    empty = Recommendations(client_id, request.surface, state.level, at.isoformat(), model.version, (),
                            request.product_id)
    if state.restricted:
        return Recommendations(**{**_fields(empty), "withheld": "restricted"})
    if request.surface == "digest":
        return _digest(conn, client_id, empty, at=at, k=request.k)
    page = catalog.get_product(conn, request.product_id) if request.product_id else None
    messages = _behaviour(conn, client_id, state, book, at=at)
    history = signals.rows(client_id, messages, known=model.index)
    if page is not None:
        return _product_page(conn, model, empty, page, history, messages, request, brand_safety, at=at)
    if history:
        return _personal(conn, model, empty, state, history, messages, request, brand_safety, at=at)
    return best_sellers(conn, model, empty, state, request, brand_safety, at=at, book=book)


def record(conn: Connection, served: Recommendations) -> None:
    """Write the served set to the decision audit (kind `recommendations`)."""
    decisions.record(
        conn, client_id=served.client_id, kind="recommendations", model_version=served.model_version,
        data_categories=served.data_categories(),
        reasons=[{"product_id": i.product_id, **i.reason.to_dict()} for i in served.items],
        output=served.to_dict(), at=parse_instant(served.at),
    )


def _fields(r: Recommendations) -> dict[str, Any]:
    return {f: getattr(r, f) for f in r.__dataclass_fields__}


def _with(base: Recommendations, items: list[Item], dropped: list[rules.Dropped]) -> Recommendations:
    return Recommendations(**{**_fields(base), "items": tuple(items),
                              "dropped": dict(Counter(d.rule for d in dropped))})


def _behaviour(conn: Connection, client_id: str, state: ConsentState, book: ConsentBook, *,
               at: datetime) -> list[dict[str, object]]:
    if LEVELS.index(state.level) < 1 or not any(may(state, c, Use.PERSONALIZE) for c in readers.BEHAVIOUR_CATEGORIES):
        return []
    return gateway.read(conn, readers.BEHAVIOUR, [client_id], at=at, book=book).get(client_id, [])


def _item(product: Product, reason: Reason, *, exploratory: bool = False, score: float | None = None) -> Item:
    return Item(product.product_id, product.name, product.category, product.subcategory, product.price,
                product.currency, product.online_sizes_in_stock(), reason, exploratory, score)


def _fresh(conn: Connection, model: ShopModel, ids: Sequence[str]) -> list[Product]:
    """Candidates with their stock now (the model's catalogue snapshot may be up to `max_age` old)."""
    now = catalog.get_products(conn, ids)
    return [now[i] for i in ids if i in now]


def _choose(conn: Connection, model: ShopModel, order: Sequence[str], *, k: int, brand_safety: rules.BrandSafety,
            grants: Grants | None = None, **constraints: Any
            ) -> tuple[list[Product], list[rules.Dropped], list[Product]]:
    """The first `k` of `order` passing the rules, fetching stock for 3k candidates, then up to 8k if needed.

    `grants`: the client's collections, read only if a candidate is access-restricted.
    Returns (chosen, dropped, the ranked candidates looked at).
    """
    ranked = _fresh(conn, model, order[: k * 3])
    chosen, dropped = rules.select(ranked, k=k, rules=brand_safety, collections=_granted(ranked, grants),
                                   **constraints)
    if len(chosen) < k and len(order) > k * 3:
        ranked += _fresh(conn, model, order[k * 3 : k * _LOOK_AT])
        chosen, dropped = rules.select(ranked, k=k, rules=brand_safety, collections=_granted(ranked, grants),
                                       **constraints)
    return chosen, dropped, ranked


class Grants:
    """The collections a client has been granted, read once and only when a candidate needs them:
    they matter only for access-restricted products (`rules.buyable`), which most shops have few of."""

    def __init__(self, conn: Connection, client_id: str, *, at: datetime) -> None:
        self._conn, self._client_id, self._at = conn, client_id, at
        self._found: frozenset[str] | None = None

    def get(self) -> frozenset[str]:
        if self._found is None:
            self._found = _collections(self._conn, self._client_id, at=self._at)
        return self._found


def _granted(candidates: Iterable[Product], grants: Grants | None) -> frozenset[str]:
    """The `collections` argument of `rules.select` for these candidates (none without `grants`)."""
    if grants is None or not any(p.access_restricted for p in candidates):
        return frozenset()
    return grants.get()


def _declared_categories(conn: Connection, client_id: str, state: ConsentState, *, at: datetime,
                         book: ConsentBook | None) -> list[str]:
    if not may(state, "declared_categories", Use.PERSONALIZE):
        return []
    rows = gateway.read(conn, readers.DECLARED, [client_id], at=at, book=book).get(client_id, [])
    stated = [e for e in rows if e.get("type") == "identify" and "declared_categories" in (e.get("traits") or {})]
    if not stated:
        return []
    value = stated[-1]["traits"]["declared_categories"]
    listed = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return sorted({c.strip() for c in listed if isinstance(c, str) and c.strip()})


def best_sellers(conn: Connection, model: ShopModel, empty: Recommendations, state: ConsentState, request: Request,
                 brand_safety: rules.BrandSafety, *, at: datetime, book: ConsentBook | None = None) -> Recommendations:
    """L1 (or no usable behaviour): best sellers of the declared categories, else of the shop.

    `book`: the client's consent ledger when the caller has read it already."""
    categories = _declared_categories(conn, empty.client_id, state, at=at, book=book)
    wanted = request.k * _LOOK_AT  # `_choose` looks no further down the order
    pools: list[Sequence[str]] = [model.top_sellers.get(c, []) for c in categories] or [model.shop_best_sellers]
    order: list[str] = []
    for rank in range(max((len(p) for p in pools), default=0)):  # round robin, category name order
        if len(order) >= wanted:
            break
        order += [pool[rank] for pool in pools if rank < len(pool)]
    chosen, dropped, _ = _choose(conn, model, order, k=request.k, brand_safety=brand_safety)
    items = []
    for p in chosen:
        rank = model.seller_rank[(p.category, p.product_id)]
        reason = reasons.declared(p, category=p.category, rank=rank) if categories else reasons.popular(p, rank=rank)
        items.append(_item(p, reason))
    return _with(empty, items, dropped)


def _anchors(model: ShopModel, history: list[signals.Row], items: np.ndarray) -> tuple[dict[int, tuple[int, Kind]],
                                                                                      dict[int, tuple[int, Kind]]]:
    """For each item, the history item that contributes most to its collaborative and content scores."""
    strongest: dict[int, Kind] = {}
    for _, pid, kind, _, _ in history:
        i = model.index[pid]
        strongest[i] = max(strongest.get(i, kind), kind)
    owned = np.array(sorted(strongest), np.int64)
    base = model.ranker.base_
    out: list[dict[int, tuple[int, Kind]]] = []
    for sim in (base.cf.similarity_, base.content.similarity_ if base.content is not None else None):
        found: dict[int, tuple[int, Kind]] = {}
        if sim is not None and owned.size:
            block = sparse.csr_matrix(sim[owned][:, items]).toarray()
            for col, item in enumerate(items):
                row = int(np.argmax(block[:, col]))
                if block[row, col] > 0 and owned[row] != item:
                    found[int(item)] = (int(owned[row]), strongest[int(owned[row])])
        out.append(found)
    return out[0], out[1]


def _personal(conn: Connection, model: ShopModel, empty: Recommendations, state: ConsentState,
              history: list[signals.Row], messages: list[dict[str, object]], request: Request,
              brand_safety: rules.BrandSafety, *, at: datetime) -> Recommendations:
    ids = model.ids
    log = EventLog.build(history, users=[empty.client_id], items=ids, item_index=model.index)
    _, items, score, _ = model.ranker.rank(np.array([0]), history=log)
    order = items[np.lexsort((items, -score))]
    bought = frozenset(pid for _, pid, kind, _, _ in history if kind == Kind.PURCHASE)
    engaged = {pid for _, pid, _, _, _ in history}
    reference = rules.reference_price((float(model.products[p].price) for p in engaged), rules=brand_safety)
    grants = Grants(conn, empty.client_id, at=at)
    order_ids = [ids[i] for i in order[: request.k * _LOOK_AT]]
    chosen, dropped, ranked = _choose(conn, model, order_ids, k=request.k, brand_safety=brand_safety,
                                      grants=grants, reference=reference, exclude=bought)
    explore = (LEVELS.index(state.level) >= 2 and may(state, "exploratory_recommendations", Use.PERSONALIZE)
               and request.exploratory > 0)
    usual = {model.products[p].category for p in engaged}
    exploratory: set[str] = set()
    if explore:
        beyond = [p for p in order_ids if model.products[p].category not in usual]
        outside = _fresh(conn, model, beyond[: request.k * 3])
        picks, _ = rules.select(outside, k=min(request.exploratory, request.k), rules=brand_safety,
                                collections=_granted(outside, grants), exclude=bought)
        keep = [p for p in chosen if p.category in usual][: request.k - len(picks)]
        chosen = _merge(ranked + picks, keep + picks)
        exploratory = {p.product_id for p in picks}
    cf, content = _anchors(model, history, np.array([model.index[p.product_id] for p in chosen], np.int64))
    used = sorted(signals.categories_used(messages))
    anchors = {a for a, _ in cf.values()} | {a for a, _ in content.values()}
    products = {ids[i]: model.products[ids[i]] for i in anchors}
    out = []
    for p in chosen:
        i = model.index[p.product_id]
        anchor_cf = (products[ids[cf[i][0]]], cf[i][1]) if i in cf else None
        anchor_ct = (products[ids[content[i][0]]], content[i][1]) if i in content else None
        sellers = model.top_sellers.get(p.category, [])
        rank = model.seller_rank[(p.category, p.product_id)] if model.sold.get(p.product_id) else None
        reason = reasons.personal(p, collaborative=anchor_cf, content=anchor_ct, browsed_category=p.category in usual,
                                  best_seller_rank=rank if rank is not None and len(sellers) else None, used=used,
                                  exploratory=p.product_id in exploratory)
        out.append(_item(p, reason, exploratory=p.product_id in exploratory))
    return _with(empty, out, dropped)


def _merge(ranked: list[Product], chosen: list[Product]) -> list[Product]:
    """`chosen` in the ranker's order (each once)."""
    keep = {p.product_id for p in chosen}
    seen: set[str] = set()
    out = []
    for p in ranked:
        if p.product_id in keep and p.product_id not in seen:
            seen.add(p.product_id)
            out.append(p)
    return out


def _collections(conn: Connection, client_id: str, *, at: datetime) -> frozenset[str]:
    from maison.personalize import derived

    return frozenset(derived.collections(conn, client_id, at=at))


def _product_page(conn: Connection, model: ShopModel, empty: Recommendations, page: Product,
                  history: list[signals.Row], messages: list[dict[str, object]], request: Request,
                  brand_safety: rules.BrandSafety, *, at: datetime) -> Recommendations:
    """Companions of the page's product: stylist pairings, co-views and shared attributes; from L2
    the client's ranker score reorders them (half weight) and items they bought are left out."""
    ids = model.ids
    base = model.ranker.base_
    if page.product_id not in model.index:
        return _with(empty, [], [])
    j = model.index[page.product_id]
    cf = base.cf.similarity_.getrow(j).toarray().ravel()
    content = base.content.similarity_.getrow(j).toarray().ravel() if base.content is not None else np.zeros(len(ids))
    paired = np.zeros(len(ids))
    for pid in page.pairs_with:
        if pid in model.index:
            paired[model.index[pid]] = 1.0
    affinity = paired + cf / max(cf.max(), 1e-9) + 0.5 * content / max(content.max(), 1e-9)
    affinity[j] = 0.0
    candidates = np.flatnonzero(affinity > 0)
    bought: frozenset[str] = frozenset()
    if history and candidates.size:
        log = EventLog.build(history, users=[empty.client_id], items=ids, item_index=model.index)
        extra = sparse.csr_matrix((np.ones(candidates.size), (np.zeros(candidates.size, np.int64), candidates)),
                                  shape=(1, len(ids)))
        _, items, score, _ = model.ranker.rank(np.array([0]), history=log, extra=extra)
        personal = dict(zip(items.tolist(), _ranks(score).tolist(), strict=True))
        final = 0.5 * _ranks(affinity[candidates]) + 0.5 * np.array([personal.get(int(c), 0.0) for c in candidates])
        bought = frozenset(pid for _, pid, kind, _, _ in history if kind == Kind.PURCHASE)
    else:
        final = affinity[candidates]
    order = candidates[np.lexsort((candidates, -final))]
    chosen, dropped, _ = _choose(conn, model, [ids[i] for i in order[: request.k * _LOOK_AT]], k=request.k,
                                 brand_safety=brand_safety, grants=Grants(conn, empty.client_id, at=at),
                                 exclude=bought | {page.product_id})
    used = tuple(sorted(signals.categories_used(messages))) if history else ()
    served: list[Item] = []
    for p in chosen:
        i = model.index[p.product_id]
        base_reason = reasons.companion(p, page, paired=paired[i] > 0, co_viewed=cf[i] > 0)
        reason = Reason(base_reason.text, base_reason.codes + (("personal_order",) if used else ()), used)
        served.append(_item(p, reason))
    return _with(empty, served, dropped)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Values to [0, 1] by rank (1 = best), so that scores of different scales can be averaged."""
    if values.size <= 1:
        return np.ones(values.size)
    order = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return order / (values.size - 1)


def _digest(conn: Connection, client_id: str, empty: Recommendations, *, at: datetime, k: int) -> Recommendations:
    """The items of the client's digest of the ISO week of `at` (the recorded one if sent)."""
    from maison.personalize import service as digests
    from maison.personalize.exceptions import NoDigest

    year, week, _ = at.isocalendar()
    try:
        found = digests.digest_for_week(conn, client_id, f"{year}-W{week:02d}")
    except NoDigest:
        return empty
    entries = [i for s in found.digest.get("sections", []) for i in s.get("items", [])][:k]
    products = catalog.get_products(conn, [e["product_id"] for e in entries])
    items = []
    for e in entries:
        p = products.get(e["product_id"])
        if p is None or not p.in_stock_online():
            continue
        r = e.get("reason") or {}
        reason = Reason(str(r.get("text", "")), tuple(r.get("codes") or ("digest",)),
                        tuple(r.get("data_categories") or ()))
        items.append(_item(p, reason, exploratory=bool(e.get("exploratory"))))
    return Recommendations(**{**_fields(empty), "items": tuple(items), "model_version": found.digest.get(
        "model_version") or digests.MODEL_VERSION})
