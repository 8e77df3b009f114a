"""Compression, validation, summary table, convergence errors."""

from __future__ import annotations

import numpy as np
import pytest

from maison.models.clv import BGNBD, GammaGamma, ParetoNBD
from maison.models.clv.data import Rows, compress
from maison.models.clv.optimize import Objective, covariance_or_raise, minimise
from maison.models.exceptions import ConvergenceError, ModelInputError


@pytest.mark.parametrize("divisor", [1.0, 7.0, 100.0, 3.0, np.pi])  # grids, then sorting
def test_compress_counts_each_distinct_row(divisor: float) -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 5, 5000).astype(float)
    t = rng.integers(0, 20, 5000).astype(float) / divisor
    rows = compress(x, t)
    unique, counts = np.unique(np.column_stack([x, t]), axis=0, return_counts=True)
    np.testing.assert_array_equal(np.column_stack(rows.columns), unique)
    np.testing.assert_array_equal(rows.weight, counts)


def test_compress_adds_weights_and_drops_zero_weight_rows() -> None:
    rows = compress(np.array([1.0, 1.0, 2.0]), weights=np.array([2.0, 3.0, 0.0]))
    assert rows.columns[0].tolist() == [1.0] and rows.weight.tolist() == [5.0]


def test_fingerprint_ignores_order_and_sees_every_value() -> None:
    x, m = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    w = np.ones(3)
    assert Rows((x, m), w).fingerprint() == Rows((x[::-1], m[::-1]), w).fingerprint()
    assert Rows((x, m), w).fingerprint() != Rows((x, m + [0, 0, 1e-9]), w).fingerprint()


@pytest.mark.parametrize(
    "frequency,recency,T,message",
    [
        ([1.5], [1.0], [2.0], "whole numbers"),
        ([1.0], [3.0], [2.0], "recency must be <= T"),
        ([0.0], [1.0], [2.0], "recency must be 0 where frequency is 0"),
        ([0.0, 1.0], [0.0, 1.0], [0.0, 2.0], "T must be > 0"),
        ([1.0, 2.0], [1.0], [2.0], "one value per client"),
        ([np.nan], [1.0], [2.0], "finite"),
        ([0.0, 0.0], [0.0, 0.0], [2.0, 3.0], "frequency > 0"),
    ],
)
@pytest.mark.parametrize("model_type", [BGNBD, ParetoNBD])
def test_fit_refuses_impossible_histories(
    model_type: type[BGNBD | ParetoNBD], frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(ModelInputError, match=message):
        model_type().fit(frequency, recency, T)


def test_gamma_gamma_refuses_non_positive_spend_of_repeat_buyers() -> None:
    with pytest.raises(ModelInputError, match="monetary must be > 0"):
        GammaGamma().fit([2.0, 1.0], [10.0, 0.0])


@pytest.mark.parametrize("params", [{"penalizer": -1.0}, {"tol": 0.0}, {"max_iter": 0}, {"max_iter": 2.5}])
def test_bad_hyper_parameters_are_refused_at_fit(params: dict[str, float]) -> None:
    with pytest.raises(ModelInputError, match=next(iter(params))):
        BGNBD(**params).fit([1.0], [1.0], [2.0])  # type: ignore[arg-type]


def test_a_parameter_running_off_raises_a_convergence_error() -> None:
    # the minimum lies at log b = 30, beyond the search range of +-20 around the start
    objective = Objective(lambda v: float((v[0] - 30) ** 2), lambda v: (float((v[0] - 30) ** 2), 2 * (v - 30)))
    with pytest.raises(ConvergenceError) as caught:
        minimise(objective, np.zeros(1), bounds=[(-20.0, 20.0)], names=("b",), model="test", tol=1e-8, max_iter=200)
    assert caught.value.code == "model_not_converged"
    assert "parameter b" in caught.value.message


def test_a_flat_likelihood_has_no_standard_errors_and_says_so() -> None:
    objective = Objective(lambda v: float(-(v[0] ** 2)), lambda v: (float(-(v[0] ** 2)), -2 * v))
    with pytest.raises(ConvergenceError, match="not at a maximum"):
        covariance_or_raise(objective, np.zeros(1), 10.0, names=("b",), model="test")


def test_summary_lists_estimates_standard_errors_and_intervals() -> None:
    rng = np.random.default_rng(0)
    from maison.models.clv import simulate

    T = rng.uniform(10, 40, 3000)
    x, t_x = simulate.bgnbd(T, r=0.5, alpha=5.0, a=0.8, b=2.5, rng=rng)
    summary = BGNBD().fit(x, t_x, T).summary_
    assert summary.names == ("r", "alpha", "a", "b")
    row = summary["alpha"]
    assert row["lower 95%"] < row["coef"] < row["upper 95%"]
    assert row["se"] > 0
    assert "se(coef)" in str(summary)
    with pytest.raises(KeyError, match="parameters are r, alpha, a, b"):
        summary["beta"]
