"""Fairness audit of a selection (who a score puts in the top group), by sensitive feature.

For each sensitive feature (age band, income band, geography... any `name -> array`), Fairlearn's
`MetricFrame` gives the selection rate and the true-positive rate of every group, and their
ratio: the smallest group's rate over the largest's (1 = parity). A seeded bootstrap (clients
resampled with replacement, as Fairlearn's own) gives percentile intervals. A ratio under
`threshold` (the four-fifths rule, 0.8) is flagged.

Groups too small to estimate a rate (fewer than `min_group_size` clients, or fewer than
`min_positives` true positives for the TPR) are listed and flagged, and left out of the ratios:
a group of three clients would otherwise decide the ratio by chance, silently.

Clients without the attribute (`missing`, e.g. "unknown": not declared, or not usable under their
consent) are reported as their own group with their rates, marked `no_attribute`, and left out
of the ratios and flags: they are not a group of age, income or place, and no value is invented
for them.

Pure functions over arrays; `render_markdown` and `render_rich` print a `FairnessReport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

METRICS = ("selection_rate", "true_positive_rate")
NO_ATTRIBUTE = "unknown"  # the group of clients without the attribute (see `missing`)


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class GroupResult:
    group: str
    n: int
    positives: int  # true positives in the labels (y_true == 1)
    selection_rate: Interval
    true_positive_rate: Interval
    too_small: bool
    no_attribute: bool = False  # the clients without this attribute: reported, never rated


@dataclass(frozen=True, slots=True)
class FeatureResult:
    feature: str
    groups: tuple[GroupResult, ...]
    selection_rate_ratio: Interval
    true_positive_rate_ratio: Interval
    flags: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True, slots=True)
class FairnessReport:
    threshold: float
    n_boot: int
    confidence: float
    min_group_size: int
    min_positives: int
    n: int
    features: tuple[FeatureResult, ...] = field(default_factory=tuple)

    @property
    def flags(self) -> list[str]:
        return [flag for f in self.features for flag in f.flags]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": self.flags}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> FairnessReport:
        """The report back from `to_dict()` (e.g. from a model card), for rendering."""

        def interval(value: dict[str, Any]) -> Interval:
            return Interval(value.get("estimate"), value.get("low"), value.get("high"))

        features = tuple(
            FeatureResult(
                f["feature"],
                tuple(
                    GroupResult(g["group"], int(g["n"]), int(g["positives"]), interval(g["selection_rate"]),
                                interval(g["true_positive_rate"]), bool(g["too_small"]),
                                bool(g.get("no_attribute", False)))
                    for g in f["groups"]
                ),
                interval(f["selection_rate_ratio"]),
                interval(f["true_positive_rate_ratio"]),
                tuple(f["flags"]),
            )
            for f in doc.get("features", ())
        )
        return cls(doc["threshold"], int(doc["n_boot"]), doc["confidence"], int(doc["min_group_size"]),
                   int(doc["min_positives"]), int(doc["n"]), features)

    def summary(self) -> dict[str, Any]:
        """What a model card keeps: the ratios per feature and the flags."""
        return {
            "threshold": self.threshold,
            "ratios": {
                f.feature: {
                    "selection_rate": asdict(f.selection_rate_ratio),
                    "true_positive_rate": asdict(f.true_positive_rate_ratio),
                }
                for f in self.features
            },
            "flags": self.flags,
        }


def audit(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sensitive: Mapping[str, ArrayLike],
    *,
    threshold: float = 0.8,
    n_boot: int = 200,
    confidence: float = 0.95,
    min_group_size: int = 30,
    min_positives: int = 5,
    missing: str | None = None,
    random_state: int = 0,
) -> FairnessReport:
    """Audit binary selections `y_pred` against outcomes `y_true` for each sensitive feature.

    `missing` names the value of clients without the attribute: reported, not rated (see above)."""
    truth, chosen = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if truth.shape != chosen.shape:
        raise ValueError("y_true and y_pred must have the same length")
    if not 0 < threshold <= 1 or not 0 < confidence < 1 or n_boot < 0:
        raise ValueError("threshold must be in (0, 1], confidence in (0, 1) and n_boot >= 0")
    features = tuple(
        _audit_feature(name, truth, chosen, np.asarray(values).astype(str), threshold=threshold, n_boot=n_boot,
                       confidence=confidence, min_group_size=min_group_size, min_positives=min_positives,
                       missing=missing, random_state=random_state)
        for name, values in sensitive.items()
    )
    return FairnessReport(threshold, n_boot, confidence, min_group_size, min_positives, int(truth.size), features)


def select_top(scores: ArrayLike, fraction: float = 0.1) -> np.ndarray[Any, np.dtype[np.int64]]:
    """1 for the `fraction` of clients with the highest scores (ties broken by order), else 0:
    the selection a score makes when it picks, say, the top decile for an invitation."""
    values = np.asarray(scores, dtype=np.float64)
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    chosen = np.zeros(values.size, dtype=np.int64)
    count = int(np.ceil(fraction * values.size))
    chosen[np.argsort(-values, kind="stable")[:count]] = 1
    return chosen


def _binary(values: ArrayLike, name: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    array = np.asarray(values)
    if array.ndim != 1 or not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must be a 1-d array of 0/1 (or booleans)")
    return array.astype(np.int64)


def _audit_feature(
    name: str, truth: np.ndarray[Any, Any], chosen: np.ndarray[Any, Any], groups: np.ndarray[Any, Any], *,
    threshold: float, n_boot: int, confidence: float, min_group_size: int, min_positives: int,
    missing: str | None, random_state: int,
) -> FeatureResult:
    if groups.shape != truth.shape:
        raise ValueError(f"sensitive feature {name!r} must have one value per client")
    labels = sorted(set(groups.tolist()))
    sizes = {g: int((groups == g).sum()) for g in labels}
    positives = {g: int(truth[groups == g].sum()) for g in labels}
    known = [g for g in labels if g != missing]
    rated_sel = [g for g in known if sizes[g] >= min_group_size]
    rated_tpr = [g for g in rated_sel if positives[g] >= min_positives]
    unrated = [missing] if missing is not None and missing in labels else []  # reported, never in a ratio
    tail = (1 - confidence) / 2
    sel = _frame("selection_rate", truth, chosen, groups, rated_sel, unrated, n_boot, tail, random_state)
    tpr = _frame("true_positive_rate", truth, chosen, groups, rated_tpr,
                 [g for g in unrated if positives[g] > 0], n_boot, tail, random_state)
    results = tuple(
        GroupResult(g, sizes[g], positives[g], sel["groups"].get(g, Interval(None, None, None)),
                    tpr["groups"].get(g, Interval(None, None, None)), g != missing and g not in rated_tpr,
                    g == missing)
        for g in labels
    )
    flags = [f"{name}: group {g!r} too small to rate (n={sizes[g]}, positives={positives[g]})"
             for g in known if g not in rated_tpr]
    for metric, ratio in (("selection rate", sel["ratio"]), ("true-positive rate", tpr["ratio"])):
        if ratio.estimate is not None and ratio.estimate < threshold:
            flags.append(f"{name}: {metric} ratio {_fmt(ratio)} is below {threshold:.2f}")
    return FeatureResult(name, results, sel["ratio"], tpr["ratio"], tuple(flags))


def _frame(
    metric: str, truth: np.ndarray[Any, Any], chosen: np.ndarray[Any, Any], groups: np.ndarray[Any, Any],
    rated: list[str], reported: list[str], n_boot: int, tail: float, random_state: int,
) -> dict[str, Any]:
    """Per-group rates from a Fairlearn MetricFrame over the rated and `reported` groups' rows,
    the min/max ratio over the rated groups only, and bootstrap percentile intervals of both."""
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate

    none = Interval(None, None, None)
    shown = sorted([*rated, *reported])
    if not shown:
        return {"groups": {}, "ratio": none}
    keep = np.isin(groups, shown)
    fn = selection_rate if metric == "selection_rate" else true_positive_rate
    frame = MetricFrame(metrics=fn, y_true=truth[keep], y_pred=chosen[keep], sensitive_features=groups[keep])
    estimates = np.array([float(frame.by_group[g]) for g in shown])
    among = np.isin(np.array(shown), rated)
    ratio = None
    if len(rated) > 1:  # Fairlearn's between-groups ratio, over the rated groups only
        between = frame if not reported else MetricFrame(
            metrics=fn, y_true=truth[np.isin(groups, rated)], y_pred=chosen[np.isin(groups, rated)],
            sensitive_features=groups[np.isin(groups, rated)])
        ratio = float(between.ratio())
    low = high = np.full(len(shown), np.nan)
    ratio_low = ratio_high = None
    if n_boot > 0:
        codes = np.searchsorted(np.array(shown), groups[keep])
        rates = _bootstrap_rates(metric, truth[keep], chosen[keep], codes, len(shown), n_boot, random_state)
        low, high = np.nanquantile(rates, [tail, 1 - tail], axis=0)
        if len(rated) > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratios = rates[:, among].min(axis=1) / rates[:, among].max(axis=1)
            ratio_low, ratio_high = (float(q) for q in np.nanquantile(ratios, [tail, 1 - tail]))
    out = {g: Interval(float(estimates[i]), _num(low[i]), _num(high[i])) for i, g in enumerate(shown)}
    return {"groups": out, "ratio": Interval(ratio, ratio_low, ratio_high) if ratio is not None else none}


def _bootstrap_rates(
    metric: str, truth: np.ndarray[Any, Any], chosen: np.ndarray[Any, Any], codes: np.ndarray[Any, Any],
    n_groups: int, n_boot: int, random_state: int,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Rates per (resample, group). Each resample draws the n rows with replacement, as Fairlearn's
    own bootstrap does, but as per-row draw counts summed with `bincount`: Fairlearn's
    MetricFrame bootstrap rebuilds a pandas frame per resample (about 50 s for 200 resamples of
    4,000 rows); this costs a few milliseconds per resample for a million rows."""
    rng = np.random.default_rng(random_state)
    n = truth.size
    if metric == "selection_rate":
        numerator, denominator = chosen, np.ones(n)
    else:
        numerator, denominator = chosen * truth, truth
    rates = np.full((n_boot, n_groups), np.nan)
    for b in range(n_boot):
        weight = np.bincount(rng.integers(0, n, n), minlength=n)  # how often each row is drawn
        top = np.bincount(codes, weights=weight * numerator, minlength=n_groups)
        bottom = np.bincount(codes, weights=weight * denominator, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates[b] = np.where(bottom > 0, top / bottom, np.nan)
    return rates


def _num(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _fmt(value: Interval) -> str:
    if value.estimate is None:
        return "—"
    if value.low is None or value.high is None:
        return f"{value.estimate:.3f}"
    return f"{value.estimate:.3f} [{value.low:.3f}, {value.high:.3f}]"


def _rated(group: GroupResult) -> str:
    return "no attribute" if group.no_attribute else "too small" if group.too_small else "yes"


def render_markdown(report: FairnessReport) -> str:
    """The audit as a markdown document: one table per feature, then the flags."""
    pct = round(report.confidence * 100)
    lines = [f"# Fairness audit ({report.n} clients, {pct}% bootstrap intervals over {report.n_boot} resamples)", ""]
    for f in report.features:
        lines += [
            f"## {f.feature}", "",
            f"Selection-rate ratio: {_fmt(f.selection_rate_ratio)}; "
            f"true-positive-rate ratio: {_fmt(f.true_positive_rate_ratio)}", "",
            "| group | n | positives | selection rate | true-positive rate | rated |", "|---|---|---|---|---|---|",
        ]
        lines += [f"| {g.group} | {g.n} | {g.positives} | {_fmt(g.selection_rate)} | {_fmt(g.true_positive_rate)} | "
                  f"{_rated(g)} |" for g in f.groups]
        lines.append("")
    none = [f"- none: every ratio is at least {report.threshold:.2f}"]
    lines += ["## Flags", ""] + ([f"- {flag}" for flag in report.flags] or none)
    return "\n".join(lines) + "\n"


def render_rich(report: FairnessReport) -> Any:
    """The audit as Rich renderables (tables per feature, flags in red)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    for f in report.features:
        title = f"{f.feature}: selection ratio {_fmt(f.selection_rate_ratio)}, "
        title += f"TPR ratio {_fmt(f.true_positive_rate_ratio)}"
        table = Table("group", "n", "positives", "selection rate", "true-positive rate", "rated", title=title)
        for g in f.groups:
            table.add_row(g.group, str(g.n), str(g.positives), _fmt(g.selection_rate), _fmt(g.true_positive_rate),
                          _rated(g))
        parts.append(table)
    fine = [Text(f"no ratio below {report.threshold:.2f}", style="green")]
    parts += [Text(flag, style="bold red") for flag in report.flags] or fine
    return Group(*parts)
