"""Training and batch scoring by model name: the jobs behind `maison models train|score|report`.

The caller owns the transaction. Training writes the artefact and card under `home` and the
version row; scoring loads the newest version (or a given one), verifies its artefact, and
stores each consenting client's score with that version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from maison.models import registry, scores, trainers
from maison.models.registry import ModelCard


def train(conn: Connection, name: str, *, as_of: datetime, now: datetime, home: Path) -> ModelCard:
    """Train model `name` on the data before `as_of` and record a new version."""
    spec = trainers.get(name)
    trained = spec.train(conn, as_of=as_of)
    card = ModelCard(
        name=name, version=registry.version_id(now, trained.fingerprint), trained_at=now,
        data_start=trained.data_start, data_end=trained.data_end, fingerprint=trained.fingerprint,
        n_clients=trained.n_clients, data_categories=spec.categories, description=spec.description,
        metrics=trained.metrics, fairness=trained.fairness, params=trained.params,
        libraries=registry.library_versions(),
    )
    return registry.save(conn, card, trained.model, home=home)


def score(
    conn: Connection, name: str, *, as_of: datetime, now: datetime, home: Path, version: str | None = None,
    client_ids: list[str] | None = None, on_progress: Callable[[int, int], None] | None = None,
) -> scores.BatchResult:
    """Score every consenting client with a trained version of `name` (the newest by default)."""
    spec = trainers.get(name)
    loaded = registry.load(conn, name, version, home=home)
    return scores.run_batch(
        conn, model=name, model_version=loaded.card.version, scorer=spec.scorer(loaded), categories=spec.categories,
        as_of=as_of, now=now, client_ids=client_ids, on_progress=on_progress,
    )
