"""Features of clients in a store, read only through the consent gateway.

The reader declares every category the early-signal pipeline uses, for profiling: a client
who objects to profiling or restricts processing contributes nothing, and a client who
withheld, say, email engagement is featurised from the other categories only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection

from maison.catalog import service as catalog_service
from maison.consent import gateway
from maison.consent import service as consent
from maison.consent.entities import ConsentState, Use
from maison.consent.readers import declare
from maison.models.features import events as ev_schema
from maison.models.features.pipeline import compute
from maison.models.features.spec import FeatureSpec, spec_for

CATEGORIES = (
    "purchase_history",
    "browsing_behaviour",
    "cart_activity",
    "search_history",
    "email_engagement",
    "content_engagement",
)
READER = declare(
    "models.early_signals",
    use=Use.PROFILE,
    categories=CATEGORIES,
    why="Future-value and churn scores from what a client browsed, saved, read and bought.",
)


def may_profile(state: ConsentState) -> bool:
    """Scoring is profiling: never for a client who objects to it or restricted processing."""
    return not (state.objects_to_profiling or state.restricted)


def profiled_categories(conn: Connection, when: Mapping[str, datetime]) -> dict[str, tuple[str, ...]]:
    """The purposes of `READER` each client's consent lets a score use at its instant (`when`):
    the policy's answer per purpose, for clients who may be profiled at all. A client left with
    none is left out, so is never scored."""
    book = consent.book(conn, list(when))
    allowed = {
        c: tuple(cat for cat in READER.categories if book.may(c, cat, READER.use, at))
        for c, at in when.items() if may_profile(book.state(c, at))
    }
    return {c: cats for c, cats in allowed.items() if cats}


def client_events(conn: Connection, client_ids: Iterable[str], *, at: datetime) -> pd.DataFrame:
    """The long event table of these clients before `at`, as consent allows profiling."""
    return ev_schema.from_messages(gateway.read(conn, READER, client_ids, at=at))


def catalog_tables(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(product_id, category, price) and (product_id, collection) from the catalogue service."""
    products = catalog_service.list_products(conn)
    catalog = pd.DataFrame(
        [(p.product_id, p.category, float(p.price)) for p in products], columns=list(ev_schema.CATALOG_COLUMNS)
    )
    collections = pd.DataFrame(
        [(p.product_id, c) for p in products for c in p.collections], columns=list(ev_schema.COLLECTION_COLUMNS)
    )
    return catalog, collections


def spec_from(catalog: pd.DataFrame, collections: pd.DataFrame, *, window_days: int = 30) -> FeatureSpec:
    return spec_for(catalog["category"].dropna(), collections["collection"].dropna(), window_days=window_days)


def features_as_of(
    conn: Connection,
    client_ids: Iterable[str],
    *,
    at: datetime,
    spec: FeatureSpec | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, FeatureSpec]:
    """(features, long events, spec) of these clients as of `at` (events strictly before it)."""
    catalog, collections = catalog_tables(conn)
    spec = spec or spec_from(catalog, collections)
    long = client_events(conn, client_ids, at=at)
    return compute(long, catalog, collections, spec), long, spec
