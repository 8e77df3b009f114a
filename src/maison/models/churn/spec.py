"""Plugs the churn model (`maison.models.churn`) into `maison models train|score|report`.

The score is the calibrated probability that a buyer makes no purchase in the next
`horizon_days` (90). Its reason states what the score rests on, from the client's own events
(the last order, orders of the last 90 days, visits and opens of the last 30), with the
purchase-only view beside it (BG/NBD's chance that the client is still active). Client data is
read through the consent gateway as for the future-VIP model (`features.service.READER`, a
profiling use): a client who objects to profiling or restricts processing is neither trained
on nor scored, and each score lists the purposes its events came under.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from maison.consent import gateway
from maison.models.churn.model import ChurnModel, churn_scores, train
from maison.models.features import recency
from maison.models.features.events import from_messages
from maison.models.features.service import READER, profiled_categories
from maison.models.registry import LoadedModel
from maison.models.scores import ScoreRow, active_clients
from maison.models.trainers import ModelSpec, Trained, register

NAME = "churn"


def _events(conn: Connection, allowed: dict[str, tuple[str, ...]], at: datetime) -> pd.DataFrame:
    return from_messages(gateway.read(conn, READER, allowed, at=at))


def train_from_store(conn: Connection, *, as_of: datetime) -> Trained:
    allowed = profiled_categories(conn, dict.fromkeys(active_clients(conn), as_of))
    events = _events(conn, allowed, as_of)
    model = train(events, at=int(as_of.timestamp()))
    return Trained(
        model=model, data_start=None, data_end=as_of, fingerprint=str(getattr(model, "fingerprint_", "")) or "unknown",
        n_clients=int(events["client_id"].nunique()), metrics=dict(getattr(model, "validation_", {})),
        params=model.get_params(),
    )


def reason(row: Any, alive: float) -> str:
    """What a churn score rests on, in the client's own numbers (a scored client is a buyer)."""
    return (f"Last order {int(row.days_since_last_order)} days ago; {int(row.orders_90d)} order(s) in the last "
            f"90 days; {int(row.events_30d)} visit(s), opens and other events in the last 30 days. From purchases "
            f"alone, a {alive:.0%} chance of still being an active client (BG/NBD).")


def scorer(loaded: LoadedModel) -> Callable[[Connection, Sequence[str], datetime], list[ScoreRow]]:
    model: ChurnModel = loaded.model

    def score(conn: Connection, client_ids: Sequence[str], at: datetime) -> list[ScoreRow]:
        allowed = profiled_categories(conn, dict.fromkeys(client_ids, at))
        if not allowed:
            return []
        events = _events(conn, allowed, at)
        cutoff = int(at.timestamp())
        found = churn_scores(events, model, at=cutoff)
        rows = recency.compute(events, cutoff=cutoff).set_index("client_id")
        return [ScoreRow(s.client_id, s.churn_probability,
                         [{"text": reason(rows.loc[s.client_id], s.probability_alive)}], allowed[s.client_id])
                for s in found]

    return score


SPEC = register(ModelSpec(
    name=NAME,
    description="Churn: probability that a buyer makes no purchase in the next 90 days, with BG/NBD's P(alive) "
                "in its reason.",
    categories=tuple(READER.categories),
    train=train_from_store,
    scorer=scorer,
))
