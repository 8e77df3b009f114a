"""The weekly digest job: every due digest of a week, the same as each client's digest alone, sent once.

Driven on the scenario's population with Alex's stream (L1, L2 and L3 clients in one week).
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from sqlalchemy import Engine, func, select

from maison.consent.entities import Use
from maison.core.collector import YOUNG_THRESHOLD
from maison.core.db import reading
from maison.core.responses import dumps
from maison.core.schema import client_derived, decisions
from maison.core.schema import clients as clients_table
from maison.identity.service import find_client
from maison.models.segments import service as segments
from maison.personalize import repository as repo
from maison.personalize import service, weekly
from maison.personalize.reads import SEND_TIME, ClientReads
from maison.personalize.shop import ShopView

pytestmark = pytest.mark.scenario

ALEX = "cus_a7d3e91c04"
WEEK10 = date(2026, 3, 9)  # she is at L3 by then
WEEK9 = date(2026, 3, 2)  # her first week at L3
LATER = datetime(2026, 12, 1, tzinfo=UTC)


def some_clients(engine: Engine, *, also: tuple[str, ...] = ()) -> list[str]:
    """Every twentieth client of the store, and the clients of these userIds."""
    with engine.connect() as conn:
        everyone = [r.id for r in conn.execute(select(clients_table.c.id).order_by(clients_table.c.id))]
        named = {find_client(conn, user) for user in also}
    return sorted(set(everyone[::20]) | named)


def alone(engine: Engine, client_ids: list[str], monday: date) -> dict[str, dict | None]:  # type: ignore[type-arg]
    """Each client's digest composed on its own, as `maison digest preview` does (nothing recorded).

    The clients are read one by one; the shop's figures are shared (each instant's figures are
    computed by the per-instant aggregates once, not once per client: they are the same)."""
    with engine.connect() as conn:
        shop = ShopView(conn)
        found = {c: service.compose_digest(conn, c, monday, week=monday.isocalendar()[1], shop=shop)
                 for c in client_ids}
    return {c: orjson.loads(dumps(d.to_dict())) if d is not None else None for c, d in found.items()}


def recorded(engine: Engine, client_ids: list[str], monday: date) -> dict[str, dict | None]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return {c: repo.recorded_digest(conn, c, start=datetime.combine(monday, datetime.min.time(), UTC)
                                        - timedelta(days=1), end=datetime.combine(monday, datetime.min.time(), UTC)
                                        + timedelta(days=8)) for c in client_ids}


def digest_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(decisions.c.kind == repo.DIGEST)).scalar_one())


def test_the_job_records_for_each_client_the_digest_it_would_get_alone(scenario_engine, ingest_stream):  # type: ignore[no-untyped-def]
    ingest_stream("alex-morgan.ndjson")
    chosen = some_clients(scenario_engine, also=(ALEX,))
    expected = alone(scenario_engine, chosen, WEEK10)
    levels = {d["level"] for d in expected.values() if d is not None}
    assert levels == {"L1", "L2", "L3"}, levels  # the week exercises every depth

    done: list[int] = []
    run = weekly.run_week(scenario_engine, WEEK10, now=LATER, client_ids=chosen, chunk=40, workers=2,
                          progress=done.append)  # two processes, each with its share of the clients

    assert run.sent == sum(1 for d in expected.values() if d is not None)
    assert run.withheld == sum(1 for d in expected.values() if d is None)
    assert (run.clients, run.already_sent, run.not_due) == (len(chosen), 0, 0)
    assert recorded(scenario_engine, chosen, WEEK10) == expected
    assert digest_rows(scenario_engine) == run.sent  # one audit row per digest sent, none for the withheld
    assert sum(done) == len(chosen)  # the workers' progress reaches the caller


def derived_rows(engine: Engine) -> list[tuple[object, ...]]:
    """Every `client_derived` row but its id and the clock time it was written, in a fixed order."""
    columns = [c for c in client_derived.c if c.name not in ("id", "computed_at")]
    with engine.connect() as conn:
        rows = conn.execute(select(*columns)).all()
    return sorted(tuple(orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for v in r) for r in rows)


def test_a_week_builds_on_what_the_job_recorded_the_week_before_as_one_digest_at_a_time_does(  # type: ignore[no-untyped-def]
        scenario_engine, ingest_stream, copy_of):
    """A digest's records shape the next week's (pieces sent in an L3 section rest, opened
    collections stay open, an unchanged cohort is not written again). The job reads a chunk's
    records at once and writes a chunk's at once; two weeks of it record what two weeks of
    `service.produce`, client by client, record on a copy of the same store."""
    ingest_stream("alex-morgan.ndjson")
    with reading(scenario_engine) as conn:
        alex = find_client(conn, ALEX)
        segments.model_as_of(conn, at=datetime.combine(WEEK9, datetime.min.time(), UTC), keep=True)  # fitted once
    chosen = sorted({*some_clients(scenario_engine)[::10], alex})
    unaware = alone(scenario_engine, [alex], WEEK10)[alex]  # composed before anything was recorded
    other = copy_of(scenario_engine)

    for monday in (WEEK9, WEEK10):
        weekly.run_week(scenario_engine, monday, now=LATER, client_ids=chosen, chunk=5)
        with other.begin() as conn:
            for client in chosen:
                service.produce(conn, client, monday, week=monday.isocalendar()[1])

    by_job = recorded(scenario_engine, chosen, WEEK10)
    assert by_job == recorded(other, chosen, WEEK10)
    assert by_job[alex] != unaware  # her first L3 week's records changed her second week's digest
    kept = derived_rows(scenario_engine)
    assert kept == derived_rows(other)
    assert {b'"cohort"', b'"trajectory"', b'"inferred_values"'} <= {r[1] for r in kept}


def test_a_second_run_sends_nothing_twice_and_nothing_is_sent_before_its_instant(scenario_engine):  # type: ignore[no-untyped-def]
    chosen = some_clients(scenario_engine)
    expected = alone(scenario_engine, chosen, WEEK10)
    instants = sorted(datetime.fromisoformat(d["send_at"]) for d in expected.values() if d is not None)
    now = instants[len(instants) // 2]
    assert instants[0] < now < instants[-1]  # the clients' send times differ: some are due, some not

    first = weekly.run_week(scenario_engine, WEEK10, now=now, client_ids=chosen, chunk=50)
    due = {c for c, d in expected.items() if d is not None and datetime.fromisoformat(d["send_at"]) <= now}
    assert first.sent == len(due) and first.not_due > 0
    kept = recorded(scenario_engine, chosen, WEEK10)
    assert {c for c, d in kept.items() if d is not None} == due

    second = weekly.run_week(scenario_engine, WEEK10, now=LATER, client_ids=chosen, chunk=50)
    assert second.already_sent == len(due)
    assert first.sent + second.sent == sum(1 for d in expected.values() if d is not None)
    assert recorded(scenario_engine, chosen, WEEK10) == expected

    third = weekly.run_week(scenario_engine, WEEK10, now=LATER, client_ids=chosen, chunk=50)
    assert (third.sent, third.already_sent) == (0, first.sent + second.sent)
    assert digest_rows(scenario_engine) == first.sent + second.sent


def test_a_digest_another_run_records_meanwhile_is_not_recorded_again(scenario_engine, monkeypatch):  # type: ignore[no-untyped-def]
    """Two runs overlap (a scheduler fired twice): the second writes nothing the first wrote meanwhile."""
    chosen = some_clients(scenario_engine)[:12]
    compose = service.compose_for_job
    overtaken: list[str] = []

    def and_another_run_sends_it_first(conn, client, monday, **kwargs):  # type: ignore[no-untyped-def]
        found = compose(conn, client, monday, **kwargs)
        if found[0] is not None and not overtaken:
            with scenario_engine.begin() as other:  # the other run records this client between compose and write
                service.produce(other, client, monday, week=monday.isocalendar()[1])
            overtaken.append(client)
        return found

    monkeypatch.setattr(service, "compose_for_job", and_another_run_sends_it_first)
    run = weekly.run_week(scenario_engine, WEEK10, now=LATER, client_ids=chosen, chunk=50)

    assert len(overtaken) == 1 and run.already_sent == 1
    assert digest_rows(scenario_engine) == run.sent + 1  # the other run's record, and none twice
    with scenario_engine.connect() as conn:
        rows = conn.execute(select(decisions.c.client_id, func.count()).where(decisions.c.kind == repo.DIGEST)
                            .group_by(decisions.c.client_id)).all()
    assert all(n == 1 for _, n in rows)


def test_the_send_time_pass_reads_ledgers_for_its_categories_and_answers_as_whole_ledgers_do(scenario_engine):  # type: ignore[no-untyped-def]
    until = datetime(2026, 3, 12, tzinfo=UTC)
    instants = [datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=d, hours=7 * d) for d in range(0, 66, 5)]
    with scenario_engine.connect() as conn:
        clients = some_clients(scenario_engine)
        whole = ClientReads(conn, clients, until=until, readers=SEND_TIME)
        lean = ClientReads(conn, clients, until=until, readers=SEND_TIME, states=False)
        categories = sorted({c for r in SEND_TIME for c in r.categories})
        assert sum(map(len, lean.book.entries.values())) < sum(map(len, whole.book.entries.values()))
        answers, rows = set(), 0
        for client in clients:
            for at in instants:
                for category in categories:
                    answer = lean.may(client, category, Use.PERSONALIZE, at)
                    assert answer == whole.may(client, category, Use.PERSONALIZE, at)
                    answers.add(answer)
                for reader in SEND_TIME:
                    found = lean.events(reader, client, at=at)
                    assert found == whole.events(reader, client, at=at)
                    rows += len(found)
        assert answers == {True, False} and rows > 0
        with pytest.raises(ValueError, match="states=False"):
            lean.state(clients[0], until)
        with pytest.raises(ValueError, match="states=False"):
            lean.entries(clients[0])
        with pytest.raises(ValueError, match="browsing_behaviour"):
            lean.may(clients[0], "browsing_behaviour", Use.PERSONALIZE, until)


def test_the_job_composes_with_the_collector_set_for_bulk_work_and_restores_it(scenario_engine, monkeypatch):  # type: ignore[no-untyped-def]
    """The job holds a chunk's reads, the shop's timelines and its segments' rows for a long time;
    at CPython's default thresholds each full collection walked them all (a fifth of a run of
    2,000 clients of the benchmark's store)."""
    chosen = some_clients(scenario_engine)[:6]
    compose = service.compose_for_job
    thresholds: list[int] = []

    def noting_the_collector(conn, client, monday, **kwargs):  # type: ignore[no-untyped-def]
        thresholds.append(gc.get_threshold()[0])
        return compose(conn, client, monday, **kwargs)

    monkeypatch.setattr(service, "compose_for_job", noting_the_collector)
    before = gc.get_threshold()
    run = weekly.run_week(scenario_engine, WEEK10, now=LATER, client_ids=chosen)

    assert run.sent > 0 and len(thresholds) == len(chosen)
    assert all(t >= YOUNG_THRESHOLD > before[0] for t in thresholds)
    assert gc.get_threshold() == before
