"""`maison models train|score|report|list`: versioned models and nightly batch scoring."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from maison.core.clock import parse_instant, utcnow
from maison.core.db import reading
from maison.core.errors import BadRequest
from maison.core.runtime import cli_errors, open_store, out
from maison.core.settings import get_settings
from maison.models import registry, service, trainers
from maison.models.fairness import FairnessReport, render_rich

app = typer.Typer(no_args_is_help=True)


def _instant(value: str | None):  # type: ignore[no-untyped-def]
    if value is None:
        return utcnow()
    try:
        return parse_instant(value)
    except ValueError:
        raise BadRequest(f"--as-of must be an ISO 8601 instant, got {value!r}") from None


@app.command("list")
@cli_errors
def list_() -> None:
    """Models that can be trained, with their newest version."""
    table = Table("model", "reads", "newest version", "description")
    with reading(open_store()) as conn:
        for name in trainers.names():
            spec = trainers.get(name)
            found = registry.versions(conn, name)
            table.add_row(name, ", ".join(spec.categories), found[0].version if found else "—", spec.description)
    out.print(table)


@app.command("train")
@cli_errors
def train(
    name: str = typer.Argument(..., help="Model name (see `maison models list`)."),
    as_of: str = typer.Option(None, "--as-of", help="Train on data before this instant (default: now)."),
) -> None:
    """Train a model on the store and record a new version with its model card."""
    at = _instant(as_of)
    with open_store().begin() as conn, out.status(f"training {name}..."):
        card = service.train(conn, name, as_of=at, now=utcnow(), home=get_settings().home)
    window = f"data {card.data_start:%Y-%m-%d} .. {card.data_end:%Y-%m-%d}" if card.data_start and card.data_end \
        else f"data before {card.data_end:%Y-%m-%d %H:%M}" if card.data_end else "no data window"
    out.print(f"trained [bold]{card.name}[/] version [bold]{card.version}[/] on {card.n_clients} clients ({window})")


@app.command("score")
@cli_errors
def score(
    name: str = typer.Argument(..., help="Model name."),
    as_of: str = typer.Option(None, "--as-of", help="Score on data before this instant (default: now)."),
    version: str = typer.Option(None, "--version", help="A trained version (default: the newest)."),
) -> None:
    """Score every client whose consent allows profiling; scores are stored with the version."""
    at = _instant(as_of)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with open_store().begin() as conn, Progress(*columns, console=out, transient=False) as bar:
        task = bar.add_task(f"scoring {name}", total=None)
        result = service.score(conn, name, as_of=at, now=utcnow(), home=get_settings().home, version=version,
                               on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    out.print(f"{result.model} {result.model_version}: scored {result.scored} of {result.eligible} clients whose "
              f"consent allows profiling ({result.candidates} clients; {result.purged} scores of objectors deleted)")


@app.command("report")
@cli_errors
def report(
    name: str = typer.Argument(..., help="Model name."),
    version: str = typer.Option(None, "--version", help="A trained version (default: the newest)."),
    as_json: bool = typer.Option(False, "--json", help="Print the card as JSON."),
) -> None:
    """Print the model card of a version: data window, metrics, fairness, libraries, fingerprint."""
    trainers.get(name)
    with reading(open_store()) as conn:
        card = registry.card(conn, name, version)
    doc = card.to_dict()
    if as_json:
        print(json.dumps(doc, indent=2, sort_keys=True))
        return
    table = Table("field", "value", title=f"model card: {card.name} {card.version}", show_lines=False)
    for key in ("description", "trained_at", "data_start", "data_end", "n_clients", "data_categories", "fingerprint",
                "artefact_sha256"):
        table.add_row(key, str(doc[key]))
    for key in ("params", "metrics", "libraries"):
        table.add_row(key, json.dumps(doc[key], indent=1, sort_keys=True))
    table.add_row("fairness", _fairness_summary(doc["fairness"]))
    out.print(table)
    if doc["fairness"] and doc["fairness"].get("features"):
        out.print(f"fairness audit: {doc['fairness'].get('selection', 'selection')} among {doc['fairness']['n']} "
                  f"{doc['fairness'].get('population', 'clients')}")
        out.print(render_rich(FairnessReport.from_dict(doc["fairness"])))


def _fairness_summary(fairness: dict[str, Any] | None) -> str:
    if fairness is None:
        return "not audited"
    if "features" not in fairness:  # a card keeping only the ratios and flags
        return json.dumps(fairness, indent=1, sort_keys=True)
    below = [f for f in fairness.get("flags", []) if "below" in f]
    return f"audited on {fairness['n']} clients: " + (f"{len(below)} ratio(s) below {fairness['threshold']:.2f}"
                                                        if below else f"no ratio below {fairness['threshold']:.2f}")
