"""`maison identity show|merge|split`: inspect the identity graph and correct it."""

from __future__ import annotations

import typer
from rich.table import Table

from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.runtime import cli_errors, open_store, out
from maison.identity import repository, service

app = typer.Typer(no_args_is_help=True)


@app.command("show")
@cli_errors
def show(identifier: str = typer.Argument(..., help="Any identifier of the client.")) -> None:
    """The client's identifiers and the merges that shaped it."""
    with reading(open_store()) as conn:
        client = service.find_client(conn, identifier)
        idents = repository.identifiers_of_client(conn, client)
        merges = repository.list_merges(conn, client)
    out.print(f"client [bold]{client}[/]")
    for kind, value in idents:
        out.print(f"  {kind}: {value}")
    table = Table("merge id", "survivor", "merged", "reason", "by message / actor", "when", "undone")
    for m in merges:
        table.add_row(str(m["id"]), m["survivor_id"], m["merged_id"], m["reason"],
                      m["message_id"] or m["actor"] or "", m["merged_at"].isoformat(timespec="seconds"),
                      m["undone_at"].isoformat(timespec="seconds") if m["undone_at"] else "")
    out.print(table)


@app.command("merge")
@cli_errors
def merge(
    survivor: str = typer.Argument(..., help="Identifier of the client that stays."),
    other: str = typer.Argument(..., help="Identifier of the client merged into it."),
    actor: str = typer.Option(..., help="Who decides the merge (recorded)."),
) -> None:
    """Merge two clients on an admin's decision (recorded, undoable with `split`)."""
    with open_store().begin() as conn:
        merge_id = service.admin_merge(conn, survivor, other, actor=actor, now=utcnow())
    out.print(f"merged; undo with `maison identity split {merge_id}`")


@app.command("split")
@cli_errors
def split(
    merge_id: int = typer.Argument(..., help="Id of the merge to undo (see `identity show`)."),
    actor: str = typer.Option(..., help="Who undoes the merge (recorded)."),
) -> None:
    """Undo a merge: both clients get back their identifiers and events."""
    with open_store().begin() as conn:
        moved = service.split(conn, merge_id, actor=actor, now=utcnow())
    out.print(f"merge {merge_id} undone; {moved} events returned to the split-off client")
