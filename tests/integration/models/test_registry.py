"""Versioned artefacts under MAISON_HOME with a model card per version, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maison.core.errors import Conflict
from maison.core.schema import model_versions
from maison.models import registry
from maison.models.registry import ModelCard, ModelNotTrained, TamperedArtefact

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@dataclass
class Doubler:
    factor: float = 2.0

    def predict(self, x: float) -> float:
        return x * self.factor


def card(version: str, *, trained_at: datetime = T0, fingerprint: str = "ab" * 32) -> ModelCard:
    return ModelCard(name="toy", version=version, trained_at=trained_at, data_start=T0 - timedelta(days=90),
                     data_end=T0, fingerprint=fingerprint, n_clients=12, data_categories=("purchase_history",),
                     description="a toy", metrics={"auc": 0.7}, fairness={"flags": []})


def test_a_saved_version_loads_back_with_its_card_and_library_versions(engine, tmp_path: Path):
    with engine.begin() as conn:
        saved = registry.save(conn, card("v1"), Doubler(3.0), home=tmp_path)
    assert (tmp_path / "models" / "toy" / "v1" / "model.joblib").is_file()
    assert (tmp_path / "models" / "toy" / "v1" / "card.json").is_file()
    assert len(saved.artefact_sha256) == 64
    assert {"python", "numpy", "scikit-learn", "lightgbm", "fairlearn"} <= set(saved.libraries)
    with engine.connect() as conn:
        loaded = registry.load(conn, "toy", home=tmp_path)
        row = conn.execute(select(model_versions)).one()
    assert loaded.model.predict(2.0) == 6.0
    assert loaded.card == saved and loaded.card.metrics == {"auc": 0.7}
    assert (row.name, row.version, row.artefact) == ("toy", "v1", "models/toy/v1/model.joblib")
    assert row.data_start == T0 - timedelta(days=90) and row.fingerprint == "ab" * 32


def test_load_takes_the_newest_version_unless_one_is_named(engine, tmp_path: Path):
    with engine.begin() as conn:
        registry.save(conn, card("old", trained_at=T0), Doubler(1.0), home=tmp_path)
        registry.save(conn, card("new", trained_at=T0 + timedelta(days=1)), Doubler(5.0), home=tmp_path)
    with engine.connect() as conn:
        assert registry.load(conn, "toy", home=tmp_path).card.version == "new"
        assert registry.load(conn, "toy", "old", home=tmp_path).model.factor == 1.0
        assert [c.version for c in registry.versions(conn, "toy")] == ["new", "old"]


def test_a_tampered_artefact_is_refused_before_it_is_unpickled(engine, tmp_path: Path):
    with engine.begin() as conn:
        registry.save(conn, card("v1"), Doubler(), home=tmp_path)
    path = tmp_path / "models" / "toy" / "v1" / "model.joblib"
    path.write_bytes(path.read_bytes() + b"\x00")
    with engine.connect() as conn, pytest.raises(TamperedArtefact) as caught:
        registry.load(conn, "toy", home=tmp_path)
    assert caught.value.code == "model_artefact_tampered"


def test_editing_the_card_on_disk_does_not_make_a_tampered_artefact_load(engine, tmp_path: Path):
    """The trusted sha256 is the one in the database, not the one next to the file."""
    with engine.begin() as conn:
        registry.save(conn, card("v1"), Doubler(), home=tmp_path)
    folder = tmp_path / "models" / "toy" / "v1"
    (folder / "model.joblib").write_bytes(b"not the model")
    import hashlib
    import json

    doc = json.loads((folder / "card.json").read_text())
    doc["artefact_sha256"] = hashlib.sha256(b"not the model").hexdigest()
    (folder / "card.json").write_text(json.dumps(doc))
    with engine.connect() as conn, pytest.raises(TamperedArtefact):
        registry.load(conn, "toy", home=tmp_path)


def test_missing_models_and_versions_say_how_to_train(engine, tmp_path: Path):
    with engine.connect() as conn, pytest.raises(ModelNotTrained, match="maison models train toy"):
        registry.load(conn, "toy", home=tmp_path)
    with engine.begin() as conn:
        registry.save(conn, card("v1"), Doubler(), home=tmp_path)
    with engine.connect() as conn, pytest.raises(ModelNotTrained):
        registry.card(conn, "toy", "v9")


def test_a_version_is_never_overwritten(engine, tmp_path: Path):
    with engine.begin() as conn:
        registry.save(conn, card("v1"), Doubler(1.0), home=tmp_path)
    with engine.begin() as conn, pytest.raises(Conflict):
        registry.save(conn, card("v1"), Doubler(9.0), home=tmp_path)
    with engine.connect() as conn:
        assert registry.load(conn, "toy", home=tmp_path).model.factor == 1.0


def test_a_version_whose_row_cannot_be_written_leaves_no_files(engine, tmp_path: Path):
    with engine.begin() as conn:
        registry.save(conn, card("v1"), Doubler(), home=tmp_path)
    other_home = tmp_path / "elsewhere"  # same name and version in the database, new folder
    with engine.begin() as conn, pytest.raises(Conflict):
        registry.save(conn, card("v1"), Doubler(), home=other_home)
    assert not (other_home / "models" / "toy" / "v1").exists()


def test_the_training_fingerprint_ignores_row_order_but_not_content():
    rows = [("c1", "2026-01-01", 10.0), ("c2", "2026-01-02", 20.0), ("c1", "2026-01-05", 5.0)]
    assert registry.fingerprint(rows) == registry.fingerprint(list(reversed(rows)))
    assert registry.fingerprint(rows) != registry.fingerprint([*rows[:2], ("c1", "2026-01-05", 5.5)])
    assert registry.fingerprint(rows) != registry.fingerprint(rows[:2])


def test_the_card_round_trips_through_json():
    original = replace(card("v1"), artefact_sha256="cd" * 32, libraries={"python": "3.12"})
    assert ModelCard.from_dict(original.to_dict()) == original
    assert registry.version_id(T0, "0123456789abcdef" * 4) == "20260301T020000Z-01234567"
