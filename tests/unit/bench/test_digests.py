"""`maison bench digests`: a synthetic shop the digest code can use, every client considered, figures consistent."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from maison.bench import digests
from maison.bench.cli import app
from maison.consent.purposes import OBSERVED
from maison.core.db import make_engine
from maison.core.schema import consent_ledger, decisions, events


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """The job's figures are the ones asked of SQLite (the default backend); one backend keeps this quick."""
    path = tmp_path / "bench.db"
    shutil.copy(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


def _levels(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(consent_ledger.c.client_id, consent_ledger.c.level)
                            .where(consent_ledger.c.kind == "level"))
        return {r.client_id: r.level for r in rows}


def test_the_loaded_shop_has_every_level_and_events_as_ingestion_would_store_them(engine: Engine) -> None:
    products = digests.catalogue(300, seed=3)
    loaded = digests.load(engine, n_clients=200, products=products, pages=digests.content_pages(products), seed=3,
                          say=lambda _: None)
    levels = _levels(engine)
    assert len(levels) == 200
    assert {lv: sum(1 for v in levels.values() if v == lv) > 10 for lv in ("L1", "L2", "L3")} == \
        {"L1": True, "L2": True, "L3": True}
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.client_id, events.c.type, events.c.event, events.c.data_category,
                                   events.c.dwell_seconds, events.c.product_id, events.c.timezone, events.c.raw)).all()
    assert len(rows) == loaded.events
    # L1 clients chose no observed behaviour: ingestion would have dropped it, so none is stored
    assert not [r for r in rows if levels[r.client_id] == "L1" and r.data_category in OBSERVED]
    identifies = [r for r in rows if r.type == "identify"]
    assert len(identifies) == 200
    assert {r.data_category for r in identifies} == {"declared_categories"}  # stated with the time zone
    assert all(r.raw["traits"]["timezone"] in digests.ZONES and 1 <= len(r.raw["traits"]["declared_categories"]) <= 3
               for r in identifies)
    views = [r for r in rows if r.event == "Product Viewed"]
    assert views and all(r.dwell_seconds is not None and r.product_id for r in views)
    opens = [r for r in rows if r.event == "Email Opened"]
    assert {r.data_category for r in opens} == {"email_engagement"}
    assert len({r.client_id for r in opens}) > 0.6 * sum(1 for v in levels.values() if v != "L1")
    names = {r.event for r in rows}
    assert {"Order Completed", "Checkout Started", "Product Added", "Products Searched", "Product Reviewed"} <= names
    assert any("fit" in r.raw["properties"] for r in rows if r.event == "Product Reviewed")
    assert {r.data_category for r in rows if r.type == "page"} >= {"content_engagement"}


def test_the_job_considers_every_client_and_sends_each_level_its_own_digest(sqlite_engine: Engine) -> None:
    result = digests.run(sqlite_engine, n_clients=200, n_products=300, sample=10, seed=5, say=lambda _: None)

    job = result["job"]
    assert job["clients"] == 200
    assert job["sent"] + job["withheld"] + job["not_due"] + job["already_sent"] == 200
    assert job["not_due"] == 0 and job["already_sent"] == 0  # now is after every send instant; nothing before
    levels = _levels(sqlite_engine)
    week_start = datetime.combine(digests.MONDAY - timedelta(days=1), clock_time(), UTC)
    with sqlite_engine.connect() as conn:
        recorded = conn.execute(select(decisions.c.client_id, decisions.c.decided_at, decisions.c.output)
                                .where(decisions.c.kind == "digest")).all()
    this_week = {r.client_id: r.output for r in recorded if r.decided_at >= week_start}
    assert len(this_week) == job["sent"]
    for level in ("L1", "L2", "L3"):
        sent = [c for c, out in this_week.items() if levels[c] == level]
        assert sent, f"no digest sent at {level}"
        assert {this_week[c]["level"] for c in sent} == {level}
    # four zones, and send times learned from habitual opens: many distinct send instants
    assert len({out["send_at"] for out in this_week.values()}) > 20
    # the baseline: its own week, one digest per sampled client, none of them counted by the job
    before = [r for r in recorded if r.decided_at < week_start]
    assert len(before) == result["rows"][2]["sent"] and 0 < len(before) <= 10

    load, run, base = result["rows"]
    assert run["clients"] == 200 and run["sent"] == job["sent"] and run["withheld"] == job["withheld"]
    assert run["clients_per_s"] == pytest.approx(200 / run["seconds"])
    assert run["extrapolated_100k_s"] == pytest.approx(100_000 / run["clients_per_s"])
    assert run["passed"] == (run["extrapolated_100k_s"] < 120)
    assert base["clients"] == 10 and base["extrapolated_all_s"] == pytest.approx(200 / base["clients_per_s"])
    assert load["events"] == result["events"] > 200


def test_the_command_prints_the_verdict_and_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "digests.json"
    answer = CliRunner().invoke(app, ["digests", "--clients", "40", "--products", "100", "--sample", "3",
                                      "--json", str(out)])
    assert answer.exit_code == 0, answer.output
    assert "weekly.run_week" in answer.output and "goal 120 s" in answer.output
    figures = orjson.loads(out.read_bytes())
    assert figures["backend"] == "sqlite" and figures["clients"] == 40 and figures["week"] == "2026-W10"
    assert sum(figures["levels"].values()) == 40
    job = figures["job"]
    assert job["sent"] + job["withheld"] + job["not_due"] + job["already_sent"] == 40
    assert [r["measure"] for r in figures["rows"]][1:] == [
        "weekly.run_week, every client", "service.produce, one client per transaction (baseline)"]
    assert isinstance(figures["load_average_before"], float)
    assert job["cpu_seconds"] > 0 and job["fit_seconds"] is None  # one process: the fit is inside the job
    assert "s of CPU" in answer.output


def test_with_workers_the_job_counts_their_cpu_and_reports_the_fit_apart(sqlite_engine: Engine) -> None:
    """The workers' CPU is counted once they have ended (a wall-clock share of one process alone would
    say about one core), and the fit before them is timed on its own."""
    said: list[str] = []
    result = digests.run(sqlite_engine, n_clients=120, n_products=200, sample=1, seed=9, say=said.append, workers=2)
    job = result["job"]
    assert job["clients"] == 120 and job["sent"] + job["withheld"] == 120
    assert 0 < job["fit_seconds"] < job["seconds"]
    # the workers did the composing: this process alone used a tenth of a second here
    assert job["cpu_seconds"] > 1.0 and job["cpu_seconds"] <= 2.5 * job["seconds"] + 1.0
    assert any("segment model's fit took" in line for line in said)
