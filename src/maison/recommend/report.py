"""`maison eval recs`: load the data sets, run the protocol of `offline`, print and write the figures."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from maison.recommend import datasets, offline
from maison.recommend.offline import BASELINES, MAISON, Result

# Small grids, chosen on the validation window only (see `offline.tune`).
MAISON_GRID: list[dict[str, Any]] = [{}, {"candidates": 150, "num_leaves": 63, "n_estimators": 250,
                                          "learning_rate": 0.04}]
ALS_GRID: list[dict[str, Any]] = [{"factors": 64, "regularization": 0.05}, {"factors": 128, "regularization": 0.5}]


def load(name: str, *, scenario: Path, population: Path | None) -> datasets.Dataset:
    if name == "alex-morgan":
        assert population is not None
        truth = population / "population_truth.csv"
        return datasets.alex_morgan(population / "population.ndjson", scenario / "catalog.jsonl",
                                    truth_csv=truth if truth.exists() else None)
    return datasets.complete_journey()


def table(results: Sequence[Result], *, k: int) -> Table:
    t = Table(title=f"maison eval recs: @{k}, test window after the cutoff; best per column in bold")
    for name in ("data set", "items", "model", "users", f"Recall@{k}", f"NDCG@{k}", f"HitRate@{k}", "fit+score s"):
        t.add_column(name, justify="left" if name in ("data set", "items", "model") else "right")
    verdict = offline.verdicts(results)
    for key in sorted({(r.dataset, r.variant) for r in results}):
        rows = [r for r in results if (r.dataset, r.variant) == key]
        best = {m: max(r.metrics[m] for r in rows) for m in ("recall", "ndcg", "hit_rate")}
        for r in rows:
            cells = [f"[bold]{r.metrics[m]:.4f}[/]" if r.metrics[m] == best[m] else f"{r.metrics[m]:.4f}"
                     for m in ("recall", "ndcg", "hit_rate")]
            model = r.model if r.model != MAISON else (
                f"{MAISON} " + ("[green]beats all baselines[/]" if verdict[key] else "[red]does not beat all[/]"))
            t.add_row(r.dataset, r.variant, model, f"{r.metrics['users']:,}", *cells, f"{r.seconds:.1f}")
        t.add_section()
    return t


def groups_table(results: Sequence[Result], *, k: int) -> Table | None:
    rows = [r for r in results if r.groups]
    if not rows:
        return None
    t = Table(title=f"alex-morgan by hidden cluster (evaluation only): Recall@{k}")
    names = sorted({g for r in rows for g in r.groups})
    for col in ("items", "model", *names):
        t.add_column(col, justify="left" if col in ("items", "model") else "right")
    for r in rows:
        t.add_row(r.variant, r.model, *(_fmt(r.groups[g]["recall"]) for g in names))
    return t


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def run_and_report(names: Sequence[str], *, scenario: Path, population: Path | None, k: int, tune: bool,
                   json_path: Path, say: Callable[[str], None]) -> bool:
    """Run every data set, print the tables, write the JSON; True when Maison beats every baseline everywhere."""
    results: list[Result] = []
    for name in names:
        say(f"loading {name}")
        ds = load(name, scenario=scenario, population=population)
        say(f"  {ds.log.n_users:,} users, {ds.log.n_items:,} items, {len(ds.log):,} events; test window "
            f"[{ds.test_start:.0f}, {ds.test_end:.0f}) days")
        results += offline.run(ds, k=k, maison_grid=MAISON_GRID if tune else MAISON_GRID[:1],
                               als_grid=ALS_GRID if tune else ALS_GRID[:1], say=say)
    wide = Console(width=160)
    wide.print(table(results, k=k))
    extra = groups_table(results, k=k)
    if extra is not None:
        wide.print(extra)
    verdict = offline.verdicts(results)
    payload = {"k": k, "baselines": list(BASELINES), "model": MAISON,
               "verdicts": {f"{d} / {v}": ok for (d, v), ok in verdict.items()},
               "results": [asdict(r) for r in results]}
    json_path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    return all(verdict.values())
