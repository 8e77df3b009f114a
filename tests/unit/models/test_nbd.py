"""NBD: the no-dropout transaction model CLV falls back to when BG/NBD's dropout is not identified."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from maison.models.clv import BGNBD, simulate
from maison.models.clv.nbd import NBD
from maison.models.clv.service import _transaction_model
from maison.models.exceptions import NotFittedError


def steady_buyers(n: int, *, r: float = 2.0, alpha: float = 8.0, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    T = rng.uniform(5, 40, n)
    x = rng.poisson(rng.gamma(r, 1 / alpha, n) * T).astype(float)
    recency = np.where(x > 0, T * rng.beta(np.maximum(x, 1), 1), 0.0)
    return SimpleNamespace(frequency=x, recency=recency, T=T)


def test_nbd_recovers_the_rate_distribution_it_was_simulated_from():
    data = steady_buyers(20_000)
    model = NBD().fit(data.frequency, data.recency, data.T)
    assert model.params_["r"] == pytest.approx(2.0, rel=0.05)
    assert model.params_["alpha"] == pytest.approx(8.0, rel=0.05)


def test_nbd_expects_the_posterior_rate_times_the_horizon_and_never_drops_anyone():
    model = NBD().fit(*vars(steady_buyers(2_000)).values())
    r, alpha = model.params_["r"], model.params_["alpha"]
    expected = model.conditional_expected_purchases(10.0, [0, 3], [0, 5], [20, 20])
    assert expected == pytest.approx([r / (alpha + 20) * 10, (r + 3) / (alpha + 20) * 10])
    assert (model.probability_alive([0, 3], [0, 5], [20, 20]) == 1).all()


def test_nbd_must_be_fitted_first():
    with pytest.raises(NotFittedError):
        NBD().conditional_expected_purchases(1.0, [1], [1], [2])


def test_clv_falls_back_to_nbd_only_when_bgnbd_is_not_identified():
    steady = steady_buyers(3_000, alpha=2.0)  # frequent buyers, none leaving: the MLE of a is 0
    model, why = _transaction_model(steady)
    assert isinstance(model, NBD) and why is not None and "BG/NBD not identified" in why
    rng = np.random.default_rng(4)
    T = rng.uniform(10, 40, 3_000)
    x, t_x = simulate.bgnbd(T, r=0.5, alpha=5.0, a=0.8, b=2.5, rng=rng)
    model, why = _transaction_model(SimpleNamespace(frequency=x, recency=t_x, T=T))
    assert isinstance(model, BGNBD) and why is None
