"""`maison bench ...` commands."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import typer
from rich.console import Console

from maison.bench import ingest as bench
from maison.bench.clv import clv as clv_cmd
from maison.bench.figures import Figure, table, write_json
from maison.bench.server import ServerError
from maison.bench.stores import BACKENDS, scratch_store
from maison.core.runtime import out
from maison.core.settings import IngestSettings

app = typer.Typer(no_args_is_help=True)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MEASURES = ("raw", "bulk", "http")


@app.callback()
def _group() -> None:
    """Benchmarks that print figures against their goals."""


@app.command("ingest")
def ingest_cmd(
    events: int = typer.Option(
        50_000, help="Synthetic messages per measurement (the default run takes about 3 minutes on 2 cores)."
    ),
    backend: str = typer.Option("both", help="sqlite, postgresql or both."),
    postgres_url: str = typer.Option(
        DEFAULT_PG, envvar="MAISON_BENCH_POSTGRES_URL",
        help="Server to create the scratch database maison_bench_<random> on (dropped at the end).",
    ),
    clients: int = typer.Option(8, help="Concurrent HTTP clients posting batches."),
    batch_size: int = typer.Option(100, help="Messages per /v1/batch request."),
    people: int = typer.Option(5_000, help="Distinct people (anonymousIds) the messages come from."),
    single: int = typer.Option(2_000, help="Single-event /v1/track requests for the latency figure."),
    single_clients: int = typer.Option(2, help="Concurrent clients for the single-event figure."),
    seed: int = typer.Option(20260105, help="Seed of the synthetic traffic."),
    json_path: Path = typer.Option(None, "--json", help="Also write the figures to this JSON file."),
    measures: str = typer.Option("raw,bulk,http", help="Which measurements to run (comma-separated)."),
) -> None:
    """Ingestion throughput and latency: raw insert ceiling, bulk import, HTTP batch and single event."""
    if backend not in (*BACKENDS, "both"):
        raise typer.BadParameter(f"must be one of {', '.join((*BACKENDS, 'both'))}", param_hint="--backend")
    backends = BACKENDS if backend == "both" else (backend,)
    chosen = {m.strip() for m in measures.split(",") if m.strip()}
    if not chosen or chosen - set(MEASURES):
        raise typer.BadParameter(f"must be some of {', '.join(MEASURES)}", param_hint="--measures")
    plan = bench.Plan(events=events, people=people, clients=clients, batch_size=batch_size,
                      single=single, single_clients=single_clients, seed=seed)
    limits = IngestSettings()
    figures: list[Figure] = []
    failed = False
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        out.print(f"[yellow]load average is {load_before:.1f} on {os.cpu_count()} cores: "
                  "other work on this machine will lower the figures[/]")
    with tempfile.TemporaryDirectory(prefix="maison-bench-") as tmp:
        workdir = Path(tmp)
        out.print(f"generating {events:,} messages from {people:,} people (seed {seed})")
        inputs = bench.prepare(plan, workdir)
        for name in backends:
            out.rule(name)
            with scratch_store(name, workdir=workdir, postgres_url=postgres_url) as store:
                if "raw" in chosen:
                    out.print("  raw ceiling: plain executemany of the prepared rows")
                    figures.append(bench.raw_ceiling(store, inputs.path, chunk=limits.import_chunk_size))
                if "bulk" in chosen:
                    out.print("  bulk import: maison.ingest.importer.import_file")
                    figures.append(bench.bulk_import(store, inputs.path, events=events, limits=limits))
                if "http" in chosen:
                    try:
                        figures.extend(bench.http(store, inputs, plan, workdir=workdir, say=out.print))
                    except ServerError as exc:  # still print what was measured
                        failed = True
                        out.print(f"[red]HTTP measurements failed: {exc}[/]")
    bench.judge(figures)
    load = f"load {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    title = (f"maison bench ingest: {events:,} messages, {os.cpu_count()} cores, {load}, "
             f"{time.perf_counter() - started:.0f} s")
    wide = out if out.width >= 150 else Console(width=150)  # a table that wraps is unreadable
    wide.print(table(figures, title=title))
    for name in backends:
        by = {f.measure: f for f in figures if f.backend == name}
        if "bulk import" in by and "raw ceiling" in by:
            ratio = by["bulk import"].events_per_s / by["raw ceiling"].events_per_s
            out.print(f"{name}: bulk import / raw ceiling = {ratio:.2f}")
    if json_path is not None:
        settings = {"measures": sorted(chosen), "events": events, "people": people, "clients": clients,
                    "batch_size": batch_size, "single": single, "single_clients": single_clients, "seed": seed,
                    "cores": os.cpu_count(), "import_chunk_size": limits.import_chunk_size,
                    "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
        write_json(json_path, figures, settings=settings)
        out.print(f"figures written to {json_path}")
    if failed:
        raise typer.Exit(1)


@app.command("profile")
def profile_cmd(
    clients: int = typer.Option(100_000, help="Synthetic clients."),
    events: int = typer.Option(10_000_000, help="Synthetic events (skewed across clients)."),
    backend: str = typer.Option("postgresql", help="sqlite, postgresql or both."),
    reads: int = typer.Option(2_000, help="Profile reads timed (random clients)."),
    postgres_url: str = typer.Option(DEFAULT_PG, envvar="MAISON_BENCH_POSTGRES_URL"),
) -> None:
    """Profile read p50/p99 at scale, next to the bare indexed event query as the floor."""
    from rich.table import Table

    from maison.bench.profile import run

    if backend not in (*BACKENDS, "both"):
        raise typer.BadParameter(f"must be one of {', '.join((*BACKENDS, 'both'))}", param_hint="--backend")
    backends = BACKENDS if backend == "both" else (backend,)
    rows = run(clients=clients, events_total=events, backends=backends, reads=reads, postgres_url=postgres_url,
               say=out.print)
    grid = Table("backend", "measure", "p50 ms", "p99 ms", "goal p99", "verdict",
                 title=f"maison bench profile: {clients:,} clients, {events:,} events, load {os.getloadavg()[0]:.1f}")
    for r in rows:
        grid.add_row(r["backend"], r["measure"], f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                     "" if r["goal_p99_ms"] is None else f"< {r['goal_p99_ms']:.0f} ms", r["verdict"])
    out.print(grid)


app.command("clv")(clv_cmd)
