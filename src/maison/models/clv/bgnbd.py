"""BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way".

While active, a client buys at rate lambda ~ Gamma(r, alpha); after each repeat purchase she
drops out with probability p ~ Beta(a, b). Likelihood (FHL 2005, eq. 6), per client:

    log L = A1 + A2 + log(exp(A3) + [x > 0] exp(A4))
    A1 = lnG(r + x) - lnG(r) + r ln alpha
    A2 = lnG(a + b) + lnG(b + x) - lnG(b) - lnG(a + b + x)
    A3 = -(r + x) ln(alpha + T)
    A4 = ln a - ln(b + x - 1) - (r + x) ln(alpha + t_x)

A1 and A2 depend on x alone and are summed once per distinct frequency; the gradient is analytic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln

from maison.models.clv.base import (
    LOG_SPAN,
    Estimator,
    Problem,
    check_history,
    check_horizon,
    prediction_inputs,
)
from maison.models.clv.data import Rows, compress, dot, rfm_columns, weight_column, weighted_count
from maison.models.clv.optimize import Objective
from maison.models.clv.special import hyp2f1_complement
from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class _Data:
    """Compressed rows split for the likelihood: clients without repeat purchases contribute
    -r ln(alpha + T) only and are summed per distinct T; the others per distinct row, with
    ln(alpha + t) evaluated once per distinct age and recency and gathered."""

    xs: Floats  # distinct frequencies and their total weights
    wx: Floats
    ages: Floats  # distinct T, and the weight of clients without repeat purchases at each
    w_none: Floats
    x: Floats  # rows of repeat buyers
    w: Floats
    x_index: NDArray[np.intp]  # row -> distinct frequency
    age_index: NDArray[np.intp]  # row -> distinct T
    recencies: Floats
    recency_index: NDArray[np.intp]
    n: float
    scale: float  # oldest age: alpha is penalised as alpha / scale, as lifetimes does


def _prepare(rows: Rows) -> _Data:
    x, t_x, age = rows.columns
    xs, x_index = np.unique(x, return_inverse=True)
    ages, age_index = np.unique(age, return_inverse=True)
    repeat = x > 0
    w_none = weighted_count(age_index[~repeat], rows.weight[~repeat], len(ages))
    recencies, recency_index = np.unique(t_x[repeat], return_inverse=True)
    return _Data(
        xs, weighted_count(x_index, rows.weight, len(xs)), ages, w_none, x[repeat], rows.weight[repeat],
        x_index[repeat], age_index[repeat], recencies, recency_index, rows.total_weight, float(age.max()),
    )


def _nll(log_params: Floats, d: _Data, penalizer: float) -> tuple[float, Floats]:
    theta = np.exp(log_params)
    r, alpha, a, b = theta
    xs, wx, x, w = d.xs, d.wx, d.x, d.w
    # terms of the frequency alone
    ll = dot(wx, gammaln(r + xs) + gammaln(b + xs) - gammaln(a + b + xs))
    ll += d.n * (-gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(b))
    g_r = dot(wx, digamma(r + xs)) + d.n * (np.log(alpha) - digamma(r))
    g_alpha = d.n * r / alpha
    g_a = d.n * digamma(a + b) - dot(wx, digamma(a + b + xs))
    g_b = d.n * (digamma(a + b) - digamma(b)) + dot(wx, digamma(b + xs) - digamma(a + b + xs))
    # clients without repeat purchases: -r ln(alpha + T), per distinct T
    log_age, inv_age = np.log(alpha + d.ages), 1.0 / (alpha + d.ages)
    ll -= r * dot(d.w_none, log_age)
    g_r -= dot(d.w_none, log_age)
    g_alpha -= r * dot(d.w_none, inv_age)
    # repeat buyers: log(exp(A3) + exp(A4)) per distinct row
    log_t, inv_t = log_age[d.age_index], inv_age[d.age_index]
    log_tx, inv_tx = np.log(alpha + d.recencies)[d.recency_index], (1.0 / (alpha + d.recencies))[d.recency_index]
    b_x = b + np.maximum(xs, 1) - 1  # b + x - 1 per distinct frequency (x = 0 is not used here)
    inv_b_x = (1.0 / b_x)[d.x_index]
    rx = r + x
    a3 = -rx * log_t
    a4 = (np.log(a) - np.log(b_x))[d.x_index] - rx * log_tx
    gap = a4 - a3
    small = np.exp(-np.abs(gap))
    ll += dot(w, np.maximum(a3, a4) + np.log1p(small))
    share = small / (1 + small)
    p4 = np.where(gap > 0, 1 - share, share)  # weight of "dropped out after the last purchase"
    p3 = 1 - p4
    g_r -= dot(w, p3 * log_t + p4 * log_tx)
    g_alpha -= dot(w, rx * (p3 * inv_t + p4 * inv_tx))
    g_a += dot(w, p4) / a
    g_b -= dot(w, p4 * inv_b_x)
    scaled = theta * np.array([1.0, 1.0 / d.scale, 1.0, 1.0])
    value = -ll / d.n + penalizer * dot(scaled, scaled)
    grad = -np.array([g_r, g_alpha, g_a, g_b]) * theta / d.n + 2 * penalizer * scaled**2
    return value, grad


class BGNBD(Estimator):
    """Beta-geometric/NBD transaction model, fitted by maximum likelihood.

    Hyper-parameters: `penalizer` adds `penalizer * (r^2 + (alpha/T_max)^2 + a^2 + b^2)` to the
    mean negative log-likelihood (lifetimes' `penalizer_coef`, which penalises alpha in time
    scaled to the oldest client); `tol` and `max_iter` steer the optimiser.

    Learned: `params_` (r, alpha, a, b; alpha in the time unit of the data), `summary_`,
    `covariance_`, `log_likelihood_`, `n_clients_`, `n_rows_` (distinct rows fitted),
    `n_iter_`, `optimizer_`, `fingerprint_`.
    """

    param_names = ("r", "alpha", "a", "b")
    model_name = "BG/NBD"

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Fit to repeat-purchase counts, time from first to last purchase, and age (one unit).

        `weights` counts clients sharing a row; rows are compressed to distinct values anyway.
        """
        self._check_hyper_parameters()
        x, t_x, age = rfm_columns(frequency, recency, T)
        if not (x > 0).any():
            raise ModelInputError(f"{self.model_name} needs some clients with frequency > 0: none were given")
        rows = compress(x, t_x, age, weights=weight_column(weights, len(x)))
        data = _prepare(rows)
        penalizer = float(self.penalizer)
        start = np.log(np.array([1.0, data.scale, 1.0, 1.0]))
        return self._solve(Problem(
            objective=Objective(lambda v: _nll(v, data, penalizer)[0], lambda v: _nll(v, data, penalizer)),
            unpenalised=Objective(lambda v: _nll(v, data, 0.0)[0]),
            x0=start, bounds=[(s - LOG_SPAN, s + LOG_SPAN) for s in start], rows=rows, n=data.n,
        ))

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Floats:
        """Log-likelihood of each client's history under the fitted parameters."""
        r, alpha, a, b = self._params()
        x, t_x, age = rfm_columns(frequency, recency, T)
        a3 = -(r + x) * np.log(alpha + age)
        a4 = np.where(x > 0, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Floats:
        """P(still active at T | history) (Fader, Hardie & Lee 2008, note 021); 1 without repeats."""
        r, alpha, a, b = self._params()
        x, t_x, age = prediction_inputs(frequency, recency, T)
        check_history(x, t_x, age)
        log_odds_dead = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1) - 1))
        return np.asarray(np.where(x == 0, 1.0, expit(-log_odds_dead)), dtype=np.float64)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Floats:
        """E[repeat purchases in (T, T + t] | history] (FHL 2005, eq. 10)."""
        r, alpha, a, b = self._params()
        t, x, t_x, age = prediction_inputs(t, frequency, recency, T)
        check_horizon(t)
        check_history(x, t_x, age)
        z = t / (alpha + age + t)
        log_scale = (r + x) * np.log((alpha + age) / (alpha + age + t))

        def unconditional_part(a: float, b: float) -> Floats:
            bracket = hyp2f1_complement(r + x, b + x, a + b + x - 1, z, log_scale)
            return np.asarray((a + b + x - 1) / (a - 1) * bracket, dtype=np.float64)

        return np.asarray(_removable(unconditional_part, a, b) * self.probability_alive(x, t_x, age), dtype=np.float64)

    def expected_purchases(self, t: ArrayLike) -> Floats:
        """E[repeat purchases in (0, t]] of a new client (FHL 2005, eq. 9)."""
        r, alpha, a, b = self._params()
        (t,) = prediction_inputs(t)
        check_horizon(t)

        def at(a: float, b: float) -> Floats:
            bracket = hyp2f1_complement(r, b, a + b - 1, t / (alpha + t), r * np.log(alpha / (alpha + t)))
            return np.asarray((a + b - 1) / (a - 1) * bracket, dtype=np.float64)

        return _removable(at, a, b)


_NEAR, _STEP = 1e-7, 1e-5


def _removable(f: Callable[[float, float], Floats], a: float, b: float) -> Floats:
    """f(a, b) for expressions with a removable singularity at a = 1 (0/0) or a + b = 1 (a pole
    of 2F1 at c = 0, times c = 0): there, the mean of f on either side (relative error ~1e-10),
    as the expectation is smooth in a and b."""
    if abs(a - 1) < _NEAR:
        return (f(1 - _STEP, b) + f(1 + _STEP, b)) / 2
    if abs(a + b - 1) < _NEAR:
        return (f(a, b - _STEP) + f(a, b + _STEP)) / 2
    return f(a, b)
