"""What a benchmark measured, the goal it is held to, and how it is shown (Rich table, JSON)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    """One measurement: throughput over `seconds`, latency per `unit` (ms), and its goal."""

    backend: str
    measure: str
    events: int
    seconds: float
    unit: str
    p50_ms: float
    p99_ms: float
    goal: str = ""
    passed: bool | None = None  # None: no goal (informational)
    failures: int = 0  # messages not stored once: non-200, rejected, duplicate (figure untrustworthy)
    dropped: int = 0  # refused by consent policy: processed, counted in `events`, not stored
    cpu_us_per_event: dict[str, float] | None = None  # by party (`bench.cpu`), where it could be read

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else math.nan

    @classmethod
    def of(
        cls, backend: str, measure: str, *, events: int, seconds: float, unit: str, latencies: Sequence[float],
        failures: int = 0, dropped: int = 0,
    ) -> Figure:
        return cls(
            backend, measure, events, seconds, unit,
            p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
            failures=failures, dropped=dropped,
        )

    def hold_to(self, goal: str, passed: bool) -> Figure:
        self.goal, self.passed = goal, passed and self.failures == 0
        return self

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "events_per_s": round(self.events_per_s, 1)}


def table(figures: Sequence[Figure], *, title: str) -> Table:
    t = Table(title=title)
    for name, justify in (
        ("backend", "left"), ("measure", "left"), ("events", "right"), ("events/s", "right"),
        ("p50 ms", "right"), ("p99 ms", "right"), ("latency of", "left"), ("goal", "left"), ("", "left"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in figures:
        verdict = "" if f.passed is None else "[green]PASS[/]" if f.passed else "[red]MISS[/]"
        if f.failures:
            verdict += f" [red]{f.failures:,} failed[/]"
        if f.dropped:
            verdict += f" {f.dropped:,} dropped by consent"
        t.add_row(
            f.backend, f.measure, f"{f.events:,}", f"{f.events_per_s:,.0f}",
            f"{f.p50_ms:.1f}", f"{f.p99_ms:.1f}", f.unit, f.goal, verdict,
        )
    return t


def write_json(path: Path, figures: Sequence[Figure], *, settings: dict[str, Any]) -> None:
    payload = {"settings": settings, "figures": [f.to_dict() for f in figures]}
    path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
