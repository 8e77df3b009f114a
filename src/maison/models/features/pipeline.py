"""The early-signal feature pipeline, written once as Ibis expressions.

`build` turns three tables — the long event table (`events.COLUMNS`), the catalogue
(`product_id, category, price`) and product collections (`product_id, collection`) — into one
row per client of features over the first `window_days` after that client's first contact.
It runs on any Ibis backend: DuckDB in process by default, Spark when a retailer outgrows one
machine (a test proves both give identical features).

No leakage: the window starts at the client's earliest event and every aggregate reads only
rows strictly before `start + window`; later events cannot change a feature. Callers pass only
events the consent gateway returned, timestamped before the scoring instant.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from maison.models.features import events as ev_schema
from maison.models.features.spec import CATEGORICAL, DAY, FeatureSpec, slug

_VIEW = "Product Viewed"
_INT = "int64"


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return condition.cast(_INT)


def _windowed(events: ir.Table, catalog: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Events inside each client's window, with catalogue attributes and the window start `t0`."""
    first = events.group_by("client_id").aggregate(t0=events.t.min())
    rows = events.join(first, "client_id")
    rows = rows.filter(rows.t < rows.t0 + spec.window_seconds)
    reference = catalog.aggregate(reference_price=catalog.price.median())
    cat = catalog.cross_join(reference)
    cat = cat.select(
        pid=cat.product_id, category=cat.category, price=cat.price, rel_price=cat.price / cat.reference_price
    )
    joined = rows.left_join(cat, rows.product_id == cat.pid)
    return joined.drop("pid")


def _sessions(rows: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Visits: a gap of more than `session_gap_minutes` starts a new one.

    Gaps are taken over distinct instants so events sharing a timestamp cannot be ordered
    differently by two backends and land in different sessions.
    """
    instants = rows.select("client_id", "t").distinct()
    by_time = ibis.window(group_by="client_id", order_by="t")
    instants = instants.mutate(prev=instants.t.lag().over(by_time))
    is_start = instants.prev.isnull() | (instants.t - instants.prev > spec.session_gap_minutes * 60)
    instants = instants.mutate(start=ibis.ifelse(is_start, instants.t, ibis.null(_INT)))
    cumulative = ibis.window(group_by="client_id", order_by="t", preceding=None, following=0)
    instants = instants.mutate(session=instants.start.max().over(cumulative)).select("client_id", "t", "session")
    tagged = rows.join(instants, ["client_id", "t"])
    visits = tagged.group_by(["client_id", "session"]).aggregate(
        duration=tagged.t.max() - tagged.t.min(),
        carted=_flag(tagged.event == "Product Added").max(),
        ordered=_flag(tagged.event == ev_schema.ORDER).max(),
    )
    return visits.group_by("client_id").aggregate(
        sessions=visits.count(),
        session_minutes_mean=(visits.duration.cast("float64") / 60.0).mean(),  # float: Spark reads 60.0 as a decimal
        abandoned_carts=_flag((visits.carted == 1) & (visits.ordered == 0)).sum(),
    )


def _activity(rows: ir.Table, spec: FeatureSpec) -> ir.Table:
    # A masked column instead of `median(where=...)`, which Ibis compiles to a non-constant
    # percentile argument on Spark.
    rows = rows.mutate(viewed_rel_price=ibis.ifelse(rows.event == _VIEW, rows.rel_price, ibis.null("float64")))
    view = rows.event == _VIEW
    content = rows.content_type.notnull()
    order = rows.event == ev_schema.ORDER

    def count(event: str) -> ir.IntegerScalar:
        return _flag(rows.event == event).sum()

    metrics: dict[str, Any] = {
        "events": rows.count(),
        "product_views": _flag(view).sum(),
        "distinct_products": rows.product_id.nunique(where=view),
        "views_week1": _flag(view & (rows.t < rows.t0 + 7 * DAY)).sum(),
        "browse_minutes": rows.dwell_seconds.sum(where=view) / 60.0,
        "rel_price_viewed_median": rows.viewed_rel_price.median(),
        "rel_price_viewed_max": rows.rel_price.max(where=view),
        "wishlist_adds": count("Product Added to Wishlist"),
        "cart_adds": count("Product Added"),
        "searches": count("Products Searched"),
        "email_opens": count("Email Opened"),
        "email_clicks": count("Email Link Clicked"),
        "content_views": _flag(content).sum(),
        "content_minutes": rows.dwell_seconds.sum(where=content) / 60.0,
        "orders": rows.order_id.nunique(where=order),
        "purchase_days": (rows.t // DAY).nunique(where=order),
        "last_order_day": (rows.t.max(where=order) - rows.t0.min()).cast("float64") / float(DAY),
        "spend": rows.amount.sum(where=order),
        "t0": rows.t0.min(),
    }
    for category in spec.categories:
        metrics[f"views__{slug(category)}"] = _flag(view & (rows.category == category)).sum()
    return rows.group_by("client_id").aggregate(**metrics)


def _breadth(rows: ir.Table) -> ir.Table:
    views = rows.filter((rows.event == _VIEW) & rows.category.notnull())
    per_category = views.group_by(["client_id", "category"]).aggregate(n=views.count())
    return per_category.group_by("client_id").aggregate(
        categories_viewed=per_category.count(),
        top_category_share=per_category.n.max() / per_category.n.sum(),
    )


def _collections(rows: ir.Table, collections: ir.Table, spec: FeatureSpec) -> ir.Table:
    views = rows.filter(rows.event == _VIEW).select("client_id", "product_id")
    coll = collections.select(cpid=collections.product_id, collection=collections.collection)
    joined = views.join(coll, views.product_id == coll.cpid)
    metrics = {f"collection_views__{slug(c)}": _flag(joined.collection == c).sum() for c in spec.collections}
    return joined.group_by("client_id").aggregate(**metrics)


def _first_order(rows: ir.Table) -> ir.Table:
    orders = rows.filter(rows.event == ev_schema.ORDER)
    first_t = orders.group_by("client_id").aggregate(ft=orders.t.min())
    at_first = orders.join(first_t, "client_id")
    at_first = at_first.filter(at_first.t == at_first.ft)
    first_id = at_first.group_by("client_id").aggregate(fid=at_first.order_id.min())
    lines = orders.join(first_id, "client_id")
    lines = lines.filter(lines.order_id == lines.fid)
    top = lines.mutate(top_price=lines.price.max().over(group_by="client_id"))
    top = top.filter(top.price == top.top_price)
    top_category = top.group_by("client_id").aggregate(first_order_category=top.category.min())
    summary = lines.group_by("client_id").aggregate(
        first_order_amount=lines.amount.sum(),
        first_order_items=lines.count(),
        first_order_rel_price_max=lines.rel_price.max(),
        first_order_in_store=_flag(lines.store_id.notnull()).max(),
        first_order_month=lines.month.min(),
        first_order_store=lines.store_id.min(),
        days_to_first_order=(lines.t.min() - lines.t0.min()).cast("float64") / float(DAY),
    )
    return summary.left_join(top_category, "client_id").drop("client_id_right")


def build(events: ir.Table, catalog: ir.Table, collections: ir.Table, spec: FeatureSpec) -> ir.Table:
    """One row per client with an event: `client_id`, `first_contact` (epoch s) and `spec.names`."""
    rows = _windowed(events, catalog, spec)
    table = _activity(rows, spec)
    for part in (_sessions(rows, spec), _breadth(rows), _collections(rows, collections, spec), _first_order(rows)):
        table = table.left_join(part, "client_id").drop("client_id_right")
    columns: dict[str, Any] = {"client_id": table.client_id, "first_contact": table.t0.cast(_INT)}
    for feature in spec.features:
        value = table[feature.name]
        if feature.name in CATEGORICAL:
            columns[feature.name] = value.cast("string")
        elif feature.name == "spend" or (
            feature.kind in ("count", "minutes") and feature.name != "session_minutes_mean"
        ):
            columns[feature.name] = value.fill_null(0).cast("float64")
        else:
            columns[feature.name] = value.cast("float64")
    return table.select(**columns).order_by("client_id")


def compute(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    collections: pd.DataFrame,
    spec: FeatureSpec,
    *,
    backend: Any = None,
) -> pd.DataFrame:
    """Run `build` on `backend` (a fresh in-process DuckDB when None) and return a pandas frame."""
    con = backend if backend is not None else ibis.duckdb.connect()
    tables = {
        "events": ev_schema.typed(events),
        "catalog": ev_schema.typed(catalog, ev_schema.CATALOG_COLUMNS),
        "collections": ev_schema.typed(collections, ev_schema.COLLECTION_COLUMNS),
    }
    # In-memory tables become temporary views on Spark and scans on DuckDB: nothing is persisted.
    loaded = {name: ibis.memtable(frame) for name, frame in tables.items()}
    result = con.execute(build(loaded["events"], loaded["catalog"], loaded["collections"], spec))
    return result.reset_index(drop=True)
