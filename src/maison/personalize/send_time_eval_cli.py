"""`maison eval sendtime`: Maison's learned send time against a fixed hour and a per-client histogram.

Registered on the `eval` Typer app (`app.command("sendtime")(sendtime)`). An offline evaluation:
it reads the population's raw `population.ndjson` (the opens after the cutoff are the hidden
truth), and scores the product's own estimator (`send_time.estimate`, `clientele_prior`,
`local_minutes`) next to the baselines; see `send_time_eval` for the protocol.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from maison.core.clock import parse_instant, zone
from maison.core.runtime import cli_errors
from maison.personalize.send_time import SendTimePolicy, local_minutes
from maison.personalize.send_time_eval import LABELS, evaluate, split_at

SCENARIO = Path(__file__).resolve().parents[3].parent / "shared" / "scenarios" / "alex-morgan"
EMAIL_OPENED = "Email Opened"
GROUPS = {"all": "all clients", "thin": "thin data", "rich": "more opens"}


def read_opens(lines: Iterable[str]) -> dict[str, list[tuple[datetime, int]]]:
    """Each client's `Email Opened` instants with their local minute of day, from Segment ndjson lines.

    The local time is taken in the zone the event's context carried (the client's zone in the
    population), else at the offset written in its timestamp.
    """
    opens: dict[str, list[tuple[datetime, int]]] = {}
    for line in lines:
        if EMAIL_OPENED not in line:
            continue
        message = json.loads(line)
        if message.get("type") != "track" or message.get("event") != EMAIL_OPENED:
            continue
        client = message.get("userId") or message.get("anonymousId")
        if not client or not message.get("timestamp"):
            continue
        at = parse_instant(message["timestamp"])
        where = zone((message.get("context") or {}).get("timezone"))
        minute = local_minutes([at], where)[0] if where else at.hour * 60 + at.minute
        opens.setdefault(str(client), []).append((at.astimezone(UTC), minute))
    return opens


def render(report: dict[str, Any], console: Console) -> None:
    within = report["within_minutes"]
    for name, label in GROUPS.items():
        results = report["groups"][name]
        some = next(iter(results.values()))
        bound = f"{report['policy']['min_opens']}-{report['thin_max_opens']}" if name == "thin" else (
            f">{report['thin_max_opens']}" if name == "rich" else f">={report['policy']['min_opens']}")
        table = Table(title=f"{label}: {some['clients']} clients ({bound} opens before the cutoff), "
                            f"{some['opens']} later opens")
        for column in ("send time", "mean |Δ| min", "median |Δ| min", f"opens ≤{within} min after",
                       "per-client share"):
            table.add_column(column, justify="left" if column == "send time" else "right")
        best = max((r["share_within"] for r in results.values() if r["share_within"] is not None), default=None)
        for method, r in results.items():
            if r["opens"] == 0:
                table.add_row(LABELS[method], "-", "-", "-", "-")
                continue
            star = " *" if r["share_within"] == best else ""
            table.add_row(LABELS[method], f"{r['mean_minutes']:.0f}", f"{r['median_minutes']:.0f}",
                          f"{r['share_within']:.1%}{star}", f"{r['client_share_within']:.1%}")
        console.print(table)


@cli_errors
def sendtime(
    population: Annotated[
        Path | None,
        typer.Option(envvar="MAISON_POPULATION_CACHE",
                     help="Folder holding population.ndjson (generated into a temporary folder when not given)."),
    ] = None,
    scenario: Annotated[Path, typer.Option(help="The alex-morgan scenario folder (its generator).")] = SCENARIO,
    cutoff: Annotated[str, typer.Option(help="Learn from opens before this ISO date, score on opens after.")]
    = "2026-02-01",
    thin_max: Annotated[int, typer.Option(min=1, help="Clients with at most this many opens count as thin data.")]
    = 4,
    within: Annotated[int, typer.Option(min=1, max=720, help="Minutes after the send time that count as a hit.")]
    = 180,
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the figures.")] = Path(
        "eval-sendtime.json"),
) -> None:
    """Maison's send time vs the fixed 09:00 and each client's modal open hour, on later opens."""
    console = Console()
    at = datetime.fromisoformat(cutoff)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    policy = SendTimePolicy()
    with tempfile.TemporaryDirectory(prefix="maison-eval-") as tmp:
        folder = population
        if folder is None:
            folder = Path(tmp)
            with console.status(f"generating the alex-morgan population into {folder}..."):
                subprocess.run([sys.executable, str(scenario / "generate_population.py"), "--out-dir", str(folder)],
                               check=True, capture_output=True)
        source = folder / "population.ndjson"
        if not source.exists():
            raise typer.BadParameter(f"no population.ndjson in {folder}", param_hint="--population")
        with console.status("reading email opens..."), source.open(encoding="utf-8") as lines:
            opens = read_opens(lines)
    before, after = split_at(opens, cutoff=at, lookback_days=policy.lookback_days)
    report = {"generated_at": datetime.now(UTC).isoformat(), "cutoff": at.isoformat(),
              **evaluate(before, after, policy=policy, thin_max=thin_max, within_minutes=within)}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2))
    render(report, console)
    console.print(f"figures written to {json_path}")
