"""Errors a model raises on purpose: each has a stable code, and no message carries client data."""

from __future__ import annotations

from maison.core.errors import MaisonError


class ModelInputError(MaisonError):
    """Data given to `fit` or a prediction method breaks the model's assumptions."""

    code = "invalid_model_input"
    status = 400


class NotFittedError(MaisonError):
    """A method that needs learned parameters was called before `fit`."""

    code = "model_not_fitted"
    status = 409


class ConvergenceError(MaisonError):
    """Maximum likelihood found no optimum: the data may not identify the model's parameters."""

    code = "model_not_converged"
    status = 422


class MissingExtra(MaisonError):
    """An optional dependency (an extra such as `maison[eval]`) is not installed."""

    code = "missing_extra"
    status = 500
