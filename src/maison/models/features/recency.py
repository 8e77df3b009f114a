"""Behaviour as of a cutoff (recency, frequency, engagement), the churn model's input.

Written as Ibis expressions like the early-signal pipeline, over the same long event table:
only events strictly before `cutoff` are read, so a feature row can be computed at any past
instant for training and at `now` for scoring.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from maison.models.features import events as ev_schema
from maison.models.features.spec import DAY

NAMES = (
    "tenure_days",
    "days_since_last_event",
    "days_since_last_order",
    "events_30d",
    "events_90d",
    "views_30d",
    "cart_adds_30d",
    "email_opens_30d",
    "orders_90d",
    "orders_total",
    "spend_90d",
    "spend_total",
)


def build(events: ir.Table, *, cutoff: int) -> ir.Table:
    """One row per client with an event before `cutoff` (epoch seconds): `client_id` and NAMES."""
    rows = events.filter(events.t < cutoff)
    order = rows.event == ev_schema.ORDER
    recent = rows.t >= cutoff - 30 * DAY
    quarter = rows.t >= cutoff - 90 * DAY

    def n(condition: ir.BooleanValue) -> ir.IntegerScalar:
        return condition.cast("int64").sum()

    agg: dict[str, Any] = {
        "tenure_days": (cutoff - rows.t.min()).cast("float64") / DAY,
        "days_since_last_event": (cutoff - rows.t.max()).cast("float64") / DAY,
        "days_since_last_order": (cutoff - rows.t.max(where=order)).cast("float64") / DAY,
        "events_30d": n(recent),
        "events_90d": n(quarter),
        "views_30d": n(recent & (rows.event == "Product Viewed")),
        "cart_adds_30d": n(recent & (rows.event == "Product Added")),
        "email_opens_30d": n(recent & (rows.event == "Email Opened")),
        "orders_90d": rows.order_id.nunique(where=order & quarter),
        "orders_total": rows.order_id.nunique(where=order),
        "spend_90d": rows.amount.sum(where=order & quarter),
        "spend_total": rows.amount.sum(where=order),
    }
    table = rows.group_by("client_id").aggregate(**agg)
    filled = {
        name: (table[name] if name == "days_since_last_order" else table[name].fill_null(0)).cast("float64")
        for name in NAMES
    }
    return table.select(client_id=table.client_id, **filled).order_by("client_id")


def compute(events: pd.DataFrame, *, cutoff: int, backend: Any = None) -> pd.DataFrame:
    con = backend if backend is not None else ibis.duckdb.connect()
    return con.execute(build(ibis.memtable(ev_schema.typed(events)), cutoff=cutoff)).reset_index(drop=True)
