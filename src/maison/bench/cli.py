"""`maison bench ...` commands."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from sqlalchemy import Engine

from maison.bench import cpu
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

# Options every bench command that builds its own shop shares.
Backend = Annotated[str, typer.Option(help="sqlite or postgresql.")]
PostgresUrl = Annotated[str, typer.Option(envvar="MAISON_BENCH_POSTGRES_URL",
                                          help="Server for the scratch database maison_bench_<random>.")]
Seed = Annotated[int, typer.Option(help="Seed of the synthetic shop.")]
JsonPath = Annotated[Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")]


@contextmanager
def _fresh_store(backend: str, postgres_url: str, *, prefix: str) -> Iterator[tuple[Engine, Path]]:
    """A fresh, migrated scratch store of one backend (a bad name is a usage error) and a temporary
    folder, both gone on exit."""
    if backend not in BACKENDS:
        raise typer.BadParameter(f"must be one of {', '.join(BACKENDS)}", param_hint="--backend")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, \
            scratch_store(backend, workdir=Path(tmp), postgres_url=postgres_url) as store:
        engine = store.fresh()
        try:
            yield engine, Path(tmp)
        finally:
            engine.dispose()


def _write_figures(json_path: Path | None, result: dict[str, object]) -> None:
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        out.print(f"figures written to {json_path}")


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
    json_path: JsonPath = None,
    measures: str = typer.Option("raw,bulk,http", help="Which measurements to run (comma-separated)."),
    rounds: int = typer.Option(
        3, help="Bulk imports, each followed by its raw ceiling; the round with the median share is judged."
    ),
) -> None:
    """Ingestion throughput and latency: raw insert ceiling, bulk import, HTTP batch and single event."""
    if backend not in (*BACKENDS, "both"):
        raise typer.BadParameter(f"must be one of {', '.join((*BACKENDS, 'both'))}", param_hint="--backend")
    if rounds < 1:
        raise typer.BadParameter(f"must be at least 1, not {rounds}", param_hint="--rounds")
    backends = BACKENDS if backend == "both" else (backend,)
    chosen = {m.strip() for m in measures.split(",") if m.strip()}
    if not chosen or chosen - set(MEASURES):
        raise typer.BadParameter(f"must be some of {', '.join(MEASURES)}", param_hint="--measures")
    plan = bench.Plan(events=events, people=people, clients=clients, batch_size=batch_size,
                      single=single, single_clients=single_clients, seed=seed)
    limits = IngestSettings()
    figures: list[Figure] = []
    shares: dict[str, list[float]] = {}  # per backend, the import's share of the ceiling in each round
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
                if chosen & {"raw", "bulk"}:
                    out.print(f"  {rounds} rounds: maison.ingest.importer.import_file, then the rows it wrote "
                              "inserted again with the store's bulk insert (the raw ceiling)")
                    measured = bench.rounds(store, inputs.path, events=events, limits=limits, count=rounds,
                                            say=out.print)
                    shares[name] = [r.share for r in measured]
                    median = bench.median_round(measured)
                    figures += [f for m, f in (("bulk", median.bulk), ("raw", median.raw)) if m in chosen]
                if "raw" in chosen:
                    out.print("  raw, event rows only (informational)")
                    figures.append(bench.raw_events_only(store, inputs.path, chunk=limits.import_chunk_size))
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
            line = f"{name}: bulk import / raw ceiling = {ratio:.2f}"
            if "raw, event rows only" in by:
                only = by["bulk import"].events_per_s / by["raw, event rows only"].events_per_s
                line += f" (against the event rows alone: {only:.2f})"
            if len(shares.get(name, ())) > 1:
                line += f"; the median of {len(shares[name])} rounds: " + ", ".join(
                    f"{s:.1%}" for s in sorted(shares[name]))
            out.print(line)
    for f in figures:
        if f.cpu_us_per_event:
            out.print(f"{f.backend} {f.measure}: "
                      + cpu.summary(f.cpu_us_per_event, events_per_s=f.events_per_s, cores=os.cpu_count() or 1))
    if json_path is not None:
        settings = {"measures": sorted(chosen), "events": events, "people": people, "clients": clients,
                    "batch_size": batch_size, "single": single, "single_clients": single_clients, "seed": seed,
                    "cores": os.cpu_count(), "import_chunk_size": limits.import_chunk_size,
                    "rounds": rounds, "bulk_share_by_round": shares,
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


@app.command("recommend")
def recommend_cmd(
    clients: int = typer.Option(100_000, help="Synthetic clients."),
    products: int = typer.Option(10_000, help="Synthetic catalogue products."),
    events_per_client: int = typer.Option(12, help="Mean events per client (exponential)."),
    requests: int = typer.Option(1_000, help="Timed requests per measure."),
    backend: Backend = "sqlite",
    postgres_url: PostgresUrl = DEFAULT_PG,
    seed: Seed = 7,
    json_path: JsonPath = None,
) -> None:
    """Recommendations endpoint p50/p99 (hybrid vs popularity path) and batch composition for all clients."""
    from rich.table import Table

    from maison.access.auth import create_api_key
    from maison.app import create_app
    from maison.bench import recommend as rb
    from maison.core.settings import Settings
    from maison.recommend import training

    now = rb.now_utc()
    rows: list[dict[str, object]] = []
    with _fresh_store(backend, postgres_url, prefix="maison-bench-recs-") as (engine, tmp):
        out.print(f"{backend}: loading {clients:,} clients, {products:,} products")
        catalogue = rb.products(products, seed)
        t = time.perf_counter()
        ids = rb.load(engine, n_clients=clients, catalogue=catalogue, events_per_client=events_per_client, seed=seed,
                      now=now, say=out.print)
        out.print(f"  loaded in {time.perf_counter() - t:.0f} s; fitting the shop model")
        t = time.perf_counter()
        with engine.connect() as conn:
            model = training.fit(conn, at=now)
            training.install(conn, model)
        fit_s = time.perf_counter() - t
        out.print(f"  fitted in {fit_s:.0f} s on {model.clients:,} clients ({model.version})")
        app = create_app(Settings(home=tmp / "home"), engine=engine, migrate=False)
        with engine.begin() as conn:
            key = create_api_key(conn, name="bench", scope="admin", store_id=None, now=now)
        with engine.connect() as conn:
            from maison.consent import service as consent

            book = consent.book(conn, ids)
            l2 = [c for c in ids if book.state(c).level == "L2"]
            l1 = [c for c in ids if book.state(c).level == "L1"]
        for name, who, goal in (("hybrid (L2 clients)", l2, 20.0), ("popularity path (L1 clients)", l1, None)):
            out.print(f"  timing {requests:,} requests: {name}")
            samples = rb.latency(app, key, who, requests=requests, seed=seed,
                                 path=lambda c: f"/v1/recommendations/{c}?k=10")
            p50, p99 = rb.summary(samples)
            rows.append({"measure": f"GET /v1/recommendations {name}", "n": requests, "p50_ms": p50, "p99_ms": p99,
                         "seconds": sum(samples), "goal": f"p99 < {goal:.0f} ms" if goal else "",
                         "passed": None if goal is None else p99 < goal})
        out.print("  composing recommendations for every client (batch)")
        with engine.connect() as conn:
            hybrid_s, popular_s, n = rb.batch_compose(conn, model, k=10, at=now, say=out.print)
        rows.append({"measure": "batch: hybrid for all clients", "n": n, "p50_ms": None, "p99_ms": None,
                     "seconds": hybrid_s, "goal": "100k clients < 120 s",
                     "passed": hybrid_s * 100_000 / max(n, 1) < 120})
        rows.append({"measure": "batch: popularity for all clients", "n": n, "p50_ms": None, "p99_ms": None,
                     "seconds": popular_s, "goal": "", "passed": None})
        rows.append({"measure": "shop model fit", "n": model.clients, "p50_ms": None, "p99_ms": None,
                     "seconds": fit_s, "goal": "", "passed": None})
    grid = Table("measure", "n", "p50 ms", "p99 ms", "seconds", "per s", "goal", "verdict",
                 title=f"maison bench recommend: {clients:,} clients, {products:,} products, {backend}, "
                       f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for r in rows:
        done, took = r["n"], r["seconds"]
        rate = f"{done / took:,.0f}" if isinstance(done, int) and isinstance(took, int | float) and took else ""
        grid.add_row(str(r["measure"]), f"{r['n']:,}", "" if r["p50_ms"] is None else f"{r['p50_ms']:.1f}",
                     "" if r["p99_ms"] is None else f"{r['p99_ms']:.1f}", f"{r['seconds']:.1f}", rate, str(r["goal"]),
                     "" if r["passed"] is None else "[green]PASS[/]" if r["passed"] else "[red]MISS[/]")
    (out if out.width >= 150 else Console(width=150)).print(grid)
    _write_figures(json_path, {"clients": clients, "products": products, "backend": backend, "rows": rows})


@app.command("digests")
def digests_cmd(
    clients: int = typer.Option(100_000, help="Synthetic clients."),
    products: int = typer.Option(10_000, help="Synthetic catalogue products."),
    sample: int = typer.Option(200, help="Clients of the one-at-a-time baseline (random, the week before)."),
    backend: Backend = "sqlite",
    postgres_url: PostgresUrl = DEFAULT_PG,
    seed: Seed = 7,
    workers: int = typer.Option(1, min=1, help="Processes of the job (one per core)."),
    json_path: JsonPath = None,
) -> None:
    """Weekly digest job throughput for every client (goal: 100k in < 120 s), against one client at a time."""
    from rich.table import Table

    from maison.bench import digests as db

    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        out.print(f"[yellow]load average is {load_before:.1f} on {os.cpu_count()} cores: "
                  "other work on this machine will lower the figures[/]")
    with _fresh_store(backend, postgres_url, prefix="maison-bench-digests-") as (engine, _):
        out.print(f"{backend}: digests of the week of {db.MONDAY}")
        result = db.run(engine, n_clients=clients, n_products=products, sample=sample, seed=seed, say=out.print,
                        workers=workers)
    result.update(backend=backend, cores=os.cpu_count(), load_average_before=load_before,
                  load_average_after=os.getloadavg()[0])
    grid = Table("measure", "clients", "seconds", "clients/s", "sent", "withheld", "100k clients, s", "goal",
                 "verdict", title=f"maison bench digests: {clients:,} clients, {products:,} products, "
                                  f"{result['events']:,} events, {backend}, {os.cpu_count()} cores, "
                                  f"load {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    for r in result["rows"]:
        grid.add_row(r["measure"], f"{r['clients']:,}", f"{r['seconds']:.1f}", f"{r['clients_per_s']:,.1f}",
                     "" if r["sent"] is None else f"{r['sent']:,}",
                     "" if r["withheld"] is None else f"{r['withheld']:,}",
                     "" if r["extrapolated_100k_s"] is None else f"{r['extrapolated_100k_s']:,.0f}", r["goal"],
                     "" if r["passed"] is None else "[green]PASS[/]" if r["passed"] else "[red]MISS[/]")
    (out if out.width >= 150 else Console(width=150)).print(grid)
    job, base = result["rows"][1], result["rows"][2]
    out.print(f"job: {job['sent']:,} sent, {job['withheld']:,} withheld, {job['already_sent']:,} already sent, "
              f"{job['not_due']:,} not due; 100k clients would take {job['extrapolated_100k_s']:,.0f} s "
              f"(goal {db.GOAL_SECONDS:.0f} s): {'PASS' if job['passed'] else 'MISS'}")
    out.print(f"baseline: all {clients:,} clients one at a time would take {base['extrapolated_all_s']:,.0f} s; "
              f"the job is {job['clients_per_s'] / base['clients_per_s']:.1f}x faster per client"
              if base["clients_per_s"] else "baseline: no clients timed")
    _write_figures(json_path, result)


@app.command("pages")
def pages_cmd(
    clients: int = typer.Option(100_000, help="Synthetic clients (the digest benchmark's shop)."),
    products: int = typer.Option(10_000, help="Synthetic catalogue products."),
    sample: int = typer.Option(200, help="Pages per measure (random clients and products)."),
    backend: Backend = "sqlite",
    postgres_url: PostgresUrl = DEFAULT_PG,
    seed: Seed = 7,
    json_path: JsonPath = None,
) -> None:
    """Personalised product page latency at scale, quiet and under consent traffic, against an L1 page."""
    from rich.table import Table

    from maison.bench import pages

    load_before = os.getloadavg()[0]
    with _fresh_store(backend, postgres_url, prefix="maison-bench-pages-") as (engine, _):
        out.print(f"{backend}: product pages")
        result = pages.run(engine, n_clients=clients, n_products=products, sample=sample, seed=seed, say=out.print)
    result.update(backend=backend, cores=os.cpu_count(), load_average_before=load_before,
                  load_average_after=os.getloadavg()[0])
    grid = Table("measure", "pages", "client in a cohort", "p50 ms", "p99 ms", "max ms",
                 title=f"maison bench pages: {clients:,} clients, {products:,} products, {result['events']:,} events, "
                       f"{backend}, {os.cpu_count()} cores, load {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    for r in result["rows"]:
        grid.add_row(r["measure"], f"{r['pages']:,}", f"{r['in_cohort']:,}", f"{r['p50_ms']:.1f}",
                     f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}")
    (out if out.width >= 120 else Console(width=120)).print(grid)
    base = result["rows"][0]["p50_ms"]
    for r in result["rows"][1:]:
        out.print(f"{r['measure']}: p50 {r['p50_ms']:.1f} ms, {r['p50_ms'] - base:+.1f} ms against the baseline")
    _write_figures(json_path, result)
