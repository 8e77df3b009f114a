"""`maison bench ingest` judges the import against its ceiling on pairs measured side by side."""

from __future__ import annotations

import pytest

from maison.bench.figures import Figure
from maison.bench.ingest import BULK_SHARE_GOAL, Round, judge, median_round


def _round(bulk_s: float, raw_s: float) -> Round:
    """A round of 1,000 events: the import in `bulk_s` seconds, its ceiling in `raw_s`."""
    def figure(measure: str, seconds: float) -> Figure:
        return Figure.of("postgresql", measure, events=1_000, seconds=seconds, unit="chunk", latencies=[seconds])
    return Round(figure("bulk import", bulk_s), figure("raw ceiling", raw_s))


def test_a_rounds_share_is_the_imports_throughput_over_the_ceilings() -> None:
    assert _round(4.0, 1.0).share == pytest.approx(0.25)


def test_the_round_with_the_median_share_is_chosen_not_the_fastest_import() -> None:
    fastest = _round(2.0, 0.6)  # 30%
    median = _round(8.0, 3.0)  # 37.5%: the slowest import of the three
    best = _round(5.0, 2.2)  # 44%
    assert median_round([fastest, median, best]) is median
    assert median_round([best]) is best


def test_of_an_even_number_of_rounds_the_lower_middle_share_is_chosen() -> None:
    shares = [_round(2.0, 1.2), _round(2.0, 0.8), _round(2.0, 1.0), _round(2.0, 0.9)]  # 60, 40, 50, 45%
    assert median_round(shares).share == pytest.approx(0.45)


def test_no_round_is_an_error_not_a_figure() -> None:
    with pytest.raises(ValueError, match="no rounds"):
        median_round([])


@pytest.mark.parametrize(("bulk_s", "passed"), [(1.9, True), (2.1, False)])
def test_the_bulk_figure_passes_at_half_the_ceiling_or_more(bulk_s: float, passed: bool) -> None:
    chosen = _round(bulk_s, 1.0)
    judge([chosen.bulk, chosen.raw])
    assert BULK_SHARE_GOAL == 0.5
    assert chosen.bulk.passed is passed
    assert chosen.raw.passed is None  # the yardstick has no goal of its own
    assert f"is {1.0 / bulk_s:.1%}" in chosen.bulk.goal
