"""`maison eval vip`: Maison's future-VIP model against two baselines, on three data sets, in one run."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from maison.core.runtime import cli_errors

app = typer.Typer(no_args_is_help=True)
SCENARIO = Path(__file__).resolve().parents[4].parent / "shared" / "scenarios" / "alex-morgan"
DATASETS = ("population", "cdnow", "completejourney")
LABELS = {
    "maison": "Maison future VIP",
    "early_spend": "Early spend (RFM)",
    "bgnbd_gamma_gamma": "BG/NBD + Gamma-Gamma",
}


@app.callback()
def _group() -> None:
    """Evaluations of Maison's models against what a maison would otherwise use."""


def _population(
    store: str | None, population_dir: Path, scenario_dir: Path, sample: int | None, end: datetime, console: Console
) -> dict[str, Any]:
    from maison.core.db import make_engine, upgrade
    from maison.models.evaluation.population import evaluate_population, read_traits, read_truth

    truth = read_truth(population_dir / "population_truth.csv", sample=sample)
    traits = read_traits(population_dir / "population.ndjson", set(truth.vip.index))
    if store is None:  # a temporary store loaded through the normal import path
        from maison.ingest.importer import import_file
        from maison.replay.loader import load_catalog

        folder = Path(tempfile.mkdtemp(prefix="maison-eval-"))
        engine = make_engine(f"sqlite:///{folder / 'population.db'}")
        upgrade(engine)
        with console.status("importing the catalogue and the population into a temporary store..."):
            load_catalog(engine, scenario_dir)
            import_file(engine, population_dir / "population.ndjson")
    else:
        engine = make_engine(store)
    try:
        with engine.connect() as conn, console.status("training on observed outcomes and scoring new customers..."):
            return evaluate_population(conn, truth, end=end, traits=traits)
    finally:
        engine.dispose()


def render(report: dict[str, Any], console: Console) -> None:
    from maison.models.evaluation.goals import BEAT  # with scikit-learn: not at CLI start-up

    for result in report["datasets"]:
        table = Table(
            title=f"{result['dataset']}: first {result['window_days']} days, "
            f"{result['test_clients']} clients scored (top 10% = future VIP)"
        )
        for column in ("ranking", "ROC AUC", "avg precision", "precision top 10%", "lift top 10%"):
            table.add_column(column, justify="left" if column == "ranking" else "right")
        best = max(m["roc_auc"] for m in result["metrics"].values())
        for name, m in result["metrics"].items():
            auc = f"{m['roc_auc']:.3f}" + (" *" if m["roc_auc"] == best else "")
            table.add_row(
                LABELS.get(name, name),
                auc,
                f"{m['average_precision']:.3f}",
                f"{m['precision_top']:.3f}",
                f"{m['lift_top']:.2f}",
            )
        console.print(table)
        for name, by_metric in (result.get("versus") or {}).items():
            parts = [
                f"{label} {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
                for label, d in (("ROC AUC", by_metric["roc_auc"]), ("avg precision", by_metric["average_precision"]))
            ]
            console.print(f"Maison minus {LABELS.get(name, name)} (95% paired bootstrap): " + "; ".join(parts))
        target = result.get("goal")
        if target:
            if target["rule"] == BEAT:
                verdict = ("MET" + ("" if target["significant"] else
                                    " (point estimates; an interval includes zero)")) if target["met"] else "MISSED"
            else:
                best = LABELS.get(target["against"], target["against"])
                verdict = f"MET (not significantly below {best})" if target["met"] else f"MISSED (below {best})"
            console.print(f"goal: {target['rule']} (data: {target['why']}): {verdict}")
        fair = result.get("fairness")
        if fair:
            below = [f for f in fair.get("flags") or [] if "below" in f]
            small = len(fair.get("flags") or []) - len(below)
            features = ", ".join(f["feature"] for f in fair["features"])
            console.print(
                f"fairness of the top 10% ({features}): "
                + ("; ".join(below) or "no ratio below 0.8")
                + (f" ({small} groups too small to rate; see the JSON)" if small else "")
            )
            for line in selection_ratio_lines(fair, result.get("fairness_baselines") or {}):
                console.print(line)


def selection_ratio_lines(maison: dict[str, Any], baselines: dict[str, Any]) -> list[str]:
    """Per audited attribute, the selection-rate ratio of each ranking's top decile side by side:
    whether a skew is the model's own or already in what the baselines rank by."""
    audits = {"maison": maison, **{name: audit for name, audit in baselines.items() if audit}}
    lines = []
    for feature in (f["feature"] for f in maison["features"]):
        ratios = []
        for name, audit in audits.items():
            found = next((f for f in audit["features"] if f["feature"] == feature), None)
            estimate = None if found is None else found["selection_rate_ratio"]["estimate"]
            ratios.append(f"{LABELS.get(name, name)} {'-' if estimate is None else f'{estimate:.2f}'}")
        lines.append(f"  selection-rate ratio by {feature}: " + ", ".join(ratios))
    return lines


@app.command("vip")
@cli_errors
def vip(
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path("eval-vip.json"),
    datasets: Annotated[str, typer.Option(help=f"Comma-separated, among {', '.join(DATASETS)}.")] = ",".join(DATASETS),
    store: Annotated[
        str | None,
        typer.Option(
            help="Database URL of a store holding the population (default: import it into a temporary SQLite store)."
        ),
    ] = None,
    population_dir: Annotated[
        Path,
        typer.Option(envvar="MAISON_POPULATION_CACHE", help="Folder of population.ndjson and population_truth.csv."),
    ] = Path("."),
    scenario_dir: Annotated[
        Path, typer.Option(help="Folder of the catalogue (catalog.jsonl) for the import.")
    ] = SCENARIO,
    end: Annotated[str, typer.Option(help="End of the population's observed data (ISO date).")] = "2026-04-01",
    sample: Annotated[
        int | None, typer.Option(help="Evaluate a subsample of clients per data set (fast check).")
    ] = None,
) -> None:
    """Maison's model vs ranking by early spend and BG/NBD + Gamma-Gamma, on each data set."""
    from maison.models.evaluation import datasets as public
    from maison.models.evaluation.run import evaluate

    console = Console()
    wanted = [d.strip() for d in datasets.split(",") if d.strip()]
    unknown = sorted(set(wanted) - set(DATASETS))
    if unknown:
        raise typer.BadParameter(f"unknown data sets {unknown}; allowed: {', '.join(DATASETS)}")
    results = []
    for name in wanted:
        if name == "population":
            at = datetime.fromisoformat(end).replace(tzinfo=UTC)
            results.append(_population(store, population_dir, scenario_dir, sample, at, console))
        else:
            with console.status(f"{name}: building features and fitting..."):
                data = public.cdnow(sample=sample) if name == "cdnow" else public.complete_journey(sample=sample)
                results.append(evaluate(data))
    report = {"generated_at": datetime.now(UTC).isoformat(), "top_fraction": 0.1, "datasets": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    render(report, console)
    console.print(f"report written to {out}")
