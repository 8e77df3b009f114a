"""`maison replay FOLDER`: replay a scenario folder into a fresh store and write its outputs."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from maison.core.clock import parse_instant
from maison.core.errors import BadRequest
from maison.core.runtime import cli_errors, err, out
from maison.replay import runner

app = typer.Typer(no_args_is_help=True)


@app.command()
@cli_errors
def replay(
    folder: Annotated[Path, typer.Argument(help="Folder with catalog.jsonl and content_pages.jsonl.")],
    stream: Annotated[list[Path], typer.Option("--stream", help="An NDJSON event file (repeatable); "
                                               "relative paths are also looked up in FOLDER.")],
    client: Annotated[list[str], typer.Option("--client", help="userId, email or other identifier (repeatable).")],
    start: Annotated[str, typer.Option("--start", help="Monday of week 1, e.g. 2026-01-05.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write digests/, privacy/, product_pages/.")],
    weeks: Annotated[int, typer.Option("--weeks", help="Weeks to produce from --start.")] = 12,
    population: Annotated[Path | None, typer.Option("--population", help="Background events file.")] = None,
    product: Annotated[list[str] | None, typer.Option("--product", help="Product page to write (repeatable).")] = None,
    at: Annotated[list[str] | None, typer.Option("--at", help="ISO instant for privacy settings and product "
                                                 "pages (repeatable); default: each send instant.")] = None,
    store: Annotated[str | None, typer.Option("--store", help="SQLAlchemy URL of an empty store to keep; "
                                              "default: a temporary SQLite file.")] = None,
) -> None:
    """Replay events in time order into a fresh store and write digests, privacy settings and
    product pages as of their instants (no look-ahead)."""
    try:
        monday = date.fromisoformat(start)
    except ValueError:
        raise BadRequest(f"--start is not a date: {start!r}; write it like 2026-01-05") from None
    instants = [_instant(a) for a in at or []]
    request = runner.ReplayRequest(
        folder=folder,
        streams=[runner.resolve_stream(folder, s) for s in stream],
        population=runner.resolve_stream(folder, population) if population else None,
        clients=client, start=monday, weeks=weeks, out=out_dir, products=product or [], instants=instants,
        store_url=store,
    )
    runner.validate(request)
    with out.status("replaying...") as status:
        report = runner.run(request, progress=lambda message: status.update(escape(message)))
    out.print(
        f"loaded {report.products} products, {report.content_pages} content pages and {report.events} events "
        f"({report.rejected} rejected); wrote {report.digests} digests and {len(report.files)} files to "
        f"{escape(str(out_dir))}"
    )
    for line in report.skipped:
        err.print(f"[yellow]{escape(line)}[/]")


def _instant(value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError:
        raise BadRequest(
            f"--at is not an ISO 8601 instant: {value!r}; write it like 2026-02-02T20:15:00+00:00"
        ) from None
