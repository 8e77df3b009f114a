"""Properties of the CLV models that hold for any parameters and any history."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maison.models.clv import BGNBD, GammaGamma, ParetoNBD, simulate
from maison.models.clv import bgnbd as bgnbd_module
from maison.models.clv import gamma_gamma as gg_module
from maison.models.clv import pareto_nbd as pareto_module
from maison.models.clv.base import Estimator
from maison.models.clv.data import compress
from maison.models.clv.optimize import central_gradient

E = TypeVar("E", bound=Estimator)
FAST = settings(max_examples=25, deadline=None)

positive = st.floats(min_value=0.05, max_value=20.0)


def with_params(model: E, params: tuple[float, ...]) -> E:
    """A model whose learned parameters are set directly, to test predictions at any point."""
    model.params_ = dict(zip(model.param_names, params, strict=True))
    return model


@st.composite
def histories(draw: st.DrawFn, size: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-week histories with many repeated rows, as rfm_summary(freq="W") gives."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 10, size).astype(float)
    x = rng.integers(0, 4, size).astype(float)
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, size) * (T + 1)), 0.0)
    x[0], t_x[0] = 1.0, T[0]  # at least one repeat buyer, one at the very end
    return x, np.minimum(t_x, T), T


@FAST
@given(params=st.tuples(positive, positive, positive, positive), data=histories())
@pytest.mark.parametrize("model_type", [BGNBD, ParetoNBD])
def test_probability_alive_is_a_probability(
    model_type: type[Estimator], params: tuple[float, ...], data: tuple
) -> None:
    model = with_params(model_type(), params)
    p = model.probability_alive(*data)  # type: ignore[attr-defined]
    assert np.all((p >= 0) & (p <= 1))


@FAST
@given(params=st.tuples(positive, positive, positive, positive), data=histories())
@pytest.mark.parametrize("model_type", [BGNBD, ParetoNBD])
def test_expected_purchases_grow_with_the_horizon(
    model_type: type[Estimator], params: tuple[float, ...], data: tuple
) -> None:
    model = with_params(model_type(), params)
    horizons = np.array([0.0, 1.0, 5.0, 20.0, 80.0])
    conditional = np.array([model.conditional_expected_purchases(t, *data) for t in horizons])  # type: ignore[attr-defined]
    assert np.isfinite(conditional).all()
    assert np.all(np.diff(conditional, axis=0) >= -1e-9)
    assert np.allclose(conditional[0], 0.0)
    population = model.expected_purchases(horizons)  # type: ignore[attr-defined]
    assert np.all(np.diff(population) >= -1e-12)


@FAST
@given(params=st.tuples(positive, positive, positive, positive), data=histories())
@pytest.mark.parametrize("model_type,module", [(BGNBD, bgnbd_module), (ParetoNBD, pareto_module)])
def test_compressed_likelihood_equals_the_per_client_sum(
    model_type: type[Estimator], module: object, params: tuple[float, ...], data: tuple
) -> None:
    x, t_x, T = data
    rows = compress(x, t_x, T)
    assert len(rows.weight) < len(x)
    compressed = -module._nll(np.log(params), module._prepare(rows), 0.0)[0] * len(x)  # type: ignore[attr-defined]
    per_client = with_params(model_type(), params).log_likelihood(x, t_x, T).sum()  # type: ignore[attr-defined]
    assert compressed == pytest.approx(per_client, rel=1e-10)


@FAST
@given(params=st.tuples(positive, positive, positive), seed=st.integers(0, 2**32 - 1))
def test_gamma_gamma_likelihood_is_the_same_directly_on_the_grid_and_per_client(
    params: tuple[float, ...], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, 300).astype(float)
    m = rng.gamma(2.0, 20.0, 300)
    w = np.ones(300)
    direct = gg_module._nll(np.log(params), gg_module._prepare(x, m, w, grid=False), 0.0)
    grid = gg_module._nll(np.log(params), gg_module._prepare(x, m, w, grid=True), 0.0)
    per_client = with_params(GammaGamma(), params).log_likelihood(x, m).sum()
    assert -direct[0] * 300 == pytest.approx(per_client, rel=1e-10)
    assert grid[0] == pytest.approx(direct[0], rel=1e-12)
    np.testing.assert_allclose(grid[1], direct[1], rtol=1e-9, atol=1e-12)


@FAST
@given(log_params=st.tuples(*[st.floats(-2.0, 3.0)] * 4), data=histories(), penalizer=st.sampled_from([0.0, 0.1]))
@pytest.mark.parametrize("module", [bgnbd_module, pareto_module])
def test_analytic_gradient_matches_finite_differences(
    module: object, log_params: tuple[float, ...], data: tuple, penalizer: float
) -> None:
    prepared = module._prepare(compress(*data))  # type: ignore[attr-defined]
    point = np.array(log_params)
    value, grad = module._nll(point, prepared, penalizer)  # type: ignore[attr-defined]
    numeric = central_gradient(lambda v: module._nll(v, prepared, penalizer)[0], point)  # type: ignore[attr-defined]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_gamma_gamma_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(1, 8, 500).astype(float)
    prepared = gg_module._prepare(x, rng.gamma(2.0, 20.0, 500), np.ones(500))
    for point in (np.log([6.0, 3.7, 15.0]), np.log([0.5, 1.5, 200.0])):
        _, grad = gg_module._nll(point, prepared, 0.05)
        numeric = central_gradient(lambda v: gg_module._nll(v, prepared, 0.05)[0], point)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_fit_on_weights_equals_fit_on_repeated_rows() -> None:
    rng = np.random.default_rng(11)
    T = rng.integers(5, 40, 3000).astype(float)
    x, t_x = simulate.bgnbd(T, r=0.5, alpha=5.0, a=0.8, b=2.5, rng=rng)
    rows, counts = np.unique(np.column_stack([x, np.round(t_x), T]), axis=0, return_counts=True)
    weighted = BGNBD().fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    repeated = BGNBD().fit(x, np.round(t_x), T)
    for name in weighted.param_names:
        assert weighted.params_[name] == pytest.approx(repeated.params_[name], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-12)
    assert weighted.n_clients_ == repeated.n_clients_ == 3000
    assert weighted.fingerprint_["data_sha256"] == repeated.fingerprint_["data_sha256"]


@pytest.mark.parametrize("seed", [1, 2])
def test_bgnbd_recovers_the_parameters_it_was_simulated_from(seed: int) -> None:
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 60, 20_000)
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    x, t_x = simulate.bgnbd(T, **truth, rng=rng)
    model = BGNBD().fit(x, t_x, T)
    assert model.log_likelihood_ == pytest.approx(model.log_likelihood(x, t_x, T).sum(), rel=1e-10)
    for name, value in truth.items():
        se = model.summary_[name]["se"]
        assert abs(model.params_[name] - value) < 4 * se, f"{name}: {model.params_[name]:.4g} vs {value} (se {se:.3g})"


@pytest.mark.parametrize("seed", [1, 2])
def test_pareto_nbd_recovers_the_parameters_it_was_simulated_from(seed: int) -> None:
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 60, 20_000)
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.7, "beta": 12.0}
    x, t_x = simulate.pareto_nbd(T, **truth, rng=rng)
    model = ParetoNBD().fit(x, t_x, T)
    for name, value in truth.items():
        se = model.summary_[name]["se"]
        assert abs(model.params_[name] - value) < 4 * se, f"{name}: {model.params_[name]:.4g} vs {value} (se {se:.3g})"


@pytest.mark.parametrize("seed", [1, 2])
def test_gamma_gamma_recovers_the_parameters_it_was_simulated_from(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, 20_000).astype(float)
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    m = simulate.spend(x, **truth, rng=rng)
    model = GammaGamma().fit(x, m)
    assert model.n_clients_ == (x > 0).sum()
    for name, value in truth.items():
        se = model.summary_[name]["se"]
        assert abs(model.params_[name] - value) < 4 * se, f"{name}: {model.params_[name]:.4g} vs {value} (se {se:.3g})"
