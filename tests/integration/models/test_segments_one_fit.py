"""`segments.model_as_of` under concurrent pages: a late event or an erasure moves the data mark,
and every personalised page in flight then asks for the period's model at once. One thread fits
it; the others get the model of the data before (when the process has one) instead of each
fitting it again in parallel, or wait for that one fit. A single caller always gets a fit of the
data as it is now."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import count
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from maison.core.db import reading
from maison.core.schema import clients, events
from maison.models.segments import service as segments

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
AS_OF = segments.fit_instant(AT)
_ids = count()


def _add_event_before_the_period(conn: Connection) -> None:
    stamp = AS_OF - timedelta(days=2)
    conn.execute(events.insert(), {
        "source": "web", "message_id": f"of{next(_ids)}", "client_id": "cl_a", "type": "track",
        "event": "Product Viewed", "timestamp": stamp, "received_at": stamp, "data_category": "browsing_behaviour",
        "raw": {"event": "Product Viewed"}})


class SlowFit:
    """`segments.fit` replaced: each call returns a new token, and blocks until released when asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.block = False
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, conn: Connection, **_: Any) -> Any:
        self.calls += 1
        token = f"model-{self.calls}"
        if self.block:
            self.started.set()
            assert self.release.wait(10)
        return token


@pytest.fixture
def slow_fit(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowFit]:
    segments.clear_cache()
    fake = SlowFit()
    monkeypatch.setattr(segments, "fit", fake)
    with engine.begin() as conn:
        conn.execute(clients.insert(), {"id": "cl_a", "created_at": AS_OF - timedelta(days=30)})
        _add_event_before_the_period(conn)
    yield fake
    segments.clear_cache()


def _model(engine: Engine) -> Any:
    with reading(engine) as conn:  # as a page reads (on SQLite a plain connection takes the write lock)
        return segments.model_as_of(conn, at=AT)


def test_while_one_page_refits_the_others_get_the_model_of_the_data_before(engine: Engine, slow_fit: SlowFit) -> None:
    assert _model(engine) == "model-1"
    assert _model(engine) == "model-1" and slow_fit.calls == 1  # cached under the same mark
    with engine.begin() as conn:
        _add_event_before_the_period(conn)  # a late event: the mark moves
    slow_fit.block = True
    with ThreadPoolExecutor(1) as pool:
        refitting = pool.submit(_model, engine)
        assert slow_fit.started.wait(10)
        assert [_model(engine) for _ in range(3)] == ["model-1"] * 3  # not held, not fitted again
        assert slow_fit.calls == 2
        slow_fit.release.set()
        assert refitting.result(10) == "model-2"
    assert _model(engine) == "model-2" and slow_fit.calls == 2


def test_without_a_model_before_the_others_wait_for_the_one_fit(engine: Engine, slow_fit: SlowFit) -> None:
    slow_fit.block = True
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(_model, engine)
        assert slow_fit.started.wait(10)
        others = [pool.submit(_model, engine) for _ in range(2)]
        assert not any(f.done() for f in others)
        slow_fit.release.set()
        assert [f.result(10) for f in (first, *others)] == ["model-1"] * 3
    assert slow_fit.calls == 1


def test_a_failed_fit_lets_the_next_caller_fit(engine: Engine, slow_fit: SlowFit,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conn: Connection, **_: Any) -> Any:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(segments, "fit", broken)
    with pytest.raises(RuntimeError):
        _model(engine)
    monkeypatch.setattr(segments, "fit", slow_fit)
    assert _model(engine) == "model-1"


def test_a_new_process_serves_the_model_kept_in_the_store_while_one_page_refits(
        engine: Engine, slow_fit: SlowFit, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restarted server has no model in memory: while its first page fits (a late event since the
    weekly job kept the period's model), the others get the kept one instead of waiting."""
    kept = SimpleNamespace(model_version="kept-by-the-weekly-job")
    monkeypatch.setattr(segments, "_stored", lambda conn, *, as_of, mark: kept if mark is None else None)
    slow_fit.block = True
    with ThreadPoolExecutor(1) as pool:
        refitting = pool.submit(_model, engine)
        assert slow_fit.started.wait(10)
        assert [_model(engine) for _ in range(3)] == [kept] * 3
        slow_fit.release.set()
        assert refitting.result(10) == "model-1"
    assert _model(engine) == "model-1" and slow_fit.calls == 1
