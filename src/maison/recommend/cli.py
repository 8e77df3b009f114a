"""`maison eval recs`: the offline evaluation of the recommenders, as a plain command function.

It is registered on the `eval` Typer app (`app.command("recs")(recs)`), wherever that app lives.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

from maison.core.runtime import out

SCENARIO = Path(__file__).resolve().parents[3].parent / "shared" / "scenarios" / "alex-morgan"
DATASETS = ("alex-morgan", "completejourney")


def recs(
    datasets: str = typer.Option(",".join(DATASETS), help="Which data sets (comma-separated): "
                                                           + ", ".join(DATASETS) + "."),
    scenario: Path = typer.Option(SCENARIO, help="The alex-morgan scenario folder (catalog.jsonl, generator)."),
    population: Path = typer.Option(None, help="A folder holding population.ndjson (and population_truth.csv); "
                                               "generated into a temporary folder when not given."),
    k: int = typer.Option(10, min=1, max=100, help="Cut-off of the metrics."),
    tune: bool = typer.Option(True, help="Choose Maison's and ALS's settings on the validation window."),
    json_path: Path = typer.Option(Path("recs-eval.json"), "--json", help="Where to write the figures."),
) -> None:
    """Recall/NDCG/HitRate@k of Maison's hybrid ranker against popularity, repurchase and implicit ALS,
    for all items and for items new to the client, on the alex-morgan population and Complete Journey."""
    from maison.recommend.report import run_and_report

    chosen = [d.strip() for d in datasets.split(",") if d.strip()]
    if not chosen or set(chosen) - set(DATASETS):
        raise typer.BadParameter(f"must be some of {', '.join(DATASETS)}", param_hint="--datasets")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="maison-eval-") as tmp:
        folder = population
        if "alex-morgan" in chosen and folder is None:
            folder = Path(tmp)
            out.print(f"generating the alex-morgan population into {folder}")
            subprocess.run([sys.executable, str(scenario / "generate_population.py"), "--out-dir", str(folder)],
                           check=True, capture_output=True)
        ok = run_and_report(chosen, scenario=scenario, population=folder, k=k, tune=tune, json_path=json_path,
                            say=out.print)
    out.print(f"figures written to {json_path} ({time.perf_counter() - started:.0f} s)")
    if not ok:
        raise typer.Exit(1)
