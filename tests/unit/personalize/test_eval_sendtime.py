"""`maison eval sendtime`: the learned send time beats the fixed hour and holds up on thin data."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from maison.evaluation.cli import app
from maison.personalize.send_time_eval import (
    METHODS,
    circular_distance,
    evaluate,
    histogram_minute,
    lands_before,
    split_at,
)
from maison.personalize.send_time_eval_cli import read_opens

CUTOFF = datetime(2026, 2, 1, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def synthetic_opens(seed: int, *, clients: int = 240, noise: float = 40.0) -> dict[str, list[tuple[datetime, int]]]:
    """Clients with a hidden preferred minute (08:00-21:00) who open weekly Thursdays around it, with noise.

    Half of them opened 3 times before the cutoff (thin data), half 8 times; all open 4 times after.
    """
    rng = random.Random(seed)
    opens: dict[str, list[tuple[datetime, int]]] = {}
    for i in range(clients):
        preferred = rng.uniform(8 * 60, 21 * 60)
        weeks_before = 3 if i % 2 else 8
        pairs = []
        for week in [*range(-weeks_before, 0), *range(4)]:
            minute = int(min(23 * 60 + 59, max(0, rng.gauss(preferred, noise))))
            day = CUTOFF + timedelta(days=7 * week + 3)
            pairs.append((day.replace(hour=minute // 60, minute=minute % 60), minute))
        opens[f"cus_{i}"] = pairs
    return opens


def test_circular_distance_goes_the_short_way_round_midnight() -> None:
    assert circular_distance(23 * 60 + 50, 10) == 20
    assert circular_distance(9 * 60, 21 * 60) == 720


def test_an_open_counts_as_a_hit_only_in_the_window_after_the_send() -> None:
    assert lands_before(20 * 60, 22 * 60, within_minutes=180)
    assert not lands_before(20 * 60, 19 * 60 + 59, within_minutes=180)
    assert lands_before(23 * 60, 60, within_minutes=180)  # past midnight


def test_histogram_sends_at_the_start_of_the_modal_hour_and_the_earliest_on_a_tie() -> None:
    assert histogram_minute([19 * 60 + 10, 19 * 60 + 50, 7 * 60], default=540) == 19 * 60
    assert histogram_minute([20 * 60 + 5, 8 * 60 + 30], default=540) == 8 * 60
    assert histogram_minute([], default=540) == 540


def test_split_keeps_the_lookback_window_before_the_cutoff_and_everything_after() -> None:
    old, before, after = CUTOFF - timedelta(days=400), CUTOFF - timedelta(days=3), CUTOFF + timedelta(days=3)
    early, late = split_at({"c": [(after, 3), (old, 1), (before, 2)]}, cutoff=CUTOFF, lookback_days=182)
    assert early == {"c": [2]} and late == {"c": [3]}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maison_beats_the_fixed_hour_and_is_no_worse_than_the_histogram_on_thin_data(seed: int) -> None:
    before, after = split_at(synthetic_opens(seed), cutoff=CUTOFF, lookback_days=182)
    report = evaluate(before, after, thin_max=4)
    everyone, thin = report["groups"]["all"], report["groups"]["thin"]
    assert thin["maison"]["clients"] == 120 and report["eligible_clients"] == 240
    assert everyone["maison"]["share_within"] > everyone["fixed_hour"]["share_within"] + 0.3
    assert everyone["maison"]["mean_minutes"] < everyone["fixed_hour"]["mean_minutes"] / 2
    # Thin data: the shrunk median is at least as close as the modal hour (median distance), and its
    # mean distance, which a few scattered clients dominate, stays within sampling noise of it.
    assert thin["maison"]["median_minutes"] <= thin["histogram"]["median_minutes"]
    assert thin["maison"]["mean_minutes"] <= 1.1 * thin["histogram"]["mean_minutes"]


def test_read_opens_takes_local_time_in_the_zone_the_event_carried() -> None:
    lines = [
        json.dumps({"type": "track", "event": "Email Opened", "userId": "cus_1",
                    "timestamp": "2026-01-08T19:30:00Z", "context": {"timezone": "Europe/Paris"}}),
        json.dumps({"type": "track", "event": "Email Opened", "userId": "cus_1",
                    "timestamp": "2026-01-15T08:05:00+01:00", "context": {}}),
        json.dumps({"type": "track", "event": "Product Viewed", "userId": "cus_1",
                    "timestamp": "2026-01-15T08:05:00Z", "properties": {"name": "Email Opened"}}),
    ]
    opens = read_opens(lines)
    assert [m for _, m in opens["cus_1"]] == [20 * 60 + 30, 8 * 60 + 5]


def test_the_command_writes_the_three_methods_for_each_group(tmp_path: Path) -> None:
    with (tmp_path / "population.ndjson").open("w") as f:
        for client, pairs in synthetic_opens(7, clients=120).items():
            for at, _ in pairs:
                local = at.replace(tzinfo=PARIS)  # the minute is the Paris wall time
                f.write(json.dumps({"type": "track", "event": "Email Opened", "userId": client,
                                    "timestamp": local.isoformat(), "context": {"timezone": "Europe/Paris"}}) + "\n")
    out = tmp_path / "sendtime.json"
    result = CliRunner().invoke(app, ["sendtime", "--population", str(tmp_path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["groups"]) == {"all", "thin", "rich"}
    assert all(set(group) == set(METHODS) for group in report["groups"].values())
    assert report["groups"]["all"]["maison"]["clients"] == 120
    everyone = report["groups"]["all"]
    assert everyone["maison"]["share_within"] > everyone["fixed_hour"]["share_within"]


def test_the_command_says_when_the_folder_has_no_population(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sendtime", "--population", str(tmp_path), "--json", str(tmp_path / "x.json")])
    assert result.exit_code != 0
    assert "population.ndjson" in result.output
