"""Plugs the future-VIP model (`maison.models.vip`) into `maison models train|score|report`.

Training and scoring are the vip package's (`train_from_store`, `score_clients`: consent
filtered through the gateway, reasons from SHAP contributions); this module only adapts them
to the registry and the score store. Reasons become `{"text": ...}` like every other score.
The card carries the fairness audit of the validation clients (the later cohort by first
contact, scored before the booster saw them): who the top 10 % would select against who became
a top client, by the age band, income band and country clients declared (`models.sensitive`,
through consent); clients without one are reported as "unknown", never given a value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from maison.models.features.service import READER
from maison.models.registry import LoadedModel
from maison.models.scores import ScoreRow, active_clients
from maison.models.trainers import ModelSpec, Trained, register
from maison.models.vip import service as vip

NAME = "future_vip"


def train(conn: Connection, *, as_of: datetime) -> Trained:
    clients = active_clients(conn)
    model = vip.train_from_store(conn, clients, at=as_of, audit=True)
    metrics: dict[str, Any] = model.card_metrics() if hasattr(model, "card_metrics") else {}
    return Trained(
        model=model, data_start=None, data_end=as_of, fingerprint=str(getattr(model, "fingerprint_", "")) or "unknown",
        n_clients=len(clients), metrics=metrics, fairness=getattr(model, "fairness_", None),
        params={k: v for k, v in model.get_params().items() if k != "spec"} if hasattr(model, "get_params") else {},
    )


def scorer(loaded: LoadedModel) -> Callable[[Connection, Sequence[str], datetime], list[ScoreRow]]:
    def score(conn: Connection, client_ids: Sequence[str], at: datetime) -> list[ScoreRow]:
        found = vip.score_clients(conn, client_ids, at, loaded.model)
        return [ScoreRow(s.client_id, s.score, [{"text": str(r)} for r in s.reasons], tuple(s.data_categories))
                for s in found]

    return score


SPEC = register(ModelSpec(
    name=NAME,
    description="Future VIP: probability of reaching the top value decile within 12 months, from the first 30 days.",
    categories=tuple(READER.categories),
    train=train,
    scorer=scorer,
))
