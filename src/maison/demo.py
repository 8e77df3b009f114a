"""`maison demo`: load a scenario folder into the embedded store so the API has data to show.

The pilot/demo issue replaces this with Maison's own synthetic maison; until then the demo is
the alex-morgan scenario from ../shared when present.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn

from maison.core.clock import utcnow
from maison.core.errors import InvalidFile
from maison.core.runtime import open_store, out
from maison.core.settings import get_settings
from maison.replay.loader import load_folder


def _population(folder: Path, home: Path) -> Path | None:
    script = folder / "generate_population.py"
    if not script.exists():
        return None
    target = home / "scenario" / folder.name
    out_file = target / "population.ndjson"
    if not out_file.exists():
        target.mkdir(parents=True, exist_ok=True)
        out.print(f"generating the background population into {target} …")
        subprocess.run([sys.executable, str(script), "--out-dir", str(target)], check=True, capture_output=True)
    return out_file


def load_scenario(folder: Path, *, base_url: str = "http://127.0.0.1:8000") -> None:
    """Load catalog, content, population and the folder's own client streams; idempotent.
    `base_url` is where the server will listen, for the hints printed at the end."""
    if not (folder / "catalog.jsonl").exists():
        raise InvalidFile(f"{folder} has no catalog.jsonl; pass --scenario with a scenario folder")
    settings = get_settings()
    engine = open_store(settings)
    streams = [p for p in [_population(folder, settings.home)] if p]
    streams += sorted(p for p in folder.glob("*.ndjson") if p.name != "population.ndjson")
    sizes = {p.name: p.stat().st_size for p in streams}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%")) as bar:
        tasks = {name: bar.add_task(name, total=size) for name, size in sizes.items()}
        report = load_folder(engine, folder, streams=streams,
                             progress=lambda name, done: bar.update(tasks[name], completed=done))
    out.print(f"catalog: {report.products} products, {report.content_pages} content pages")
    for name, r in report.streams.items():
        res = r.result
        out.print(f"{name}: {res.accepted} stored, {res.duplicates} already there, {len(res.rejected)} rejected")
    from sqlalchemy import select

    from maison.access.auth import create_api_key
    from maison.access.keys import create_key, list_keys
    from maison.core.schema import api_keys

    with engine.begin() as conn:
        if not any(k["name"] == "demo" for k in list_keys(conn)):
            port = base_url.rsplit(":", 1)[-1]
            origins = [base_url, f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
            key = create_key(conn, name="demo", origins=list(dict.fromkeys(origins)), now=utcnow())
            out.print(f"write key 'demo' for sending events: [bold]{key}[/]")
        if conn.execute(select(api_keys.c.id).where(api_keys.c.name == "demo-admin")).first() is None:
            admin = create_api_key(conn, name="demo-admin", scope="admin", store_id=None, now=utcnow())
            out.print(f"admin key 'demo-admin' (shown once): [bold]{admin}[/]")
            out.print(f"  try: curl -H 'Authorization: Bearer {admin}' {base_url}/v1/profiles/<userId>")
    out.print(f"a client's privacy dashboard: `maison privacy token <userId>`, then open {base_url}/privacy?token=…")
