"""`maison events import|quarantine`: bulk load message files and repair rejected messages."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from sqlalchemy import Connection

from maison.core.clock import utcnow
from maison.core.db import in_transaction, reading
from maison.core.errors import InvalidFile
from maison.core.runtime import cli_errors, open_store, out
from maison.core.settings import get_settings
from maison.ingest import repository, service
from maison.ingest.entities import IngestResult
from maison.ingest.importer import import_file

app = typer.Typer(no_args_is_help=True)
quarantine_app = typer.Typer(no_args_is_help=True, help="Messages rejected inside accepted batches.")
app.add_typer(quarantine_app, name="quarantine")


@app.command("import")
@cli_errors
def import_(
    files: list[Path] = typer.Argument(..., help="NDJSON files, one Segment message per line."),
    source: str = typer.Option("import", help="Source name; messageIds are deduplicated per source."),
    strict: bool = typer.Option(False, help="Exit non-zero when any line was rejected."),
) -> None:
    """Import message files through the same validation and dedup as the HTTP API."""
    engine = open_store()
    limits = get_settings().ingest
    any_rejected = False
    for path in files:
        if not path.is_file():
            raise InvalidFile(f"{path} is not a readable file")
        with Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
        ) as bar:
            task = bar.add_task(path.name, total=path.stat().st_size)

            def advance(done: int, task: TaskID = task) -> None:
                bar.update(task, completed=done)

            report = import_file(engine, path, source=source, limits=limits, progress=advance)
        r = report.result
        out.print(
            f"{path.name}: {report.lines} lines, [green]{r.accepted} stored[/], "
            f"{r.duplicates} duplicates, {r.dropped} dropped by policy, "
            f"[{'red' if r.rejected else 'green'}]{len(r.rejected)} rejected[/]"
        )
        for rej in r.rejected[:50]:
            out.print(f"  line {rej.index}: {rej.field}: {rej.reason}")
        if len(r.rejected) > 50:
            out.print(f"  … and {len(r.rejected) - 50} more (see `maison events quarantine list`)")
        any_rejected = any_rejected or bool(r.rejected)
    if strict and any_rejected:
        raise typer.Exit(1)


@quarantine_app.command("list")
@cli_errors
def quarantine_list(
    status: str = typer.Option("pending", help="pending, replayed or discarded."),
    limit: int = typer.Option(100),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines (id, reason, message)."),
) -> None:
    """List quarantined messages with the reason each was rejected."""
    engine = open_store()
    with reading(engine) as conn:
        rows = repository.list_quarantine(conn, status=status, limit=limit)
    if as_json:
        for row in rows:
            out.print_json(json.dumps({k: row[k] for k in ("id", "source", "field", "reason", "message")}, default=str))
        return
    table = Table("id", "source", "received", "field", "reason")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["source"],
            row["received_at"].isoformat(timespec="seconds"),
            row["field"] or "",
            row["reason"],
        )
    out.print(table)


@quarantine_app.command("replay")
@cli_errors
def quarantine_replay(
    ids: list[int] = typer.Argument(None, help="Quarantine ids; all pending when omitted."),
    fix: Path = typer.Option(None, help="A JSON file with the corrected message (one id only)."),
) -> None:
    """Replay quarantined messages, optionally after fixing one; still-invalid ones stay quarantined."""
    engine = open_store()

    def replay(conn: Connection) -> tuple[IngestResult, list[int]]:
        wanted = ids or [r["id"] for r in repository.list_quarantine(conn, limit=100_000)]
        if fix is not None:
            if len(wanted) != 1:
                raise InvalidFile("--fix needs exactly one quarantine id")
            try:
                message = json.loads(fix.read_text())
            except (OSError, ValueError) as exc:
                raise InvalidFile(f"{fix} is not a readable JSON file: {exc}") from None
            repository.replace_quarantined_message(conn, wanted[0], message)
        return service.replay_quarantined(conn, wanted, limits=get_settings().ingest, now=utcnow())

    result, done = in_transaction(engine, replay)
    out.print(f"replayed {len(done)}: {result.accepted} stored, {result.duplicates} duplicates")
    for rej in result.rejected:
        out.print(f"  still invalid: quarantine id {rej.index}: {rej.field}: {rej.reason}")
    if result.rejected:
        raise typer.Exit(1)
