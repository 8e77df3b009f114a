"""`maison digest preview CLIENT --week 2026-W06`: a client's weekly digest, rendered for a person;
`maison digest run --week 2026-W06`: the week's job, every due digest composed and recorded."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from maison.core.clock import parse_instant, utcnow
from maison.core.db import reading
from maison.core.errors import BadRequest
from maison.core.responses import dumps
from maison.core.runtime import cli_errors, open_store, out
from maison.identity.service import find_client
from maison.personalize import service, weekly
from maison.personalize.exceptions import InvalidWeek
from maison.personalize.send_time import week_monday

app = typer.Typer(no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Weekly digests."""


@app.command()
@cli_errors
def preview(
    identifier: Annotated[str, typer.Argument(help="Client id, userId, anonymousId, email or phone.")],
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W06.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the digest as JSON.")] = False,
) -> None:
    """Show the digest of one week: the one sent if recorded, else composed as of its send instant."""
    try:
        week_monday(week)
    except ValueError as exc:
        raise InvalidWeek(str(exc)) from None
    engine = open_store()
    try:
        with reading(engine) as conn:
            found = service.digest_for_week(conn, find_client(conn, identifier), week)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(dumps(found.digest).decode())
        return
    render(found.digest, recorded=found.recorded)


@app.command()
@cli_errors
def run(
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W06.")],
    now: Annotated[str | None, typer.Option("--now", help="Send the digests due by this instant (default: now).")]
    = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes composing in parallel.")] = 1,
) -> None:
    """Compose and record every client's digest of the week that is due and not sent yet.

    A scheduler runs it as often as it likes: a rerun sends nothing twice, and no digest is
    composed before its send instant.
    """
    try:
        monday = week_monday(week)
    except ValueError as exc:
        raise InvalidWeek(str(exc)) from None
    try:
        at = utcnow() if now is None else parse_instant(now)
    except ValueError:
        raise BadRequest(f"--now must be an ISO 8601 instant, got {now!r}") from None
    engine = open_store()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=out, transient=False) as bar:
            task = bar.add_task(f"digests of {week}", total=weekly.client_count(engine))
            result = weekly.run_week(engine, monday, now=at, workers=workers,
                                     progress=lambda n: bar.advance(task, n))
    finally:
        engine.dispose()
    out.print(f"{result.week}: {result.sent} sent, {result.withheld} withheld by consent, "
              f"{result.already_sent} sent earlier, {result.not_due} not due yet "
              f"({result.clients} clients, {result.seconds:.1f} s)")


def render(digest: dict[str, Any], *, recorded: bool) -> None:
    state = "as sent" if recorded else "composed as of its send instant, not sent"
    out.print(Panel(
        f"[bold]{escape(digest['subject'])}[/]\n"
        f"to {escape(digest['customer_id'])} - week {digest['week']} - level {digest['level']} - "
        f"{escape(digest['send_at'])} ({state})",
        title="Weekly digest",
    ))
    for notice in digest["notices"]:
        used = ", ".join(notice["data_categories"]) or "no personal data"
        out.print(f"[cyan]{escape(notice['kind'])}[/]: {escape(notice['text'])} [dim]({escape(used)})[/]")
    for section in digest["sections"]:
        table = Table("product", "price", "label", "sizes", "why", "data used",
                      title=f"{escape(section['title'])}", caption=escape(section["text"]), show_lines=True)
        for item in section["items"]:
            reason = item["reason"]
            table.add_row(
                escape(item["product_id"]), f"EUR {item['price_eur']:,}", escape(item["label"] or "-"),
                escape(", ".join(item["available_sizes"])), escape(reason["text"]),
                escape(", ".join(reason["data_categories"])),
            )
        out.print(table)
