"""CLV on the store: BG/NBD + Gamma-Gamma fitted on consented purchases, scored per client.

When the history shows no dropout yet (BG/NBD's likelihood peaks at a = 0 and `BGNBD.fit`
refuses the edge), the NBD (no dropout, P(alive) = 1) is fitted instead and the card says so.

Purchases are read through the consent gateway with the `models.clv.purchases` reader (use
`profile`, category `purchase_history`): a client who objects to profiling, restricted
processing or withdrew purchase history contributes nothing to the fit and is not scored.
An order counts once (by order id) at its `revenue` (else `total`); refunds are not netted.
Clients whose first order falls in the current period (T = 0) wait for the next period.

The score is the expected discounted value of the next `horizon_months`; its reasons give the
probability the client is still active and the expected purchases over the horizon, in words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection

from maison.consent import gateway
from maison.consent.entities import Use
from maison.consent.readers import declare
from maison.core.clock import parse_instant
from maison.core.orders import order_value
from maison.models.clv.bgnbd import BGNBD
from maison.models.clv.gamma_gamma import GammaGamma
from maison.models.clv.nbd import NBD
from maison.models.clv.rfm import rfm_summary
from maison.models.exceptions import ConvergenceError, ModelInputError
from maison.models.registry import LoadedModel, fingerprint
from maison.models.scores import ScoreRow, active_clients
from maison.models.trainers import ModelSpec, Trained, register

NAME = "clv"
CATEGORY = "purchase_history"
READER = declare(
    "models.clv.purchases",
    use=Use.PROFILE,
    categories=(CATEGORY,),
    why="Customer lifetime value (BG/NBD + Gamma-Gamma) is fitted on, and scores, each client's own orders.",
)
ORDER = "Order Completed"


@dataclass
class CLVModel:
    """The fitted pair and how its value is computed; no client identifier is kept."""

    purchases: BGNBD | NBD
    spend: GammaGamma | None
    freq: str = "W"
    horizon_months: int = 12
    discount_rate: float = 0.01
    population_spend: float = 0.0  # mean order value, for a fit without repeat buyers
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Purchases:
    client_id: list[str]
    timestamp: list[datetime]
    amount: list[float]


def read_purchases(conn: Connection, client_ids: Sequence[str], *, at: datetime) -> Purchases:
    """Orders before `at` of the clients whose consent allows profiling on purchase history."""
    found = gateway.read(conn, READER, client_ids, at=at)
    ids: list[str] = []
    times: list[datetime] = []
    amounts: list[float] = []
    for client_id, rows in found.items():
        seen: set[str] = set()
        for row in rows:
            if row.get("event") != ORDER:
                continue
            props = row.get("properties") or {}
            order = str(props.get("order_id") or row.get("messageId"))
            value = order_value(props)  # the amount the profile's RFM sums too
            if order in seen or value is None or value <= 0:
                continue
            seen.add(order)
            ids.append(client_id)
            times.append(parse_instant(str(row["timestamp"])))
            amounts.append(float(value))
    return Purchases(ids, times, amounts)


def _summary(p: Purchases, at: datetime, freq: str) -> Any:
    if not p.client_id:
        raise ModelInputError("no consented purchases to summarise")
    stamps = np.array(p.timestamp, dtype=object)  # aware instants; rfm_summary converts them to UTC
    summary = rfm_summary(np.array(p.client_id), stamps, np.array(p.amount), observation_end=at, freq=freq)
    # A first order in the period that ends at `at` gives T = 0: nothing to learn from yet, and
    # the models need T > 0. Those clients are fitted and scored from the next period on.
    keep = summary.T > 0
    return type(summary)(*(np.asarray(column)[keep] for column in (summary.client_id, summary.frequency,
                                                                     summary.recency, summary.T, summary.monetary)))


def train(conn: Connection, *, as_of: datetime, freq: str = "W") -> Trained:
    """Fit BG/NBD on every consenting buyer and Gamma-Gamma on those with repeat purchases."""
    purchases = read_purchases(conn, active_clients(conn), at=as_of)
    summary = _summary(purchases, as_of, freq)
    transactions, why = _transaction_model(summary)
    repeat = summary.frequency > 0
    spend = GammaGamma().fit(summary.frequency, summary.monetary) if repeat.sum() >= 10 else None
    model = CLVModel(transactions, spend, freq=freq, population_spend=float(np.mean(purchases.amount)))
    alive = transactions.probability_alive(summary.frequency, summary.recency, summary.T)
    metrics: dict[str, Any] = {
        "clients": int(len(summary.client_id)), "repeat_buyers": int(repeat.sum()), "orders": len(purchases.amount),
        "transaction_model": transactions.model_name, "transaction_model_note": why,
        "transactions": {**{k: float(v) for k, v in transactions.params_.items()},
                         "log_likelihood": float(transactions.log_likelihood_)},
        "gamma_gamma": {k: float(v) for k, v in spend.params_.items()} if spend else None,
        "mean_p_alive": float(np.mean(alive)),
    }
    rows = zip(purchases.client_id, (t.isoformat() for t in purchases.timestamp), purchases.amount, strict=True)
    return Trained(
        model=model, data_start=min(purchases.timestamp), data_end=as_of, fingerprint=fingerprint(rows),
        n_clients=int(len(summary.client_id)), metrics=metrics, fairness=None,
        params={"freq": freq, "horizon_months": model.horizon_months, "discount_rate": model.discount_rate},
    )


def _transaction_model(summary: Any) -> tuple[BGNBD | NBD, str | None]:
    """BG/NBD, or NBD when BG/NBD's dropout is not identified (nobody has visibly left yet: its
    likelihood peaks at a = 0, the NBD). The card says which, and why."""
    try:
        return BGNBD().fit(summary.frequency, summary.recency, summary.T), None
    except ConvergenceError as exc:
        nbd = NBD().fit(summary.frequency, summary.recency, summary.T)
        return nbd, f"BG/NBD not identified on this history ({exc.message}); fitted NBD (no dropout) instead"


def predict(model: CLVModel, summary: Any) -> dict[str, np.ndarray[Any, Any]]:
    """P(alive), expected purchases over the horizon and expected discounted value."""
    f, r, t, m = summary.frequency, summary.recency, summary.T, summary.monetary
    periods = {"W": 52.0 / 12, "D": 365.25 / 12, "H": 24 * 365.25 / 12}[model.freq] * model.horizon_months
    alive = model.purchases.probability_alive(f, r, t)
    expected = model.purchases.conditional_expected_purchases(periods, f, r, t)
    if model.spend is not None:
        value = model.spend.customer_lifetime_value(model.purchases, f, r, t, m, time=model.horizon_months,
                                                    discount_rate=model.discount_rate, freq=model.freq)
    else:
        value = expected * model.population_spend
    return {"p_alive": alive, "expected_purchases": expected, "value": value}


UNIT = {"W": "week", "D": "day", "H": "hour"}


def reasons(
    p_alive: float, expected: float, frequency: float, horizon_months: int, *, freq: str = "W",
) -> list[dict[str, Any]]:
    """The score's reasons in words: repeat purchases, P(alive), expected orders."""
    repeat, unit = int(frequency), UNIT.get(freq, "period")
    again = f"You have ordered again in {repeat} different {unit}{'s' if repeat != 1 else ''} after your first order."
    return [
        {"text": again if repeat else "You have placed one order so far.", "code": "repeat_purchases", "value": repeat},
        {"text": f"Estimated chance you are still an active client: {p_alive:.0%}.", "code": "p_alive",
         "value": round(p_alive, 4)},
        {"text": f"Expected orders over the next {horizon_months} months: {expected:.1f}.",
         "code": "expected_purchases", "value": round(expected, 4)},
    ]


def scorer(loaded: LoadedModel) -> Callable[[Connection, Sequence[str], datetime], list[ScoreRow]]:
    model: CLVModel = loaded.model

    def score(conn: Connection, client_ids: Sequence[str], at: datetime) -> list[ScoreRow]:
        purchases = read_purchases(conn, client_ids, at=at)
        if not purchases.client_id:
            return []  # clients who never bought have no CLV estimate
        summary = _summary(purchases, at, model.freq)
        found = predict(model, summary)
        return [
            ScoreRow(str(cid), float(found["value"][i]),
                     reasons(float(found["p_alive"][i]), float(found["expected_purchases"][i]),
                             float(summary.frequency[i]), model.horizon_months, freq=model.freq), (CATEGORY,))
            for i, cid in enumerate(summary.client_id)
        ]

    return score


SPEC = register(ModelSpec(
    name=NAME,
    description="Customer lifetime value: BG/NBD (NBD while no dropout is seen) x Gamma-Gamma spend, 12 months.",
    categories=(CATEGORY,),
    train=train,
    scorer=scorer,
))
