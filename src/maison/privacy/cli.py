"""`maison privacy export|erase|purge|token|requests|notice`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from maison.access.auth import issue_token
from maison.consent.purposes import PURPOSES
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.errors import InvalidFile
from maison.core.responses import dumps
from maison.core.runtime import cli_errors, open_store, out
from maison.core.settings import get_settings
from maison.identity.service import find_client
from maison.privacy import retention, service

app = typer.Typer(no_args_is_help=True)


@app.command("export")
@cli_errors
def export_(
    identifier: str = typer.Argument(..., help="Any identifier of the client."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Export everything about a client as one JSON document (Art. 15/20)."""
    with open_store().begin() as conn:
        doc = service.export_now(conn, find_client(conn, identifier), now=utcnow(), channel="admin")
    data = dumps(doc)
    if output:
        output.write_bytes(data)
        out.print(f"wrote {len(doc['events'])} events to {output}")
    else:
        print(data.decode())


@app.command("erase")
@cli_errors
def erase(
    identifier: str = typer.Argument(..., help="Any identifier of the client."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: erasure cannot be undone."),
) -> None:
    """Erase a client everywhere (Art. 17); keeps only keyed hashes to drop late events."""
    if not yes:
        out.print("erasure cannot be undone; run again with --yes")
        raise typer.Exit(1)
    with open_store().begin() as conn:
        result = service.erase_now(
            conn, find_client(conn, identifier), now=utcnow(), channel="admin",
            suppression_key=get_settings().suppression_key(),
        )
    table = Table("table", "rows removed")
    for name, count in sorted(result["erased"].items()):
        table.add_row(name, str(count))
    out.print(f"erased under request {result['request_id']}")
    out.print(table)


@app.command("purge")
@cli_errors
def purge() -> None:
    """Delete data older than its category's retention period; prints counts."""
    with open_store().begin() as conn:
        counts = retention.purge(conn, get_settings().privacy.retention_days, now=utcnow())
    table = Table("category", "retention (days)", "rows deleted")
    for category, count in counts.items():
        table.add_row(category, str(get_settings().privacy.retention_days[category]), str(count))
    out.print(table)


@app.command("token")
@cli_errors
def token(
    identifier: str = typer.Argument(..., help="Any identifier of the client."),
    ttl: int = typer.Option(3600, help="Seconds the link stays valid."),
) -> None:
    """Issue a signed, expiring self-service link for the client's privacy dashboard."""
    with reading(open_store()) as conn:
        client_id = find_client(conn, identifier)
    value = issue_token(get_settings().token_secret(), client_id, ttl_seconds=ttl)
    out.print(f"/privacy?token={value}")


@app.command("requests")
@cli_errors
def requests_() -> None:
    """Open data-subject requests, soonest due first."""
    with reading(open_store()) as conn:
        rows = service.open_requests(conn)
    table = Table("request", "kind", "status", "requested", "due")
    for r in rows:
        table.add_row(r["request_id"], r["kind"], r["status"], str(r["requested_at"]), str(r["due_at"]))
    out.print(table)


@app.command("notice")
@cli_errors
def notice(
    version: str = typer.Option(..., help="Version of the new notice text."),
    text_file: Path = typer.Option(..., "--text", help="File with the notice text."),
    purpose: list[str] = typer.Option(..., help="Purpose whose consent must be renewed (repeat)."),
) -> None:
    """Publish a new notice version; consents to its purposes given earlier need renewal."""
    unknown = sorted(set(purpose) - set(PURPOSES))
    if unknown:
        raise InvalidFile(f"unknown purposes {unknown}; allowed: {', '.join(PURPOSES)}")
    try:
        text = text_file.read_text()
    except OSError as exc:
        raise InvalidFile(f"cannot read {text_file}: {exc}") from None
    with open_store().begin() as conn:
        service.publish_notice(conn, version=version, text=text, purposes=purpose, at=utcnow())
    out.print(json.dumps({"version": version, "purposes": purpose}))
