"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987); likelihood as in Fader & Hardie, note 009.

While active, a client buys at rate lambda ~ Gamma(r, alpha); her lifetime is exponential with
rate mu ~ Gamma(s, beta). Per client (note 009, eq. 18-20):

    L = G(r+x) a^r b^s / G(r) * [ 1 / ((alpha+T)^(r+x) (beta+T)^s) + s / (r+s+x) * A0 ]
    A0 = F(t_x) - F(T),  F(t) = 2F1(r+s+x, k; r+s+x+1; |alpha-beta| / (m+t)) / (m+t)^(r+s+x)
    with m = max(alpha, beta), k = s+1 if alpha >= beta else r+x.

Computed in log space: log A0 = log F(t_x) + log(1 - exp(log F(T) - log F(t_x))), the two
hypergeometric terms evaluated once per distinct (x, t_x) and (x, T) pair, then a log-sum-exp.
The gradient is analytic except for the derivatives of 2F1 in its parameters a and k, which
scipy lacks: those are central differences of log 2F1 (see `_log_f_and_grad`).
"""

from __future__ import annotations

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
from maison.models.clv.data import (
    Rows,
    compress,
    dot,
    group_index,
    rfm_columns,
    weight_column,
    weighted_count,
)
from maison.models.clv.optimize import Objective
from maison.models.clv.special import log1mexp, log_hyp2f1_next
from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class _Pairs:
    """Distinct (x, t) pairs and, per row, which pair it uses."""

    x: Floats
    t: Floats
    index: Ints


@dataclass(frozen=True)
class _Data:
    x: Floats
    T: Floats
    w: Floats
    xs: Floats
    wx: Floats
    at_recency: _Pairs
    at_age: _Pairs
    n: float
    scale: float


def _pairs(x: Floats, t: Floats) -> _Pairs:
    (px, pt), index = group_index(x, t)
    return _Pairs(px, pt, index)


def _prepare(rows: Rows) -> _Data:
    x, t_x, age = rows.columns
    xs, inverse = np.unique(x, return_inverse=True)
    wx = weighted_count(inverse, rows.weight, len(xs))
    return _Data(x, age, rows.weight, xs, wx, _pairs(x, t_x), _pairs(x, age), rows.total_weight, float(age.max()))


def _log_f(x: Floats, t: Floats, r: float, alpha: float, s: float, beta: float) -> Floats:
    """log F(t) of A0 = F(t_x) - F(T) (note 009, eq. 19-20)."""
    top = max(alpha, beta)
    k = s + 1 if alpha >= beta else r + x
    rsx = r + s + x
    z = abs(alpha - beta) / (top + t)
    return log_hyp2f1_next(rsx, k, z) - rsx * np.log(top + t)


def _log_f_and_grad(x: Floats, t: Floats, params: Floats) -> tuple[Floats, Floats]:
    """log F(t) and its gradient in (r, alpha, s, beta), shape (4, n).

    With H(a, k, z) = log 2F1(a, k; a+1; z): dH/dz is closed form (a k / (a+1) times the ratio
    2F1(a+1, k+1; a+2; z) / 2F1(a, k; a+1; z)); dH/da and dH/dk, which scipy lacks, are central
    differences of H alone. Everything else in the likelihood is differentiated exactly.
    """
    r, alpha, s, beta = params
    a = r + s + x
    alpha_top = alpha >= beta
    top, other = (alpha, beta) if alpha_top else (beta, alpha)
    k = np.full_like(a, s + 1) if alpha_top else r + x
    z = (top - other) / (top + t)
    log_top = np.log(top + t)
    h = log_hyp2f1_next(a, k, z)
    h_z = a * k / (a + 1) * np.exp(log_hyp2f1_next(a + 1, k + 1, z) - h)
    da, dk = 1e-5 * a, 1e-5 * k
    h_a = (log_hyp2f1_next(a + da, k, z) - log_hyp2f1_next(a - da, k, z)) / (2 * da)
    h_k = (log_hyp2f1_next(a, k + dk, z) - log_hyp2f1_next(a, k - dk, z)) / (2 * dk)
    d_top = h_z * (other + t) / (top + t) ** 2 - a / (top + t)  # through z and (top + t)^-a
    d_other = -h_z / (top + t)
    d_r = h_a - log_top + (0.0 if alpha_top else h_k)
    d_s = h_a - log_top + (h_k if alpha_top else 0.0)
    d_alpha, d_beta = (d_top, d_other) if alpha_top else (d_other, d_top)
    return h - a * log_top, np.stack(np.broadcast_arrays(d_r, d_alpha, d_s, d_beta))


def _log_a0(log_f_recency: Floats, log_f_age: Floats) -> Floats:
    """log(F(t_x) - F(T)); -inf where t_x = T (the client bought at the end of observation)."""
    return log_f_recency + log1mexp(np.minimum(log_f_age - log_f_recency, 0.0))


def _row_terms(x: Floats, age: Floats, log_a0: Floats, params: tuple[float, ...]) -> tuple[Floats, Floats]:
    """(log of 'alive at T' term, log of 'died in (t_x, T]' term) of each row."""
    r, alpha, s, beta = params
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    died = np.log(s) - np.log(r + s + x) + log_a0
    return alive, died


def _nll(log_params: Floats, d: _Data, penalizer: float) -> tuple[float, Floats]:
    """Mean negative log-likelihood and its gradient in log-parameters.

    Row work is a log-sum-exp per distinct row; the gradient's row weights are summed back to
    the distinct (x, t_x) and (x, T) pairs with bincount before meeting the pair derivatives.
    """
    theta = np.exp(log_params)
    r, alpha, s, beta = theta
    if not np.all(np.isfinite(theta)):
        return float("inf"), np.zeros(4)
    ll = dot(d.wx, gammaln(r + d.xs)) + d.n * (-gammaln(r) + r * np.log(alpha) + s * np.log(beta))
    grad = np.array([
        dot(d.wx, digamma(r + d.xs)) + d.n * (np.log(alpha) - digamma(r)), d.n * r / alpha,
        d.n * np.log(beta), d.n * s / beta,
    ])
    rec, age = d.at_recency, d.at_age
    u1, du1 = _log_f_and_grad(rec.x, rec.t, theta)
    u2, du2 = _log_f_and_grad(age.x, age.t, theta)
    log_alpha_t, log_beta_t = np.log(alpha + age.t), np.log(beta + age.t)
    alive_pair = -(r + age.x) * log_alpha_t - s * log_beta_t  # "alive at T" depends on (x, T) only
    u1_row = u1[rec.index]
    gap = np.minimum(u2[age.index] - u1_row, 0.0)
    alive = alive_pair[age.index]
    died = np.log(s) - np.log(r + s + d.x) + u1_row + log1mexp(gap)
    total = np.logaddexp(alive, died)
    ll += dot(d.w, total)
    w_alive, w_died = d.w * np.exp(alive - total), d.w * np.exp(died - total)
    rho = np.exp(gap)  # F(T) / F(t_x); the died term vanishes as it nears 1
    spread = np.where(rho < 1.0, 1.0 / -np.expm1(np.where(rho < 1.0, gap, -1.0)), 0.0)
    # d log A0 = (du1 - rho du2) / (1 - rho), summed over rows with weight w_died
    grad += np.einsum("kp,p->k", du1, weighted_count(rec.index, w_died * spread, len(rec.x)))
    grad -= np.einsum("kp,p->k", du2, weighted_count(age.index, w_died * spread * rho, len(age.x)))
    alive_w = weighted_count(age.index, w_alive, len(age.x))
    died_w = weighted_count(age.index, w_died, len(age.x))
    inv_rsx = 1.0 / (r + s + age.x)
    grad[0] -= dot(alive_w, log_alpha_t) + dot(died_w, inv_rsx)
    grad[1] -= dot(alive_w, (r + age.x) / (alpha + age.t))
    grad[2] += -dot(alive_w, log_beta_t) + dot(died_w, 1.0 / s - inv_rsx)
    grad[3] -= s * dot(alive_w, 1.0 / (beta + age.t))
    scaled = theta * np.array([1.0, 1.0 / d.scale, 1.0, 1.0 / d.scale])
    value = -ll / d.n + penalizer * dot(scaled, scaled)
    return value, -grad * theta / d.n + 2 * penalizer * scaled**2


class ParetoNBD(Estimator):
    """Pareto/NBD transaction model, fitted by maximum likelihood.

    Hyper-parameters as `BGNBD` (`penalizer` on r, alpha/T_max, s, beta/T_max, as lifetimes).
    Learned: `params_` (r, alpha, s, beta; alpha and beta in the time unit of the data),
    `summary_`, `covariance_`, `log_likelihood_`, `n_clients_`, `n_rows_`, `n_iter_`,
    `optimizer_`, `fingerprint_`.
    """

    param_names = ("r", "alpha", "s", "beta")
    model_name = "Pareto/NBD"

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Fit to repeat-purchase counts, time from first to last purchase, and age (one unit)."""
        self._check_hyper_parameters()
        x, t_x, age = rfm_columns(frequency, recency, T)
        if not (x > 0).any():
            raise ModelInputError(f"{self.model_name} needs some clients with frequency > 0: none were given")
        rows = compress(x, t_x, age, weights=weight_column(weights, len(x)))
        data = _prepare(rows)
        penalizer = float(self.penalizer)
        start = np.log(np.array([1.0, data.scale, 1.0, data.scale]))
        return self._solve(Problem(
            objective=Objective(lambda v: _nll(v, data, penalizer)[0], lambda v: _nll(v, data, penalizer)),
            unpenalised=Objective(lambda v: _nll(v, data, 0.0)[0]),
            x0=start, bounds=[(s - LOG_SPAN, s + LOG_SPAN) for s in start], rows=rows, n=data.n,
        ))

    def _alive_and_died(self, x: Floats, t_x: Floats, age: Floats) -> tuple[Floats, Floats]:
        params = self._params()
        r, alpha, s, beta = params
        log_a0 = _log_a0(_log_f(x, t_x, r, alpha, s, beta), _log_f(x, age, r, alpha, s, beta))
        return _row_terms(x, age, log_a0, params)

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Floats:
        """Log-likelihood of each client's history under the fitted parameters."""
        r, alpha, s, beta = self._params()
        x, t_x, age = rfm_columns(frequency, recency, T)
        alive, died = self._alive_and_died(x, t_x, age)
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        return np.asarray(head + np.logaddexp(alive, died), dtype=np.float64)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Floats:
        """P(still active at T | history) (note 009, eq. 36-37): the 'alive' share of the likelihood."""
        x, t_x, age = prediction_inputs(frequency, recency, T)
        check_history(x, t_x, age)
        alive, died = self._alive_and_died(x, t_x, age)
        return np.asarray(expit(alive - died), dtype=np.float64)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Floats:
        """E[repeat purchases in (T, T + t] | history] (note 009, eq. 41) = P(alive) E[purchases | alive]."""
        r, alpha, s, beta = self._params()
        t, x, t_x, age = prediction_inputs(t, frequency, recency, T)
        check_horizon(t)
        check_history(x, t_x, age)
        rate = (r + x) / (alpha + age)
        span = (beta + age) * _lifetime_integral(np.log1p(t / (beta + age)), s - 1)
        return np.asarray(self.probability_alive(x, t_x, age) * rate * span, dtype=np.float64)

    def expected_purchases(self, t: ArrayLike) -> Floats:
        """E[repeat purchases in (0, t]] of a new client (note 009, eq. 27)."""
        r, alpha, s, beta = self._params()
        (t,) = prediction_inputs(t)
        check_horizon(t)
        return np.asarray(r / alpha * beta * _lifetime_integral(np.log1p(t / beta), s - 1), dtype=np.float64)


def _lifetime_integral(log_ratio: Floats, k: float) -> Floats:
    """(1 - exp(-k g)) / k, its limit g at k = 0 (s = 1), without cancellation."""
    if abs(k) < 1e-12:
        return log_ratio
    return np.asarray(-np.expm1(-k * log_ratio) / k, dtype=np.float64)
