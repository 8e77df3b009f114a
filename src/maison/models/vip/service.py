"""Future-VIP scores for a store's clients: train on what it observed, score through consent.

Only clients whose consent state allows profiling at the scoring instant are scored; the
gateway gives the model only the categories each client allows, and each score records which
categories it was computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from maison.consent import gateway
from maison.models.features.events import from_messages
from maison.models.features.pipeline import compute
from maison.models.features.service import READER, catalog_tables, features_as_of, profiled_categories
from maison.models.sensitive import sensitive_features
from maison.models.vip.labels import observed_outcomes, top_fraction_label
from maison.models.vip.model import FutureVipModel, train


@dataclass(frozen=True, slots=True)
class ClientScore:
    client_id: str
    score: float
    reasons: list[str]
    data_categories: tuple[str, ...]


# Measured from the first contact or on the calendar. In a store, clients known before its data
# begins have their "first contact" at the data start: for them these say when the data began,
# not how the client started, and new clients are scored in other months than the training
# windows fell in. Training on store data leaves them out (train/serve skew, not signal).
ANCHOR_DEPENDENT = ("days_to_first_order", "last_order_day", "first_order_month")


def train_from_store(
    conn: Connection,
    client_ids: Iterable[str],
    *,
    at: datetime,
    window_days: int = 30,
    min_horizon_days: int = 60,
    exclude: Iterable[str] = (),
    audit: bool = False,
    **params: object,
) -> FutureVipModel:
    """A model trained on the observed outcomes (see `labels`) of these clients as of `at`: the
    0/1 top-decile label, graded for the trees by each client's observed spend rate.

    With `audit`, the clients' declared age band, income band and country (`models.sensitive`,
    read through consent; "unknown" where absent or not allowed) feed the fairness audit of the
    validation clients (`model.fairness_`)."""
    features, long, spec = features_as_of(conn, client_ids, at=at)
    outcomes = observed_outcomes(
        long, at_seconds=int(at.timestamp()), window_days=window_days, min_horizon_days=min_horizon_days
    )
    outcomes = outcomes[~outcomes["client_id"].isin(set(exclude))]
    outcomes["label"] = top_fraction_label(outcomes["spend_rate"])
    rows = features.merge(outcomes[["client_id", "label", "spend_rate"]], on="client_id")
    settings: dict[str, object] = {"excluded_features": ANCHOR_DEPENDENT, **params}
    groups = sensitive_features(conn, rows["client_id"].astype(str).tolist(), at=at) if audit else None
    value = rows["spend_rate"]  # grades the label: how far above or below the top decile
    return train(rows, rows["label"], time=rows["first_contact"], spec=spec, sensitive=groups, value=value, **settings)


def score_clients(
    conn: Connection,
    client_ids: Iterable[str],
    at: datetime | Mapping[str, datetime],
    model: FutureVipModel,
    *,
    top_reasons: int = 3,
) -> list[ClientScore]:
    """Scores of the clients that may be profiled, each as of `at` (one instant, or one per client).

    Events are read once through the gateway at the latest instant, then each client keeps only
    events before their own instant, of the categories their consent allowed at that instant too.
    """
    when = dict(at) if isinstance(at, Mapping) else {c: at for c in client_ids}
    ids = sorted(when)
    if not ids:
        return []
    allowed = profiled_categories(conn, {c: when[c] for c in ids})
    if not allowed:
        return []
    messages = gateway.read(conn, READER, allowed, at=max(when[c] for c in allowed))
    kept = {
        c: [m for m in msgs if m["data_category"] in allowed[c] and _instant(m["timestamp"]) < when[c]]
        for c, msgs in messages.items()
    }
    catalog, collections = catalog_tables(conn)
    features = compute(from_messages(kept), catalog, collections, model.spec_)
    if features.empty:
        return []
    scores = model.score(features)
    said = model.reasons(features, top=top_reasons)
    return [
        ClientScore(str(cid), float(s), r, allowed[str(cid)])
        for cid, s, r in zip(features["client_id"], scores, said, strict=True)
    ]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
