"""NBD (Gamma-Poisson) transaction model: purchases at a steady, client-specific rate, no dropout.

It is BG/NBD's limit as the dropout parameter a goes to 0, and what a short history supports
when nobody has visibly left yet: there BG/NBD's maximum likelihood sits at a = 0, on the edge
of its parameter space, and `BGNBD.fit` rightly refuses it. `maison.models.clv.service` falls
back to this model then, and says so on the model card. Ehrenberg (1959); Morrison &
Schmittlein (1988).

Likelihood of a client with x repeat purchases over age T (recency does not enter):
    ln Gamma(r + x) - ln Gamma(r) + r ln alpha - (r + x) ln(alpha + T)
E[purchases in (T, T + t] | x, T] = (r + x) / (alpha + T) * t;  P(alive) = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from maison.models.clv.base import LOG_SPAN, Estimator, Problem
from maison.models.clv.data import compress, rfm_columns, weight_column
from maison.models.clv.optimize import Objective
from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class _Data:
    x: Floats
    age: Floats
    w: Floats
    n: float
    scale: float


def _nll(log_params: Floats, d: _Data, penalizer: float) -> tuple[float, Floats]:
    r, alpha = np.exp(log_params)
    log_age = np.log(alpha + d.age)
    ll = np.dot(d.w, gammaln(r + d.x) - gammaln(r) + r * np.log(alpha) - (r + d.x) * log_age)
    g_r = np.dot(d.w, digamma(r + d.x) - digamma(r) + np.log(alpha) - log_age)
    g_alpha = np.dot(d.w, r / alpha - (r + d.x) / (alpha + d.age))
    scaled = np.array([r, alpha / d.scale])
    value = -ll / d.n + penalizer * np.dot(scaled, scaled)
    grad = -np.array([g_r, g_alpha]) * np.array([r, alpha]) / d.n + 2 * penalizer * scaled**2
    return float(value), grad


class NBD(Estimator):
    """Gamma-Poisson purchases without dropout, fitted by maximum likelihood.

    Learned: `params_` (r, alpha), `summary_`, `covariance_`, `log_likelihood_`, `n_clients_`,
    `n_rows_`, `n_iter_`, `optimizer_`, `fingerprint_`.
    """

    param_names = ("r", "alpha")
    model_name = "NBD"

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Self:
        self._check_hyper_parameters()
        x, t_x, age = rfm_columns(frequency, recency, T)
        if not (x > 0).any():
            raise ModelInputError("NBD needs some clients with frequency > 0: none were given")
        rows = compress(x, t_x, age, weights=weight_column(weights, len(x)))
        rx, _, rage = rows.columns
        data = _Data(rx, rage, rows.weight, rows.total_weight, float(rage.max()))
        penalizer = float(self.penalizer)
        start = np.log(np.array([1.0, data.scale]))
        return self._solve(Problem(
            objective=Objective(lambda v: _nll(v, data, penalizer)[0], lambda v: _nll(v, data, penalizer)),
            unpenalised=Objective(lambda v: _nll(v, data, 0.0)[0]),
            x0=start, bounds=[(s - LOG_SPAN, s + LOG_SPAN) for s in start], rows=rows, n=data.n,
        ))

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Floats:
        """Always 1: the model has no dropout."""
        self._params()
        x, _, _ = rfm_columns(frequency, recency, T)
        return np.ones_like(x, dtype=np.float64)

    def conditional_expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike,
                                       T: ArrayLike) -> Floats:
        r, alpha = self._params()
        x, _, age = rfm_columns(frequency, recency, T)
        return np.asarray((r + x) / (alpha + age) * np.asarray(t, dtype=np.float64), dtype=np.float64)
