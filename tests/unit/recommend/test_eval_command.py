"""`maison eval recs` end to end on a tiny clustered data set (the real data sets run outside the suite)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from maison.evaluation.cli import app
from maison.recommend import report
from maison.recommend.content import ItemAttributes
from maison.recommend.datasets import Dataset
from maison.recommend.log import EventLog, Kind


def tiny(name: str, **_: object) -> Dataset:
    """Two taste clusters of 300 users over 40 items in two categories, 150 days; test = the last 30."""
    rng = np.random.default_rng(11)
    rows = []
    for u in range(300):
        half = u % 2
        for _ in range(40):
            item = int(rng.integers(0, 20)) + 20 * half if rng.random() < 0.85 else int(rng.integers(0, 40))
            kind = Kind.PURCHASE if rng.random() < 0.3 else Kind.VIEW
            rows.append((f"u{u:03d}", f"i{item:02d}", kind, float(rng.uniform(0, 150)), 1.0))
    items = [f"i{i:02d}" for i in range(40)]
    log = EventLog.build(rows, users=[f"u{u:03d}" for u in range(300)], items=items)
    attrs = tuple(ItemAttributes(i, category="A" if n < 20 else "B", tags=(f"t{n % 5}",)) for n, i in enumerate(items))
    groups = {"cluster-0": np.arange(0, 300, 2), "cluster-1": np.arange(1, 300, 2)}
    return Dataset(name, log, log.of_kind(Kind.PURCHASE), attrs, 120.0, 150.0, 30.0, groups)


def test_eval_recs_prints_every_model_writes_json_and_maison_beats_the_baselines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "load", tiny)
    monkeypatch.setattr(report, "MAISON_GRID", [{"n_estimators": 40, "min_child_samples": 10, "candidates": 40}])
    out = tmp_path / "recs.json"
    result = CliRunner().invoke(app, ["recs", "--datasets", "completejourney", "--no-tune", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    models = {(r["variant"], r["model"]) for r in doc["results"]}
    assert models == {(v, m) for v in ("all", "new") for m in ("popularity", "repurchase", "implicit ALS",
                                                                "maison hybrid")}
    for r in doc["results"]:
        assert 0.0 <= r["metrics"]["recall"] <= 1.0 and 0.0 <= r["metrics"]["ndcg"] <= r["metrics"]["hit_rate"]
        assert set(r["groups"]) == {"cluster-0", "cluster-1"}
    new = {r["model"]: r["metrics"] for r in doc["results"] if r["variant"] == "new"}
    assert new["repurchase"] == new["popularity"]  # nothing to repurchase among new items: popularity fill
    assert all(doc["verdicts"].values()), doc["verdicts"]
    assert "maison hybrid" in result.output and "beats all baselines" in result.output


def test_settings_are_chosen_on_the_validation_window_before_the_test_window() -> None:
    from maison.recommend import offline
    from maison.recommend.content import item_features

    ds = tiny("tiny")
    seen: list[tuple[float, float]] = []
    original = offline.evaluate_at

    def spy(ds: Dataset, *, start: float, end: float, **kw: object) -> list[offline.Result]:
        seen.append((start, end))
        return original(ds, start=start, end=end, **kw)  # type: ignore[arg-type]

    grid = [{"n_estimators": 20, "min_child_samples": 10, "candidates": 40},
            {"n_estimators": 30, "min_child_samples": 10, "candidates": 20}]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(offline, "evaluate_at", spy)
        maison, als = offline.tune(ds, variant="new", k=10, features=item_features(ds.items), maison_grid=grid,
                                   als_grid=[{"factors": 8}, {"factors": 16}], say=lambda _: None)
    assert maison in grid and als in ({"factors": 8}, {"factors": 16})
    assert seen and all(end <= ds.test_start for _, end in seen)  # the test window is never read while tuning
