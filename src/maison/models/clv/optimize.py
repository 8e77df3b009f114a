"""Maximum likelihood over log-parameters: BFGS first, Nelder-Mead when it stalls.

Objectives are the mean negative log-likelihood per client, so tolerances mean the same for
2,000 clients and for 10 million. Standard errors come from a finite-difference Hessian at the
optimum (of the analytic gradient where the model has one), mapped to the natural scale by the
delta method: cov(theta) = diag(theta) inv(H_log) diag(theta) / n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from maison.models.exceptions import ConvergenceError

Floats = NDArray[np.float64]
ValueAndGrad = Callable[[Floats], tuple[float, Floats]]
Value = Callable[[Floats], float]

_GRAD_TOL = 1e-5  # max |d mean NLL / d log-param| accepted at an optimum


@dataclass(frozen=True)
class Objective:
    """Mean negative log-likelihood of log-parameters, with its gradient when known in closed form."""

    value: Value
    value_and_grad: ValueAndGrad | None = None

    def with_grad(self, x: Floats) -> tuple[float, Floats]:
        if self.value_and_grad is not None:
            return self.value_and_grad(x)
        return self.value(x), central_gradient(self.value, x)


@dataclass(frozen=True)
class Optimum:
    log_params: Floats
    mean_nll: float
    n_iter: int
    method: str


def central_gradient(f: Value, x: Floats, h: float = 1e-6) -> Floats:
    grad = np.empty_like(x)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def minimise(
    objective: Objective, x0: Floats, *, bounds: list[tuple[float, float]], names: tuple[str, ...],
    model: str, tol: float, max_iter: int,
) -> Optimum:
    """The minimum of the objective, or ConvergenceError saying what went wrong.

    BFGS rather than L-BFGS-B: with four parameters its dense update is cheap, and L-BFGS-B's
    small BLAS calls spin OpenBLAS threads, which made fits ten times slower on a busy machine.
    The log scale keeps parameters positive. `bounds` frame the search: outside them the
    objective is uphill, and an optimum pressed against them is a parameter running off to 0 or
    infinity, reported as such rather than chased where the special functions get slow.
    """
    with np.errstate(all="ignore"):  # trial points may overflow; _finite turns that into "uphill"
        return _minimise(objective, x0, bounds=bounds, names=names, model=model, tol=tol, max_iter=max_iter)


def _minimise(
    objective: Objective, x0: Floats, *, bounds: list[tuple[float, float]], names: tuple[str, ...],
    model: str, tol: float, max_iter: int,
) -> Optimum:
    first = minimize(
        _finite(objective.with_grad, bounds), x0, jac=True, method="BFGS", options={"maxiter": max_iter, "gtol": tol},
    )
    result, method, iterations = first, "BFGS", int(first.nit)
    if not _converged(objective, first):  # precision loss on flat or noisy surfaces
        start = first.x if np.all(np.isfinite(first.x)) else x0
        _check_interior(start, bounds, names, model, margin=1.0)  # pressed against the box: runs off
        second = minimize(
            lambda v: _finite_value(objective.value, v), start, method="Nelder-Mead", bounds=bounds,
            options={"maxiter": max_iter, "xatol": 1e-10, "fatol": 1e-14, "adaptive": True},
        )
        result, method, iterations = second, "Nelder-Mead", iterations + int(second.nit)
        if not _converged(objective, second):
            raise ConvergenceError(
                f"{model}: maximum likelihood did not converge ({second.message}); try penalizer > 0",
                details={"model": model, "bfgs": str(first.message), "nelder_mead": str(second.message)},
            )
    _check_interior(result.x, bounds, names, model)
    return Optimum(np.asarray(result.x, dtype=np.float64), float(result.fun), iterations, method)


def _inside(x: Floats, bounds: list[tuple[float, float]]) -> bool:
    return all(lo < v < hi for v, (lo, hi) in zip(x, bounds, strict=True))


def hessian(objective: Objective, x: Floats) -> Floats:
    """Finite-difference Hessian of the mean NLL at x: of the gradient if analytic, else of values."""
    with np.errstate(all="ignore"):
        return _hessian(objective, x)


def _hessian(objective: Objective, x: Floats) -> Floats:
    k = len(x)
    if objective.value_and_grad is not None:
        h = 1e-4  # central differences of the gradient: truncation ~h^2, noise ~1e-10/h
        columns = []
        for i in range(k):
            step = np.zeros(k)
            step[i] = h
            columns.append((objective.value_and_grad(x + step)[1] - objective.value_and_grad(x - step)[1]) / (2 * h))
        matrix = np.column_stack(columns)
        return (matrix + matrix.T) / 2
    h = 1e-4
    f0 = objective.value(x)
    matrix = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        matrix[i, i] = (objective.value(x + ei) - 2 * f0 + objective.value(x - ei)) / h**2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            cross = (
                objective.value(x + ei + ej) - objective.value(x + ei - ej)
                - objective.value(x - ei + ej) + objective.value(x - ei - ej)
            ) / (4 * h**2)
            matrix[i, j] = matrix[j, i] = cross
    return matrix


def covariance_or_raise(
    objective: Objective, log_params: Floats, n: float, *, names: tuple[str, ...], model: str
) -> Floats:
    """Covariance of the natural parameters; ConvergenceError where the Hessian of the mean NLL is
    not positive definite (a saddle, or a direction in which the likelihood is flat)."""
    mean_hessian = hessian(objective, log_params)
    try:
        np.linalg.cholesky(mean_hessian)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            f"{model}: the likelihood is flat or not at a maximum in some direction of ({', '.join(names)}); "
            "the data do not identify the parameters: try penalizer > 0 or more history",
            details={"model": model},
        ) from None
    theta = np.exp(log_params)
    cov_log = np.linalg.inv(mean_hessian) / n
    return np.asarray(cov_log * np.outer(theta, theta), dtype=np.float64)


def _converged(objective: Objective, result: object) -> bool:
    x = np.asarray(result.x)  # type: ignore[attr-defined]
    if not np.isfinite(result.fun):  # type: ignore[attr-defined]
        return False
    if result.success:  # type: ignore[attr-defined]
        return True
    _, grad = objective.with_grad(x)
    return bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad)) <= _GRAD_TOL)


def _check_interior(
    x: Floats, bounds: list[tuple[float, float]], names: tuple[str, ...], model: str, margin: float = 1e-6
) -> None:
    for name, value, (lo, hi) in zip(names, x, bounds, strict=True):
        if value <= lo + margin or value >= hi - margin:
            raise ConvergenceError(
                f"{model}: parameter {name} ran to the edge of its search range (log {name} = {value:.1f}); "
                "the data do not identify it: try penalizer > 0 or more history",
                details={"model": model, "parameter": name},
            )


def _finite(f: ValueAndGrad, bounds: list[tuple[float, float]]) -> ValueAndGrad:
    """Uphill outside the search box and where the likelihood overflows, so that the line search
    backs off instead of failing or wandering where the special functions are slow."""

    def wrapped(x: Floats) -> tuple[float, Floats]:
        if not _inside(x, bounds):
            return 1e300, np.zeros_like(x)
        value, grad = f(x)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(x)
        return value, grad

    return wrapped


def _finite_value(f: Value, x: Floats) -> float:
    value = f(x)
    return value if np.isfinite(value) else 1e300
