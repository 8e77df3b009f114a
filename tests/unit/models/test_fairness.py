"""The fairness audit: rates and ratios by group, bootstrap intervals, small groups, flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maison.models.fairness import audit, render_markdown, render_rich


def exact_groups(spec: dict[str, tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows per group from exact counts: (n, true positives, selected among positives, selected among negatives)."""
    truth, chosen, group = [], [], []
    for name, (n, pos, sel_pos, sel_neg) in spec.items():
        truth += [1] * pos + [0] * (n - pos)
        chosen += [1] * sel_pos + [0] * (pos - sel_pos) + [1] * sel_neg + [0] * (n - pos - sel_neg)
        group += [name] * n
    return np.array(truth), np.array(chosen), np.array(group)


def test_a_selector_that_favours_one_group_is_flagged_on_both_rates():
    # A: 1000 clients, 200 positives, selects 150 of them and 150 others -> selection 0.30, TPR 0.75
    # B: 1000 clients, 200 positives, selects 50 of them and 50 others   -> selection 0.10, TPR 0.25
    truth, chosen, group = exact_groups({"A": (1000, 200, 150, 150), "B": (1000, 200, 50, 50)})
    report = audit(truth, chosen, {"income_band": group}, n_boot=100)
    (feature,) = report.features
    rates = {g.group: (g.selection_rate.estimate, g.true_positive_rate.estimate) for g in feature.groups}
    assert rates == {"A": pytest.approx((0.30, 0.75)), "B": pytest.approx((0.10, 0.25))}
    assert feature.selection_rate_ratio.estimate == pytest.approx(1 / 3)
    assert feature.true_positive_rate_ratio.estimate == pytest.approx(1 / 3)
    assert len(report.flags) == 2 and all("income_band" in f and "below 0.80" in f for f in report.flags)


def test_a_selector_that_depends_only_on_the_outcome_is_not_flagged():
    # same TPR (0.8) and false-positive rate (0.05) in every group, same base rate: parity
    truth, chosen, group = exact_groups({"18-34": (2000, 400, 320, 80), "35-54": (3000, 600, 480, 120),
                                         "55+": (1000, 200, 160, 40)})
    report = audit(truth, chosen, {"age_band": group}, n_boot=100)
    (feature,) = report.features
    assert feature.selection_rate_ratio.estimate == pytest.approx(1.0)
    assert feature.true_positive_rate_ratio.estimate == pytest.approx(1.0)
    assert report.flags == [] and not feature.flagged


def test_the_threshold_is_configurable():
    truth, chosen, group = exact_groups({"A": (1000, 200, 100, 100), "B": (1000, 200, 75, 75)})  # ratio 0.75
    assert audit(truth, chosen, {"geo": group}, n_boot=0).flags
    assert audit(truth, chosen, {"geo": group}, n_boot=0, threshold=0.7).flags == []


def test_bootstrap_intervals_contain_the_estimate_and_have_the_binomial_width():
    truth, chosen, group = exact_groups({"A": (2000, 400, 300, 300), "B": (2000, 400, 150, 150)})
    report = audit(truth, chosen, {"geo": group}, n_boot=400, random_state=7)
    a = next(g for g in report.features[0].groups if g.group == "A")
    assert a.selection_rate.low < 0.30 < a.selection_rate.high
    half_width = (a.selection_rate.high - a.selection_rate.low) / 2
    assert half_width == pytest.approx(1.96 * np.sqrt(0.3 * 0.7 / 2000), rel=0.25)
    ratio = report.features[0].selection_rate_ratio
    assert ratio.estimate == pytest.approx(0.5) and ratio.low < 0.5 < ratio.high


def test_intervals_cover_the_true_rates_about_95_percent_of_the_time():
    rng = np.random.default_rng(3)
    true_rate, covered, runs = 0.25, 0, 40
    for seed in range(runs):
        group = np.repeat(["A", "B"], 300)
        chosen = (rng.random(600) < true_rate).astype(int)
        truth = (rng.random(600) < 0.5).astype(int)
        report = audit(truth, chosen, {"g": group}, n_boot=100, random_state=seed)
        a = next(g for g in report.features[0].groups if g.group == "A")
        covered += a.selection_rate.low <= true_rate <= a.selection_rate.high
    assert 0.85 <= covered / runs <= 1.0


def test_groups_too_small_are_flagged_and_left_out_of_the_ratio():
    truth, chosen, group = exact_groups({"Paris": (1000, 200, 100, 100), "London": (1000, 200, 100, 100),
                                         "Oslo": (8, 2, 0, 0)})  # nobody selected, but only 8 clients
    report = audit(truth, chosen, {"geography": group}, n_boot=50, min_group_size=30)
    feature = report.features[0]
    oslo = next(g for g in feature.groups if g.group == "Oslo")
    assert oslo.too_small and oslo.n == 8 and oslo.selection_rate.estimate is None
    assert feature.selection_rate_ratio.estimate == pytest.approx(1.0)  # not 0 because of Oslo
    assert report.flags == ["geography: group 'Oslo' too small to rate (n=8, positives=2)"]


def test_a_group_with_too_few_positives_gets_no_true_positive_rate():
    truth, chosen, group = exact_groups({"A": (500, 100, 50, 50), "B": (500, 3, 0, 100)})
    feature = audit(truth, chosen, {"g": group}, n_boot=0, min_positives=5).features[0]
    b = next(g for g in feature.groups if g.group == "B")
    assert b.too_small and b.true_positive_rate.estimate is None and b.selection_rate.estimate == pytest.approx(0.2)
    assert feature.true_positive_rate_ratio.estimate is None  # one rated group: no ratio


def test_the_bootstrap_is_seeded():
    truth, chosen, group = exact_groups({"A": (300, 60, 30, 30), "B": (300, 60, 20, 20)})
    first, again = (audit(truth, chosen, {"g": group}, n_boot=100, random_state=1).to_dict() for _ in range(2))
    other = audit(truth, chosen, {"g": group}, n_boot=100, random_state=2).to_dict()
    assert first == again and first != other


def test_the_report_serialises_and_renders_its_flags():
    truth, chosen, group = exact_groups({"A": (1000, 200, 150, 150), "B": (1000, 200, 50, 50)})
    report = audit(truth, chosen, {"income_band": group, "age_band": np.repeat(["x", "y"], 1000)}, n_boot=50)
    doc = json.loads(json.dumps(report.to_dict()))
    assert [f["feature"] for f in doc["features"]] == ["income_band", "age_band"]
    assert doc["flags"] == report.flags and report.summary()["flags"] == report.flags
    markdown = render_markdown(report)
    assert "## income_band" in markdown and "| A | 1000 | 200 | 0.300" in markdown
    assert all(f in markdown for f in report.flags)
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(render_rich(report))
    assert "below 0.80" in console.export_text()


@pytest.mark.parametrize("bad", [{"y_true": [0, 2]}, {"y_pred": [0]}])
def test_inputs_that_are_not_binary_or_aligned_are_refused(bad):
    args = {"y_true": [0, 1], "y_pred": [1, 0], **bad}
    with pytest.raises(ValueError):
        audit(args["y_true"], args["y_pred"], {"g": ["a", "b"]})


def test_the_top_decile_of_scores_is_the_selection_audited():
    from maison.models.fairness import select_top

    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.2, 0.3, 0.8, 0.4, 0.6, 0.0, 0.95, 0.05])
    assert select_top(scores, 0.25).tolist() == [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]
    assert select_top(scores, 0.1).sum() == 2  # ceil(1.2)


def test_clients_without_the_attribute_are_reported_as_such_and_never_rated():
    # "unknown" is selected far less, but it is not an age band: reported, not in the ratio, no flag
    truth, chosen, group = exact_groups({"25-34": (1000, 200, 100, 100), "35-44": (1000, 200, 100, 100),
                                         "unknown": (1000, 200, 10, 10)})
    report = audit(truth, chosen, {"age_band": group}, n_boot=50, missing="unknown")
    (feature,) = report.features
    unknown = next(g for g in feature.groups if g.group == "unknown")
    assert unknown.no_attribute and not unknown.too_small and unknown.n == 1000
    assert unknown.selection_rate.estimate == pytest.approx(0.02) and unknown.selection_rate.low is not None
    assert unknown.true_positive_rate.estimate == pytest.approx(0.05)
    assert feature.selection_rate_ratio.estimate == pytest.approx(1.0)
    assert feature.selection_rate_ratio.low > 0.8  # the bootstrap ratio leaves "unknown" out too
    assert report.flags == []
    assert "no attribute" in render_markdown(report)
    without = audit(truth, chosen, {"age_band": group}, n_boot=0)  # the same group named as a band is rated
    assert without.features[0].selection_rate_ratio.estimate == pytest.approx(0.1) and without.flags


def test_a_report_read_back_from_its_dict_renders_the_same():
    from maison.models.fairness import FairnessReport

    truth, chosen, group = exact_groups({"A": (400, 80, 60, 60), "B": (400, 80, 20, 20), "unknown": (50, 10, 1, 1),
                                         "C": (10, 2, 0, 0)})
    report = audit(truth, chosen, {"geography": group}, n_boot=30, missing="unknown")
    again = FairnessReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report and render_markdown(again) == render_markdown(report)
