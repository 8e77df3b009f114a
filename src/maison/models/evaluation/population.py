"""The population evaluation: early scores of new customers against the hidden truth.

Evaluation only. The truth file (`population_truth.csv`) and the identify traits of
`population.ndjson` are read here to *measure* the product, never by the product: the model
trains on what the store observed (`vip.train_from_store`), without the clients it is then
scored on, and scores through the consent gateway like any production scoring run.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from maison.core.schema import clients, identities
from maison.models.evaluation.baselines import bgnbd_value, early_spend
from maison.models.evaluation.goals import goal
from maison.models.evaluation.run import compare, fairness, fairness_of_baselines, versus
from maison.models.features.pipeline import compute
from maison.models.features.service import READER, catalog_tables
from maison.models.features.spec import DAY
from maison.models.vip.service import score_clients, train_from_store

LAST_FIRST_PURCHASE = "2026-02-28"


@dataclass(frozen=True)
class Truth:
    vip: pd.Series  # customer id -> vip_12m
    first_purchase: pd.Series  # customer id -> date


def read_truth(path: Path, *, last_first_purchase: str = LAST_FIRST_PURCHASE, sample: int | None = None) -> Truth:
    with path.open() as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["is_new_customer"] == "1"
            and r["first_purchase_date"]
            and r["first_purchase_date"] <= last_first_purchase
        ]
    if sample is not None:
        rows = rows[:sample]
    return Truth(
        pd.Series({r["customer_id"]: int(r["vip_12m"]) for r in rows}),
        pd.Series({r["customer_id"]: r["first_purchase_date"] for r in rows}),
    )


def read_traits(ndjson: Path, user_ids: set[str]) -> pd.DataFrame:
    """Age band and country of these customers from their identify calls (for the fairness audit)."""
    traits: dict[str, dict[str, str]] = {}
    with ndjson.open() as f:
        for line in f:
            if '"identify"' not in line:
                continue
            message = json.loads(line)
            user = message.get("userId")
            if user in user_ids:
                t = message.get("traits") or {}
                traits.setdefault(user, {}).update({k: str(t[k]) for k in ("age_band", "country") if t.get(k)})
    frame = pd.DataFrame.from_dict(traits, orient="index").reindex(sorted(user_ids))
    return frame.rename(columns={"country": "geography"}).fillna("unknown")


def evaluate_population(
    conn: Connection,
    truth: Truth,
    *,
    end: datetime,
    traits: pd.DataFrame | None = None,
    fraction: float = 0.1,
) -> dict[str, Any]:
    """Maison vs the baselines on new customers, each scored 30 days after their first purchase."""
    user_ids = dict(
        conn.execute(select(identities.c.value, identities.c.client_id).where(identities.c.kind == "user")).all()
    )
    known = [u for u in truth.vip.index if u in user_ids]
    when = {
        user_ids[u]: datetime.fromisoformat(truth.first_purchase[u]).replace(tzinfo=UTC) + timedelta(days=30)
        for u in known
    }
    everyone = [c for (c,) in conn.execute(select(clients.c.id))]
    model = train_from_store(conn, everyone, at=end, exclude=when)
    scored = {s.client_id: s.score for s in score_clients(conn, when, when, model)}
    # The baselines read the same consented purchases, cut at each client's own instant.
    from maison.consent import gateway
    from maison.models.features.events import from_messages

    messages = gateway.read(conn, READER, list(when), at=max(when.values()))
    long = from_messages(messages)
    long = long[long["t"] < long["client_id"].map({c: int(t.timestamp()) for c, t in when.items()})]
    catalog, collections = catalog_tables(conn)
    features = compute(long, catalog, collections, model.spec_).set_index("client_id")
    ids = [c for c in when if c in scored and c in features.index]
    to_user = {user_ids[u]: u for u in known}
    y = pd.Series([int(truth.vip[to_user[c]]) for c in ids], index=ids)
    window_end = features.loc[ids, "first_contact"] + model.spec_.window_days * DAY
    scores = {
        "maison": np.array([scored[c] for c in ids]),
        "early_spend": early_spend(features.loc[ids]),
        "bgnbd_gamma_gamma": bgnbd_value(long, window_end).reindex(ids).to_numpy(),
    }
    sensitive = pd.DataFrame()
    if traits is not None and not traits.empty:
        sensitive = traits.reindex([to_user[c] for c in ids]).set_index(pd.Index(ids)).fillna("unknown")
    metrics, vs = compare(y, scores, fraction=fraction), versus(y, scores)
    return {
        "dataset": "population",
        "window_days": model.spec_.window_days,
        "train_clients": model.validation_["rows_train"] + model.validation_["rows_validation"],
        "test_clients": len(ids),
        "metrics": metrics,
        "versus": vs,
        "goal": goal(metrics, vs, behaviour=True),
        "calibration": {k: model.validation_[k] for k in ("brier", "brier_uncalibrated", "calibration")},
        "boosting": {k: model.validation_[k] for k in ("trees", "tree_size")},
        "fairness": fairness(y, scores["maison"], sensitive, fraction=fraction),
        "fairness_baselines": fairness_of_baselines(y, scores, sensitive, fraction=fraction),
    }
