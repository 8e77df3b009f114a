"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005, "RFM and CLV"), Fader & Hardie note 025.

A client's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across clients; the
mean m of her x repeat transactions then has, per client (note 025, eq. 1a),

    log L = lnG(px + q) - lnG(px) - lnG(q) + q ln gamma + (px - 1) ln m + px ln x
            - (px + q) ln(gamma + x m)

Only the last term mixes a parameter with the continuous m. Spend is continuous, so rows do
not compress; instead the frequency-only terms are summed once per distinct x, the sums of ln m
once per fit, and the last term either directly (a log per client per evaluation) or, from
200,000 clients on, from per-bucket moments exact to rounding (see `_SpendSums`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from maison.models.clv.base import LOG_SPAN, Estimator, Problem, prediction_inputs
from maison.models.clv.data import (
    Rows,
    as_column,
    check_counts,
    check_lengths,
    dot,
    weight_column,
    weighted_count,
)
from maison.models.clv.optimize import Objective
from maison.models.clv.value import Transactions, discounted_value
from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]


GRID_MIN_CLIENTS = 200_000  # below this, one pass over clients per evaluation is cheaper
_GRID_STEP = 2.0**-10  # relative width of a spend bucket
_GRID_TERMS = 5  # moments kept per bucket: truncation error < step^5 / 5, below 1e-15


@dataclass(frozen=True)
class _SpendSums:
    """Sums over clients of w ln(gamma + z), w x ln(gamma + z) and the matching 1 / (gamma + z).

    z = x m is a client's total repeat spend. Directly: one log and one reciprocal per client.
    On the grid: clients are bucketed by z into buckets of relative width 2^-10 starting at c;
    with d = z - c, ln(gamma + z) = ln(gamma + c) + sum_j (-1)^(j+1) / j (d / (gamma + c))^j
    and d / (gamma + c) < 2^-10, so five moments of d per bucket give every sum to rounding
    error, and an evaluation costs a pass over buckets (thousands) instead of clients (millions).
    """

    spend: Floats | None  # direct: z of each client
    w: Floats | None
    wx: Floats | None
    centre: Floats | None  # grid: lower edge of each bucket
    moments_w: Floats | None  # (terms, buckets): sum of w d^j
    moments_wx: Floats | None  # sum of w x d^j

    def at(self, g: float) -> tuple[float, float, float, float]:
        """(sum w ln, sum w x ln, sum w / (g + z), sum w x / (g + z))."""
        if self.spend is not None:
            assert self.w is not None and self.wx is not None
            log_total, inverse = np.log(g + self.spend), 1.0 / (g + self.spend)
            return dot(self.w, log_total), dot(self.wx, log_total), dot(self.w, inverse), dot(self.wx, inverse)
        assert self.centre is not None and self.moments_w is not None and self.moments_wx is not None
        base = g + self.centre
        powers = np.cumprod(np.broadcast_to(1.0 / base, (_GRID_TERMS, len(base))), axis=0)  # base^-j
        j = np.arange(1, _GRID_TERMS)[:, None]
        log_coef = np.vstack([np.log(base)[None, :], (-1.0) ** (j + 1) / j * powers[:-1]])
        inv_coef = (-1.0) ** np.arange(_GRID_TERMS)[:, None] * powers
        return (
            float(np.sum(log_coef * self.moments_w)), float(np.sum(log_coef * self.moments_wx)),
            float(np.sum(inv_coef * self.moments_w)), float(np.sum(inv_coef * self.moments_wx)),
        )


def _spend_sums(x: Floats, m: Floats, w: Floats, *, grid: bool) -> _SpendSums:
    z = x * m
    if not grid:
        return _SpendSums(z, w, w * x, None, None, None)
    bucket = np.floor(np.log(z) / _GRID_STEP).astype(np.int64)
    low = int(bucket.min())
    code = bucket - low
    size = int(code.max()) + 1
    edges = np.exp((np.arange(size) + low) * _GRID_STEP)
    d = z - edges[code]
    wx = w * x
    moments_w, moments_wx = np.empty((_GRID_TERMS, size)), np.empty((_GRID_TERMS, size))
    power = np.ones_like(d)
    for j in range(_GRID_TERMS):
        moments_w[j] = weighted_count(code, w * power, size)
        moments_wx[j] = weighted_count(code, wx * power, size)
        power *= d
    used = moments_w[0] > 0
    return _SpendSums(None, None, None, edges[used], moments_w[:, used], moments_wx[:, used])


@dataclass(frozen=True)
class _Data:
    sums: _SpendSums
    xs: Floats  # distinct frequencies
    ws: Floats  # total weight per distinct frequency
    sum_w_log_m: float
    sum_wx_log_m: float
    n: float


def _prepare(x: Floats, m: Floats, w: Floats, *, grid: bool | None = None) -> _Data:
    counts = weighted_count(x.astype(np.int64), w, int(x.max()) + 1)
    xs = np.flatnonzero(counts)
    log_m = np.log(m)
    use_grid = len(x) >= GRID_MIN_CLIENTS if grid is None else grid
    return _Data(
        _spend_sums(x, m, w, grid=use_grid), xs.astype(np.float64), counts[xs],
        dot(w, log_m), dot(w * x, log_m), float(w.sum()),
    )


def _nll(log_params: Floats, d: _Data, penalizer: float) -> tuple[float, Floats]:
    theta = np.exp(log_params)
    p, q, g = theta
    xs, ws = d.xs, d.ws
    px = p * xs
    ll = dot(ws, gammaln(px + q) - gammaln(px) + px * np.log(xs))
    ll += d.n * (q * np.log(g) - gammaln(q)) + p * d.sum_wx_log_m - d.sum_w_log_m
    g_p = dot(ws, xs * (digamma(px + q) - digamma(px) + np.log(xs))) + d.sum_wx_log_m
    g_q = dot(ws, digamma(px + q)) + d.n * (np.log(g) - digamma(q))
    s0, s1, r0, r1 = d.sums.at(g)
    ll -= p * s1 + q * s0
    value = -ll / d.n + penalizer * dot(theta, theta)
    grad = np.array([g_p - s1, g_q - s0, d.n * q / g - (p * r1 + q * r0)])
    return value, -grad * theta / d.n + 2 * penalizer * theta**2


class GammaGamma(Estimator):
    """Gamma-Gamma model of the average value of a client's repeat transactions.

    Fit on clients with at least one repeat purchase; rows with frequency 0 carry no spend
    information and are left out (so the summary of all clients can be passed as is). Assumes
    spend is independent of purchase frequency: check the correlation before trusting the CLV.

    Hyper-parameters: `penalizer` adds `penalizer * (p^2 + q^2 + gamma^2)` to the mean negative
    log-likelihood (lifetimes' `penalizer_coef`); `tol`, `max_iter` steer the optimiser.
    Learned: `params_` (p, q, gamma), `summary_`, `covariance_`, `log_likelihood_`,
    `n_clients_` (repeat clients used), `n_rows_`, `n_iter_`, `optimizer_`, `fingerprint_`.
    """

    param_names = ("p", "q", "gamma")
    model_name = "Gamma-Gamma"

    def fit(self, frequency: ArrayLike, monetary: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Fit to repeat-purchase counts and the mean value of those repeat purchases."""
        self._check_hyper_parameters()
        x, m = as_column(frequency, "frequency"), as_column(monetary, "monetary")
        n = check_lengths(frequency=x, monetary=m)
        check_counts(x)
        w = weight_column(weights, n)
        repeat = x > 0
        if (m[repeat] <= 0).any():
            raise ModelInputError("monetary must be > 0 where frequency > 0 (mean value of repeat purchases)")
        if not repeat.any():
            raise ModelInputError("Gamma-Gamma needs clients with frequency > 0: none were given")
        x, m = x[repeat], m[repeat]
        w = np.ones(len(x)) if w is None else w[repeat]
        data = _prepare(x, m, w)
        penalizer = float(self.penalizer)
        start = np.log(np.array([2.0, 2.0, float(np.median(m))]))  # q = 2: a finite mean spend
        return self._solve(Problem(
            objective=Objective(lambda v: _nll(v, data, penalizer)[0], lambda v: _nll(v, data, penalizer)),
            unpenalised=Objective(lambda v: _nll(v, data, 0.0)[0]),
            x0=start, bounds=[(s - LOG_SPAN, s + LOG_SPAN) for s in start],
            rows=Rows((x, m), w), n=data.n,
        ))

    def log_likelihood(self, frequency: ArrayLike, monetary: ArrayLike) -> Floats:
        """Log-likelihood of each repeat client's mean spend (frequency must be > 0)."""
        p, q, g = self._params()
        x, m = as_column(frequency, "frequency"), as_column(monetary, "monetary")
        check_lengths(frequency=x, monetary=m)
        if (x <= 0).any() or (m <= 0).any():
            raise ModelInputError("log_likelihood needs frequency > 0 and monetary > 0")
        px = p * x
        return np.asarray(
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(m)
            + px * np.log(x) - (px + q) * np.log(g + x * m),
            dtype=np.float64,
        )

    def conditional_expected_average_profit(self, frequency: ArrayLike, monetary: ArrayLike) -> Floats:
        """E[mean transaction value | x, m] (note 025, eq. 5): the population mean p gamma / (q - 1)
        shrunk towards the client's own mean as her repeat purchases accumulate."""
        p, q, g = self._params()
        if q <= 1:
            raise ModelInputError(f"the expected spend needs q > 1; this fit has q = {q:.3g} (infinite mean)")
        x, m = prediction_inputs(frequency, monetary)
        check_counts(x.reshape(-1))
        weight = p * x / (p * x + q - 1)
        return np.asarray((1 - weight) * (g * p / (q - 1)) + weight * m, dtype=np.float64)

    def customer_lifetime_value(
        self, transaction_model: Transactions, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
        monetary: ArrayLike, *, time: int = 12, discount_rate: float = 0.01, freq: str = "W",
    ) -> Floats:
        """Discounted value of the next `time` months, lifetimes' `customer_lifetime_value`.

        Expected spend per purchase from this model times the transaction model's expected
        purchases in each month, discounted at `discount_rate` per month; `freq` is the time unit
        of recency and T ("H", "D", "W" or "M"). See `maison.models.clv.value.discounted_value`.
        """
        spend = self.conditional_expected_average_profit(frequency, monetary)
        return discounted_value(
            transaction_model, frequency, recency, T, spend, time=time, discount_rate=discount_rate, freq=freq,
        )
