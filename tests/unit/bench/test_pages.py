"""`maison bench pages`: product pages of L1 clients against L2/L3 clients' pages, each measured on
the same products, quiet, with consent traffic or merges between pages, and four at a time after
a late event."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
from typer.testing import CliRunner

from maison.bench.cli import app


def test_the_command_times_every_measure_and_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "pages.json"
    answer = CliRunner().invoke(app, ["pages", "--clients", "300", "--products", "200", "--sample", "12",
                                      "--json", str(out)])
    assert answer.exit_code == 0, answer.output
    assert "against the baseline" in answer.output
    figures = orjson.loads(out.read_bytes())
    rows = {r["measure"]: r for r in figures["rows"]}
    assert list(rows) == ["L1 client: no cohort (baseline)", "L2/L3 client: first pages after start",
                          "L2/L3 client: quiet store", "L2/L3 client: a consent entry before each page",
                          "L2/L3 client: an identity merge before each page",
                          "L2/L3 client: 4 at once after a late event"]
    assert rows["L1 client: no cohort (baseline)"]["in_cohort"] == 0  # L1: no behaviour, no cohort
    for r in figures["rows"][1:]:
        assert r["pages"] == 12 and 0 < r["in_cohort"] <= 12  # the cohort path is what is timed
    for r in figures["rows"]:
        assert math.isfinite(r["p50_ms"]) and 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
