"""The future-VIP model: calibrated, validated on later clients, and explained in plain words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from early_signals import CATALOG, COLLECTIONS, world, world_values
from maison.models.classifier import CalibratedBooster
from maison.models.exceptions import ModelInputError, NotFittedError
from maison.models.features import compute, spec_for
from maison.models.vip import FutureVipModel, train
from maison.models.vip.labels import graded_labels, top_fraction_label

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


def test_the_fairness_audit_is_on_the_validation_clients_and_flags_a_group_never_selected() -> None:
    events, vip = world(800, seed=3)
    features = compute(events, CATALOG, COLLECTIONS, SPEC).set_index("client_id", drop=False)
    labels = vip[features.index].copy()
    # Every third client never did anything in the window that a maison values: no group could be
    # less likely to be picked, and none of them became a top client.
    idle = features.index[::3]
    numeric = [f.name for f in SPEC.features if f.kind != "category"]
    features.loc[idle, numeric] = 0.0
    features.loc[idle, ["first_order_category", "first_order_store"]] = None
    labels[idle] = 0
    band = np.where(features.index.isin(idle), "65+", "25-34").astype(object)
    band[7::50] = "unknown"  # a few clients did not declare an age band
    arrival = features["first_contact"] + np.arange(len(features))  # distinct instants: no ties to break
    later = arrival.rank() > round(0.7 * len(features))
    cohort = np.where(later, "later", "earlier")

    model = train(features, labels, time=arrival, spec=SPEC, sensitive={"age_band": band, "cohort": cohort})
    audit = model.fairness_
    assert audit is not None and audit["n"] == model.validation_["rows_validation"]
    by_feature = {f["feature"]: f for f in audit["features"]}
    assert [g["group"] for g in by_feature["cohort"]["groups"]] == ["later"]  # only clients it had not learned from
    groups = {g["group"]: g for g in by_feature["age_band"]["groups"]}
    assert sum(g["positives"] for g in groups.values()) == model.validation_["positives_validation"]
    selected = sum(round(g["selection_rate"]["estimate"] * g["n"]) for g in groups.values())
    assert selected == int(np.ceil(0.1 * audit["n"]))  # the top 10 % of the validation clients
    assert groups["65+"]["selection_rate"]["estimate"] == 0.0 and groups["25-34"]["selection_rate"]["estimate"] > 0.1
    assert groups["unknown"]["no_attribute"] and not groups["unknown"]["too_small"]
    assert by_feature["age_band"]["selection_rate_ratio"]["estimate"] == 0.0
    assert any(f.startswith("age_band: selection rate ratio 0.000") and "below 0.80" in f for f in audit["flags"])


def test_without_sensitive_features_there_is_no_audit_and_misaligned_ones_are_refused() -> None:
    events, vip = world(200, seed=4)
    features = compute(events, CATALOG, COLLECTIONS, SPEC)
    labels = vip[features["client_id"]].to_numpy()
    assert train(features, labels, spec=SPEC).fairness_ is None
    with pytest.raises(ModelInputError, match="age_band"):
        train(features, labels, spec=SPEC, sensitive={"age_band": ["25-34"] * 10})


def test_a_fit_depends_on_the_rows_not_on_their_order_or_last_bits() -> None:
    events, vip = world(400, seed=6)
    features = compute(events, CATALOG, COLLECTIONS, SPEC).set_index("client_id", drop=False)
    labels = vip[features.index]
    shuffled = features.sample(frac=1.0, random_state=1)
    noisy = shuffled.copy()
    noisy["spend"] = noisy["spend"] * (1 + 1e-13)  # what a parallel sum may give on another run
    first = train(features, labels, spec=SPEC)
    again = train(noisy, labels[noisy.index], spec=SPEC)
    assert again.validation_ == first.validation_
    assert np.array_equal(again.decision_function(features), first.decision_function(features))


def test_a_graded_fit_orders_clients_below_the_threshold_and_still_predicts_the_label() -> None:
    events, value = world_values(1200, seed=1)
    features = compute(events, CATALOG, COLLECTIONS, SPEC).set_index("client_id", drop=False)
    outcome = value[features.index] - value.min()  # a spend-like outcome behind the top-10 % label
    rows, unseen = features.iloc[:600], features.iloc[600:]
    labels = top_fraction_label(outcome[rows.index])
    plain = train(rows, labels, spec=SPEC)
    graded = train(rows, labels, spec=SPEC, value=outcome[rows.index])

    # The 0/1 label alone says nothing about the order of the 90 % below the threshold.
    later = top_fraction_label(outcome[unseen.index]).to_numpy() == 0
    truth = outcome[unseen.index].to_numpy()[later]
    order_plain = spearmanr(plain.decision_function(unseen)[later], truth).statistic
    order_graded = spearmanr(graded.decision_function(unseen)[later], truth).statistic
    assert order_graded > order_plain

    # Still a probability of the 0/1 label: same validation clients, calibrated on the label.
    for key in ("rows_validation", "positives_validation"):
        assert graded.validation_[key] == plain.validation_[key]
    p = graded.score(rows)
    assert ((p >= 0) & (p <= 1)).all()
    targets = graded_labels(outcome[rows.index], labels)
    assert abs(p.mean() - labels.mean()) < abs(targets.mean() - labels.mean())
    assert graded.fingerprint_ != plain.fingerprint_  # the outcome is part of what it learned from
    said = graded.reasons(unseen.iloc[:20])
    assert len(said) == 20 and all(len(r) <= 3 for r in said)

    # Without a width, the outcome is ignored: the very same fit as from the label.
    ignored = train(rows, labels, spec=SPEC, value=outcome[rows.index], graded_width=None)
    assert ignored.fingerprint_ == plain.fingerprint_
    assert np.array_equal(ignored.decision_function(unseen), plain.decision_function(unseen))


def test_a_target_outside_zero_one_is_refused() -> None:
    events, vip = world(200, seed=4)
    features = compute(events, CATALOG, COLLECTIONS, SPEC)
    numeric = features[["spend", "product_views", "sessions"]]
    labels = vip[features["client_id"]].to_numpy()
    with pytest.raises(ModelInputError, match="target"):
        CalibratedBooster(prior="spend").fit(numeric, labels, target=labels * 2.0)
    with pytest.raises(ModelInputError, match="target"):
        CalibratedBooster(prior="spend").fit(numeric, labels, target=labels[:-1])
