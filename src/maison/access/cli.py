"""`maison keys create|list|revoke`: write keys for the ingestion API."""

from __future__ import annotations

import typer
from rich.table import Table

from maison.access.keys import create_key, list_keys, revoke_key
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.runtime import cli_errors, open_store, out

app = typer.Typer(no_args_is_help=True)


@app.command("create")
@cli_errors
def create(
    name: str = typer.Option(..., help="Source name, e.g. web, pos, email."),
    origin: list[str] = typer.Option([], help="Browser origin allowed to send with this key (repeat)."),
    privacy_requests: bool = typer.Option(
        False, "--privacy-requests",
        help="Its events may carry data-subject requests (Data Export/Erasure Requested), acted on at once: "
             "for the shop's authenticated back end only, never a browser or app key.",
    ),
) -> None:
    """Create a write key; it is shown once and stored only as a hash."""
    with open_store().begin() as conn:
        key = create_key(conn, name=name, origins=origin, now=utcnow(), privacy_requests=privacy_requests)
    out.print(f"write key for [bold]{name}[/] (shown once, keep it secret):")
    print(key)


@app.command("list")
@cli_errors
def list_() -> None:
    """List write keys (never the keys themselves)."""
    with reading(open_store()) as conn:
        rows = list_keys(conn)
    table = Table("name", "prefix", "origins", "privacy requests", "created", "revoked")
    for r in rows:
        table.add_row(str(r["name"]), str(r["key_prefix"]) + "…", ", ".join(r["allowed_origins"] or []),  # type: ignore[arg-type]
                      "yes" if r["privacy_requests"] else "no", str(r["created_at"]), str(r["revoked_at"] or ""))
    out.print(table)


@app.command("revoke")
@cli_errors
def revoke(name: str = typer.Argument(..., help="Source name of the key.")) -> None:
    """Revoke a write key; requests with it get 401 within seconds."""
    with open_store().begin() as conn:
        revoke_key(conn, name=name, now=utcnow())
    out.print(f"revoked {name}")
