"""What every CLV estimator shares: hyper-parameters, the fit bookkeeping, the fitted check.

scikit-learn's contract: `__init__` stores keyword hyper-parameters and nothing else, `fit`
validates them and the data and returns `self`, learned state ends in `_`. Nothing of the
training data stays on the model beyond a fingerprint (an order-free sha256 of the rows).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import scipy
from numpy.typing import ArrayLike, NDArray

import maison
from maison.models.clv.data import Rows
from maison.models.clv.optimize import Objective, Optimum, covariance_or_raise, minimise
from maison.models.clv.summary import ParameterTable
from maison.models.exceptions import ModelInputError, NotFittedError

Floats = NDArray[np.float64]

LOG_SPAN = 12.0  # search log-parameters within +-12 (a factor 160,000) of their starting scale


@dataclass(frozen=True)
class Problem:
    """A prepared likelihood: objective over log-parameters, start, bounds and data size."""

    objective: Objective
    unpenalised: Objective
    x0: Floats
    bounds: list[tuple[float, float]]
    rows: Rows
    n: float


class Estimator:
    """Base of the CLV estimators: parameters by name, summary, standard errors."""

    param_names: ClassVar[tuple[str, ...]] = ()
    model_name: ClassVar[str] = ""

    def __init__(self, *, penalizer: float = 0.0, tol: float = 1e-8, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.max_iter = max_iter

    # scikit-learn's parameter protocol, without depending on scikit-learn
    @classmethod
    def _hyper_parameter_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._hyper_parameter_names()}

    def set_params(self, **params: Any) -> Self:
        allowed = self._hyper_parameter_names()
        for name, value in params.items():
            if name not in allowed:
                raise ModelInputError(f"{name!r} is not a hyper-parameter; allowed: {', '.join(allowed)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_hyper_parameters(self) -> None:
        if not (isinstance(self.penalizer, int | float) and self.penalizer >= 0):
            raise ModelInputError(f"penalizer must be a number >= 0, got {self.penalizer!r}")
        if not (isinstance(self.tol, int | float) and 0 < self.tol < 1):
            raise ModelInputError(f"tol must be a number in (0, 1), got {self.tol!r}")
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise ModelInputError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")

    def _solve(self, problem: Problem) -> Self:
        optimum = minimise(
            problem.objective, problem.x0, bounds=problem.bounds, names=self.param_names,
            model=self.model_name, tol=float(self.tol), max_iter=int(self.max_iter),
        )
        self._learn(problem, optimum)
        return self

    def _learn(self, problem: Problem, optimum: Optimum) -> None:
        cov = covariance_or_raise(
            problem.objective, optimum.log_params, problem.n, names=self.param_names, model=self.model_name,
        )
        theta = np.exp(optimum.log_params)
        self.params_ = dict(zip(self.param_names, (float(v) for v in theta), strict=True))
        self.covariance_ = cov
        self.summary_ = ParameterTable(self.param_names, theta, np.sqrt(np.diag(cov)))
        self.log_likelihood_ = -problem.unpenalised.value(optimum.log_params) * problem.n
        self.n_clients_ = problem.n
        self.n_rows_ = len(problem.rows.weight)
        self.n_iter_ = optimum.n_iter
        self.optimizer_ = optimum.method
        self.fingerprint_ = {
            "data_sha256": problem.rows.fingerprint(), "numpy": np.__version__,
            "scipy": scipy.__version__, "maison": maison.__version__,
        }

    def _params(self) -> tuple[float, ...]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(...) first")
        return tuple(self.params_[name] for name in self.param_names)


def prediction_inputs(*values: ArrayLike) -> tuple[Floats, ...]:
    """Float arrays broadcast to one shape (scalars allowed), finite."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    if not all(np.isfinite(a).all() for a in arrays):
        raise ModelInputError("prediction inputs must be finite: they hold NaN or infinite values")
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def check_history(x: Floats, t_x: Floats, age: Floats) -> None:
    if (x < 0).any() or (x != np.floor(x)).any():
        raise ModelInputError("frequency must hold whole numbers >= 0 (repeat purchases)")
    if (t_x < 0).any() or (t_x > age).any():
        raise ModelInputError("recency must be in [0, T]")


def check_horizon(t: Floats) -> None:
    if (t < 0).any():
        raise ModelInputError("t must be >= 0 (a horizon in the model's time unit)")
