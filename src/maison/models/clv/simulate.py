"""Seeded synthetic client summaries drawn from the models themselves (tests, benchmarks).

Never real client data. Ages T are given; each draw returns what an analyst would observe.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


def bgnbd(T: Floats, *, r: float, alpha: float, a: float, b: float, rng: np.random.Generator) -> tuple[Floats, Floats]:
    """(frequency, recency): Poisson purchases at rate Gamma(r, alpha), each repeat purchase
    followed by dropout with probability Beta(a, b)."""
    n = len(T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = rng.beta(a, b, n)
    would_buy = rng.poisson(rate * T)  # purchases in (0, T] had she stayed
    last_possible = rng.geometric(dropout)  # index of the repeat purchase after which she leaves
    x = np.minimum(would_buy, last_possible).astype(np.float64)
    return x, _last_purchase(x, would_buy.astype(np.float64), T, rng)


def pareto_nbd(
    T: Floats, *, r: float, alpha: float, s: float, beta: float, rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """(frequency, recency): Poisson purchases at rate Gamma(r, alpha) during an exponential
    lifetime of rate Gamma(s, beta)."""
    n = len(T)
    rate = rng.gamma(r, 1.0 / alpha, n)
    death = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, n))
    active = np.minimum(death, T)
    x = rng.poisson(rate * active).astype(np.float64)
    return x, _last_purchase(x, x, active, rng)


def spend(frequency: Floats, *, p: float, q: float, gamma: float, rng: np.random.Generator) -> Floats:
    """Mean value of each client's repeat purchases (0 without any), Gamma-Gamma."""
    x = np.maximum(frequency, 1)
    scale = rng.gamma(q, 1.0 / gamma, len(x))  # per-client rate nu
    mean = rng.gamma(p * x, 1.0 / (scale * x))
    return np.where(frequency > 0, mean, 0.0)


def _last_purchase(x: Floats, events: Floats, horizon: Floats, rng: np.random.Generator) -> Floats:
    """Time of purchase number x among `events` uniform purchase times in (0, horizon]."""
    repeat = x > 0
    out = np.zeros(len(x))
    out[repeat] = horizon[repeat] * rng.beta(x[repeat], events[repeat] - x[repeat] + 1)
    return out
