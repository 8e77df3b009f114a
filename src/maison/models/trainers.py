"""The models `maison models train|score|report` knows, by name.

A model plugs in with one `ModelSpec`: how to train it on the store as of an instant, and how
a trained version scores clients. Specs register themselves on import (`register`); the
built-in ones are imported lazily by `get`, so a model whose optional pieces are missing does
not stop the others from working.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from maison.core.errors import NotFound
from maison.models.registry import LoadedModel
from maison.models.scores import ScoreRow

# Modules that register a spec when imported; a missing one is skipped (an optional piece).
BUILTIN = ("maison.models.clv.service", "maison.models.future_vip", "maison.models.churn.spec")


@dataclass(frozen=True, slots=True)
class Trained:
    """What a trainer hands to the registry: the fitted object and what its card must say."""

    model: Any
    data_start: datetime | None
    data_end: datetime | None
    fingerprint: str
    n_clients: int
    metrics: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


class Trainer(Protocol):
    def __call__(self, conn: Connection, *, as_of: datetime) -> Trained: ...


class ScorerFactory(Protocol):
    """Binds a loaded version to a scorer `(conn, client_ids, at) -> [ScoreRow]`."""

    def __call__(self, loaded: LoadedModel) -> Callable[[Connection, Sequence[str], datetime], list[ScoreRow]]: ...


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    description: str
    categories: tuple[str, ...]  # what it reads, for profiling; the consent filter uses them
    train: Trainer
    scorer: ScorerFactory


SPECS: dict[str, ModelSpec] = {}


class UnknownModel(NotFound):
    code = "unknown_model"


def register(spec: ModelSpec) -> ModelSpec:
    SPECS[spec.name] = spec
    return spec


BROKEN: dict[str, str] = {}  # built-in modules that failed to import, with the error


def _load_builtins() -> None:
    """Import each built-in spec module once; one that fails does not take the others down,
    and `get` reports its error instead of silently not knowing the model."""
    for module in BUILTIN:
        if module in BROKEN:
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                BROKEN[module] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - reported by `get`, never swallowed
            BROKEN[module] = f"{type(exc).__name__}: {exc}"


def names() -> list[str]:
    _load_builtins()
    return sorted(SPECS)


def get(name: str) -> ModelSpec:
    _load_builtins()
    spec = SPECS.get(name)
    if spec is None:
        details: dict[str, Any] = {"model": name}
        if BROKEN:
            details["not_loaded"] = "; ".join(f"{m} ({e})" for m, e in sorted(BROKEN.items()))
        raise UnknownModel(f"unknown model {name!r}; known: {', '.join(sorted(SPECS)) or 'none'}", details=details)
    return spec
