"""The future-VIP model: calibrated, validated on later clients, and explained in plain words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from early_signals import CATALOG, COLLECTIONS, world
from maison.models.exceptions import ModelInputError, NotFittedError
from maison.models.features import compute, spec_for
from maison.models.vip import FutureVipModel, train

SPEC = spec_for(CATALOG.category, COLLECTIONS.collection)


@pytest.fixture(scope="module")
def fitted() -> tuple[FutureVipModel, object, object]:
    events, vip = world(1200, seed=1)
    features = compute(events, CATALOG, COLLECTIONS, SPEC).set_index("client_id", drop=False)
    train_rows, test_rows = features.iloc[:800], features.iloc[800:]
    model = train(train_rows, vip[train_rows.index], time=train_rows["first_contact"], spec=SPEC)
    return model, test_rows, vip[test_rows.index]


def test_scores_rank_unseen_clients_and_are_probabilities(fitted) -> None:  # type: ignore[no-untyped-def]
    model, rows, truth = fitted
    scores = model.score(rows)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert roc_auc_score(truth, scores) > 0.75


def test_validation_and_calibration_use_the_latest_clients_only(fitted) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = fitted
    card = model.card_metrics()
    assert card["rows_validation"] == pytest.approx(0.3 * 800, abs=1)
    assert card["brier"] <= card["brier_uncalibrated"] + 1e-9  # calibration never makes the held-out fit worse here
    assert 0 < card["roc_auc"] <= 1 and len(card["reliability"]) == 10


def test_reasons_are_worded_from_feature_definitions_and_only_raise_the_score(fitted) -> None:  # type: ignore[no-untyped-def]
    model, rows, _ = fitted
    top = rows.iloc[np.argsort(-model.score(rows))[:20]]
    said = model.reasons(top)
    contributions = model.contributions(top)
    assert all(1 <= len(r) <= 3 for r in said)
    templates = {f.says.split("{")[0] for f in SPEC.features}
    assert all(any(sentence.startswith(t) for t in templates) for r in said for sentence in r)
    assert any("Coats" in s or "Maison Atelier" in s for r in said for s in r)  # catalogue names come from data
    assert np.allclose(contributions.sum(axis=1), model.decision_function(top))  # SHAP adds up to the log-odds


def test_reliability_chart_is_written_without_pyplot(fitted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = fitted
    path = model.reliability_chart(tmp_path / "reliability.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_an_unfitted_model_refuses_to_score() -> None:
    events, _ = world(30, seed=2)
    with pytest.raises(NotFittedError):
        FutureVipModel(spec=SPEC).score(compute(events, CATALOG, COLLECTIONS, SPEC))


def test_one_class_labels_are_refused() -> None:
    events, _ = world(60, seed=2)
    features = compute(events, CATALOG, COLLECTIONS, SPEC)
    with pytest.raises(ModelInputError):
        train(features, np.zeros(len(features)), spec=SPEC)
