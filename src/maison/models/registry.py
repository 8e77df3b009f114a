"""Versioned model artefacts: files under `$MAISON_HOME/models/<name>/<version>/`, rows in `model_versions`.

A version is the fitted object (joblib) and its model card (`card.json`): the data window,
metrics, fairness summary, library versions and the training data's fingerprint. Artefacts
stay outside git and outside the database; the database row holds the card, including the
sha256 of the artefact file, and `load` refuses a file whose hash differs: unpickling runs
code, so a file changed on disk must never be loaded.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from maison.core.errors import Conflict, MaisonError, NotFound
from maison.core.schema import model_versions

ARTEFACT = "model.joblib"
CARD = "card.json"
LIBRARIES = ("maison", "numpy", "scipy", "scikit-learn", "lightgbm", "pandas", "fairlearn", "joblib")


class ModelNotTrained(NotFound):
    code = "model_not_trained"


class TamperedArtefact(MaisonError):
    """The artefact on disk is not the one that was trained (its sha256 differs from the card's)."""

    code = "model_artefact_tampered"
    status = 409


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What anyone auditing a score needs to know about the model version that produced it."""

    name: str
    version: str
    trained_at: datetime
    data_start: datetime | None
    data_end: datetime | None
    fingerprint: str  # order-free sha256 of the training rows
    n_clients: int
    data_categories: tuple[str, ...]
    description: str
    metrics: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str | None] = field(default_factory=dict)
    artefact_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        for key in ("trained_at", "data_start", "data_end"):
            doc[key] = doc[key].isoformat() if doc[key] else None
        doc["data_categories"] = list(self.data_categories)
        return json.loads(json.dumps(doc, default=_plain))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ModelCard:
        values = dict(doc)
        for key in ("trained_at", "data_start", "data_end"):
            values[key] = datetime.fromisoformat(values[key]) if values.get(key) else None
        values["data_categories"] = tuple(values.get("data_categories", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    card: ModelCard
    model: Any


def _plain(value: Any) -> Any:
    """JSON for NumPy scalars and arrays, dates and anything else a card may hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def library_versions() -> dict[str, str | None]:
    """Versions of the interpreter and of the libraries a fitted model depends on."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = None
    return found


def fingerprint(rows: Iterable[Sequence[Any]]) -> str:
    """Order-free sha256 of training rows: the same rows in any order give the same digest."""
    digests = sorted(hashlib.sha256(json.dumps(list(r), default=_plain).encode()).digest() for r in rows)
    outer = hashlib.sha256(str(len(digests)).encode())
    for d in digests:
        outer.update(d)
    return outer.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def version_id(trained_at: datetime, data_fingerprint: str) -> str:
    """Sortable and readable: the training instant, then the data it saw."""
    return f"{trained_at:%Y%m%dT%H%M%S}Z-{data_fingerprint[:8]}"


def save(conn: Connection, card: ModelCard, model: Any, *, home: Path) -> ModelCard:
    """Write the artefact and card of a new version and record it; returns the card with the
    artefact's sha256. The files are removed again if the version cannot be recorded."""
    import joblib

    folder = home / "models" / card.name / card.version
    if folder.exists():
        raise Conflict(f"model {card.name} version {card.version} exists already")
    folder.mkdir(parents=True)
    try:
        joblib.dump(model, folder / ARTEFACT)
        final = ModelCard(**{**_fields(card), "artefact_sha256": _sha256_file(folder / ARTEFACT),
                             "libraries": card.libraries or library_versions()})
        (folder / CARD).write_text(json.dumps(final.to_dict(), indent=2, sort_keys=True))
        conn.execute(model_versions.insert().values(
            name=final.name, version=final.version, trained_at=final.trained_at, data_start=final.data_start,
            data_end=final.data_end, fingerprint=final.fingerprint,
            artefact=str((folder / ARTEFACT).relative_to(home)), card=final.to_dict(),
        ))
    except IntegrityError:
        shutil.rmtree(folder, ignore_errors=True)
        raise Conflict(f"model {card.name} version {card.version} exists already") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return final


def _fields(card: ModelCard) -> dict[str, Any]:
    return {name: getattr(card, name) for name in card.__dataclass_fields__}


def _row(conn: Connection, name: str, version: str | None) -> Any:
    stmt = select(model_versions).where(model_versions.c.name == name)
    if version is not None:
        stmt = stmt.where(model_versions.c.version == version)
    row = conn.execute(stmt.order_by(model_versions.c.trained_at.desc(), model_versions.c.id.desc()).limit(1)).first()
    if row is None:
        what = f"version {version} of model {name}" if version else f"a trained version of model {name}"
        raise ModelNotTrained(f"there is no {what}; train it with `maison models train {name}`",
                              details={"model": name, "version": version})
    return row


def card(conn: Connection, name: str, version: str | None = None) -> ModelCard:
    """The card of a version (the latest when `version` is None), as recorded in the database."""
    return ModelCard.from_dict(dict(_row(conn, name, version).card))


def versions(conn: Connection, name: str) -> list[ModelCard]:
    rows = conn.execute(
        select(model_versions.c.card).where(model_versions.c.name == name)
        .order_by(model_versions.c.trained_at.desc(), model_versions.c.id.desc())
    ).all()
    return [ModelCard.from_dict(dict(r.card)) for r in rows]


def load(conn: Connection, name: str, version: str | None = None, *, home: Path) -> LoadedModel:
    """The fitted object of a version (the latest by default), after checking its sha256 against
    the card recorded when it was trained."""
    import joblib

    row = _row(conn, name, version)
    recorded = ModelCard.from_dict(dict(row.card))
    path = home / row.artefact
    if not path.is_file():
        raise ModelNotTrained(f"the artefact of model {name} version {recorded.version} is missing under MAISON_HOME",
                              details={"model": name, "version": recorded.version})
    if _sha256_file(path) != recorded.artefact_sha256:
        raise TamperedArtefact(
            f"the artefact of model {name} version {recorded.version} changed since training; retrain it",
            details={"model": name, "version": recorded.version},
        )
    return LoadedModel(recorded, joblib.load(path))
