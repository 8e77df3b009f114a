"""`maison segments show [--as-of INSTANT]`: the behavioural segments, their sizes and descriptions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from maison.core.clock import parse_instant, utcnow
from maison.core.db import reading
from maison.core.errors import BadRequest
from maison.core.runtime import cli_errors, open_store, out
from maison.models.segments import service

app = typer.Typer(no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Behavioural micro-segments (clients who browse like each other)."""


@app.command()
@cli_errors
def show(
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO 8601 instant (default: now). The model "
                                              "is fitted on events before the start of its 28-day period.")] = None,
) -> None:
    """List the segments as of an instant: size and a plain-words description of each."""
    try:
        at = parse_instant(as_of) if as_of else utcnow()
    except ValueError:
        raise BadRequest(f"--as-of must be an ISO 8601 instant, got {as_of!r}") from None
    engine = open_store()
    try:
        with reading(engine) as conn, out.status("Fitting segments on the pooled clients' behaviour..."):
            model = service.model_as_of(conn, at=at)
    finally:
        engine.dispose()
    if model is None:
        out.print("No segments: too few clients whose consent lets their behaviour be pooled.")
        raise typer.Exit(1)
    fitted = model.segmenter
    table = Table("segment", "clients", "share", "description",
                  title=f"Segments as of {model.as_of.isoformat()} ({escape(model.model_version)})",
                  caption=f"{model.pooled} pooled clients, k={fitted.k_} by silhouette ({fitted.silhouette_:.3f})")
    for segment in sorted(model.segments, key=lambda s: -s.size):
        table.add_row(str(segment.segment_id), f"{segment.size:,}", f"{segment.size / model.pooled:.0%}",
                      escape(segment.description))
    out.print(table)
