"""`maison serve` and `maison demo`: the HTTP server on the configured store."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (PostgreSQL only; SQLite wants one)."),
) -> None:
    """Run the HTTP API (ingestion, profiles, catalog)."""
    import uvicorn

    if workers > 1:
        # A spawned worker re-imports this CLI (all command groups) before it can answer the
        # supervisor's first health check; on a busy machine that took longer than uvicorn's
        # 5 s default, so workers were killed and respawned forever.
        uvicorn.run(
            "maison.asgi:app", host=host, port=port, workers=workers, log_level="warning",
            timeout_worker_healthcheck=120,
        )
    else:
        from maison.app import create_app
        from maison.core.collector import settle_for_serving

        app = create_app()
        settle_for_serving()
        uvicorn.run(app, host=host, port=port, log_level="warning")


def demo(
    scenario: Path = typer.Option(Path("../shared/scenarios/alex-morgan"), help="Scenario folder to load."),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    load_only: bool = typer.Option(False, help="Load the scenario and exit without serving."),
) -> None:
    """Load a scenario folder (catalog, content, population, streams) and serve it."""
    from maison.demo import load_scenario

    load_scenario(scenario, base_url=f"http://{host}:{port}")
    if not load_only:
        serve(host=host, port=port, workers=1)
