"""One contract for every estimator (scikit-learn's, house style): hyper-parameters in
`__init__` only, `fit` validates and returns self, learned state ends in `_`, no training data
kept on the model, a clear error before `fit`, no warning filters touched."""

from __future__ import annotations

import inspect
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from maison.core.errors import MaisonError
from maison.models.clv import BGNBD, GammaGamma, ParetoNBD, simulate
from maison.models.clv.base import Estimator
from maison.models.clv.nbd import NBD
from maison.models.exceptions import NotFittedError

Data = tuple[np.ndarray, ...]


def transactions(n: int, seed: int = 1) -> Data:
    rng = np.random.default_rng(seed)
    T = rng.uniform(10, 40, n)
    x, t_x = simulate.bgnbd(T, r=0.5, alpha=5.0, a=0.8, b=2.5, rng=rng)
    return x, t_x, T


def lifetimes(n: int, seed: int = 1) -> Data:
    rng = np.random.default_rng(seed)
    T = rng.uniform(10, 40, n)
    x, t_x = simulate.pareto_nbd(T, r=0.6, alpha=8.0, s=0.7, beta=12.0, rng=rng)
    return x, t_x, T


def spend(n: int, seed: int = 1) -> Data:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 8, n).astype(float)
    return x, simulate.spend(x, p=6.0, q=4.0, gamma=15.0, rng=rng)


@dataclass(frozen=True)
class Case:
    make: Callable[[], Estimator]
    data: Callable[[int], Data]
    predictions: tuple[Callable[[Any, Data], Any], ...]


CASES = {
    "BGNBD": Case(BGNBD, transactions, (
        lambda m, d: m.probability_alive(*d),
        lambda m, d: m.conditional_expected_purchases(10.0, *d),
        lambda m, d: m.expected_purchases(10.0),
        lambda m, d: m.log_likelihood(*d),
    )),
    "ParetoNBD": Case(ParetoNBD, lifetimes, (
        lambda m, d: m.probability_alive(*d),
        lambda m, d: m.conditional_expected_purchases(10.0, *d),
        lambda m, d: m.expected_purchases(10.0),
        lambda m, d: m.log_likelihood(*d),
    )),
    "NBD": Case(NBD, transactions, (
        lambda m, d: m.probability_alive(*d),
        lambda m, d: m.conditional_expected_purchases(10.0, *d),
    )),
    "GammaGamma": Case(GammaGamma, spend, (
        lambda m, d: m.conditional_expected_average_profit(*d),
        lambda m, d: m.log_likelihood(d[0] + 1, d[1] + 1),
    )),
}
each = pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())


@each
def test_init_stores_its_keyword_hyper_parameters_and_nothing_else(case: Case) -> None:
    model = case.make()
    signature = inspect.signature(type(model).__init__)
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in parameters)
    assert vars(model) == model.get_params() == {p.name: p.default for p in parameters}


@each
def test_set_params_and_clone_round_trip(case: Case) -> None:
    model = case.make().set_params(penalizer=0.01, max_iter=500)
    clone = type(model)(**model.get_params())
    assert clone.get_params() == model.get_params()
    assert "penalizer=0.01" in repr(clone)
    with pytest.raises(MaisonError, match="allowed: penalizer, tol, max_iter"):
        model.set_params(learning_rate=0.1)


@each
def test_fit_returns_self_and_learns_only_underscored_state(case: Case) -> None:
    model = case.make()
    hyper = set(model.get_params())
    assert model.fit(*case.data(2000)) is model
    learned = set(vars(model)) - hyper
    assert learned and all(name.endswith("_") and not name.startswith("_") for name in learned)
    assert model.get_params() == case.make().get_params()  # fit changes no hyper-parameter
    assert set(model.summary_.names) == set(model.params_)
    assert np.all(model.summary_.se > 0)


@each
def test_no_training_data_is_kept_on_the_model(case: Case) -> None:
    small, large = case.make().fit(*case.data(1000)), case.make().fit(*case.data(20_000))
    # the pickled model does not grow with the data: only parameters, summary and a fingerprint
    assert len(pickle.dumps(large)) - len(pickle.dumps(small)) < 256
    for value in vars(large).values():
        assert not (isinstance(value, np.ndarray) and value.size > 16)
        assert not callable(value)  # no methods assigned in fit


@each
def test_unfitted_use_raises_a_clear_error(case: Case) -> None:
    data = case.data(50)
    for predict in case.predictions:
        with pytest.raises(NotFittedError, match="not fitted yet: call fit"):
            predict(case.make(), data)
    assert NotFittedError("x").code == "model_not_fitted"


@each
def test_fit_is_deterministic_and_refit_replaces_state(case: Case) -> None:
    model = case.make().fit(*case.data(2000, seed=1))
    first = dict(model.params_)
    model.fit(*case.data(2000, seed=2))
    assert model.params_ != first
    assert model.params_ == case.make().fit(*case.data(2000, seed=2)).params_


@each
def test_fit_touches_no_warning_filter_and_emits_no_warning(case: Case) -> None:
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = case.make().fit(*case.data(2000))
        for predict in case.predictions:
            predict(fitted, case.data(50))
    assert caught == []
    assert warnings.filters == before


@each
def test_invalid_hyper_parameters_are_reported_at_fit_with_what_is_allowed(case: Case) -> None:
    model = case.make().set_params(penalizer=-1)
    with pytest.raises(MaisonError, match="penalizer must be a number >= 0"):
        model.fit(*case.data(100))
