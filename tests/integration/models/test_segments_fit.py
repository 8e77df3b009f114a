"""Fitting segments on a stored clientele: a chunk of clients in memory at a time, the same model.

The store is the digest benchmark's synthetic shop (`bench.digests.load`): clients at L1-L3 with
their ledgers, views, content reads, opens and orders, as ingestion would store them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select

from maison.bench import digests
from maison.core.db import reading
from maison.core.schema import content_pages, events, segment_models
from maison.models.segments import service
from maison.personalize import weekly
from maison.privacy import erasure


@pytest.fixture
def shop(engine: Engine) -> Iterator[Engine]:
    products = digests.catalogue(300, 3)
    digests.load(engine, n_clients=240, products=products, pages=digests.content_pages(products), seed=3,
                 say=lambda _: None)
    service.clear_cache()
    yield engine
    service.clear_cache()


AT = digests.now_after(digests.MONDAY)
AS_OF = service.fit_instant(AT)


def test_a_fit_read_a_few_clients_at_a_time_finds_the_same_segments(shop: Engine,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's events are read a chunk of clients at a time (a clientele's raw events do not fit
    in memory at once), and the clientele's ledgers a part at a time; the vectors, hence the
    segments and the model's version, are those of one read."""
    with shop.connect() as conn:
        monkeypatch.setattr(service, "PART", 10**9)
        whole = service.fit(conn, as_of=AS_OF)
        monkeypatch.setattr(service, "_CHUNK", 7)
        monkeypatch.setattr(service, "PART", 13)
        chunked = service.fit(conn, as_of=AS_OF)
    assert whole is not None and chunked is not None
    assert whole.pooled >= 40 and len(whole.segments) >= 2  # a real fit: the comparison can fail
    assert chunked.model_version == whole.model_version
    assert [s.members for s in chunked.segments] == [s.members for s in whole.segments]
    assert np.array_equal(chunked.segmenter.centers_, whole.segmenter.centers_)  # declared block's too


def test_the_weekly_job_fits_its_model_once_with_the_parts_spread_over_its_processes(shop: Engine) -> None:
    """With several processes, the job has the week's model fitted and kept before they start, its
    parts computed in them: the model is the one a fit in one process finds, and a worker then
    reads it back instead of fitting the same model again on its own."""
    url = shop.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        weekly._fit_first(shop, digests.MONDAY, pool, url, 2)
    service.clear_cache()
    with shop.connect() as conn:
        serial = service.fit(conn, as_of=service.fit_instant(datetime.combine(digests.MONDAY, time(), UTC)))
        assert conn.execute(select(func.count()).select_from(segment_models)).scalar_one() == 1

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kept model should have been read back")

    with shop.connect() as conn, pytest.MonkeyPatch.context() as patch:
        patch.setattr(service, "fit", no_fit)
        kept = service.model_as_of(conn, at=datetime.combine(digests.MONDAY, time(12), UTC))
    assert serial is not None and kept is not None and serial.pooled >= 40
    assert kept.model_version == serial.model_version
    assert [s.members for s in kept.segments] == [s.members for s in serial.segments]
    assert np.array_equal(kept.segmenter.centers_, serial.segmenter.centers_)


def test_a_content_type_no_listed_page_has_is_still_a_column_when_clients_read_it(
        shop: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns come from the listed pages and from what pooled clients read: a page type the
    catalogue no longer lists (or never imported) is found in the events, read again with it."""
    with shop.begin() as conn:
        conn.execute(delete(content_pages).where(content_pages.c.content_type == "impact"))
        assert "impact" not in set(conn.scalars(select(content_pages.c.content_type)))
    monkeypatch.setattr(service, "_CHUNK", 11)
    with shop.connect() as conn:
        model = service.fit(conn, as_of=AS_OF)
    assert model is not None
    assert "impact" in model.vocabulary.content_types and "sourcing" in model.vocabulary.content_types
    column = [i for i, f in enumerate(model.vocabulary.features) if f.value == "impact"]
    assert len(column) == 1


def test_a_fitted_model_is_kept_in_the_store_and_read_back_by_another_process(
        shop: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A weekly job runs every quarter hour, each run a new process; a server restarts. The model a
    job fitted is kept in the store for its period and data mark, and read back exactly (same
    segments, same centres, same placements) without fitting again."""
    with reading(shop) as conn:  # as the weekly job reads
        fitted = service.model_as_of(conn, at=AT, keep=True)
    service.clear_cache()  # another process

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kept model should have been read back")

    monkeypatch.setattr(service, "fit", no_fit)
    with shop.connect() as conn:
        again = service.model_as_of(conn, at=AT)
    assert fitted is not None and again is not None
    assert again.model_version == fitted.model_version and again.as_of == fitted.as_of
    assert again.segments == fitted.segments and again.blocks == fitted.blocks and again.pooled == fitted.pooled
    assert again.vocabulary == fitted.vocabulary
    for name in ("mean_", "scale_", "weights_", "centers_", "labels_", "profiles_"):
        assert np.array_equal(getattr(again.segmenter, name), getattr(fitted.segmenter, name)), name
    rng = np.random.default_rng(1)
    x = rng.random((50, len(again.blocks)))
    seen = rng.random((50, len(again.blocks))) > 0.3
    assert np.array_equal(again.segmenter.predict(x, seen), fitted.segmenter.predict(x, seen))


def test_a_model_is_fitted_again_when_the_data_before_its_period_changed(
        shop: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with shop.begin() as conn:  # a plain connection: on SQLite it holds the write lock, kept in its transaction
        service.model_as_of(conn, at=AT, keep=True)
    service.clear_cache()
    with shop.begin() as conn:  # a late event stamped before the period: the data mark moves
        late = conn.execute(select(events).where(events.c.timestamp < AS_OF).limit(1)).mappings().one()
        conn.execute(events.insert(), {**{k: v for k, v in late.items() if k != "id"}, "message_id": "late-one"})
    fits = []
    real = service.fit
    monkeypatch.setattr(service, "fit", lambda conn, **kw: fits.append(1) or real(conn, **kw))
    with reading(shop) as conn:
        assert service.model_as_of(conn, at=AT, keep=True) is not None
    assert fits == [1]
    with shop.connect() as conn:
        assert conn.execute(select(func.count()).select_from(segment_models)).scalar_one() == 1  # the stale one went


def test_a_process_fits_again_for_a_late_event_not_for_a_current_one(
        shop: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server keeps its model while traffic arrives: events of the period do not touch it (on
    SQLite only the rows added since are counted), a late one stamped before the period does."""
    with reading(shop) as conn:
        assert service.model_as_of(conn, at=AT) is not None
    fits = []
    real = service.fit
    monkeypatch.setattr(service, "fit", lambda conn, **kw: fits.append(1) or real(conn, **kw))
    with shop.begin() as conn:
        row = conn.execute(select(events).where(events.c.timestamp < AS_OF).limit(1)).mappings().one()
        copy = {k: v for k, v in row.items() if k != "id"}
        conn.execute(events.insert(), {**copy, "message_id": "current", "timestamp": AT - timedelta(hours=1)})
    with reading(shop) as conn:
        assert service.model_as_of(conn, at=AT) is not None
    assert fits == []
    with shop.begin() as conn:
        conn.execute(events.insert(), {**copy, "message_id": "late", "timestamp": AS_OF - timedelta(hours=1)})
    with reading(shop) as conn:
        assert service.model_as_of(conn, at=AT) is not None
    assert fits == [1]


def test_the_weekly_job_keeps_its_model_and_an_erasure_forgets_every_kept_model(shop: Engine) -> None:
    """Kept models list member ids: an erasure drops them all (the next use fits again)."""
    weekly.run_week(shop, digests.MONDAY, now=digests.now_after(digests.MONDAY))
    with shop.connect() as conn:
        kept = conn.execute(select(segment_models.c.payload)).scalars().all()
    assert len(kept) == 1
    member = kept[0]["segments"][0]["members"][0]
    with shop.begin() as conn:
        counts = erasure.erase(conn, member, request_id="r-1", suppression_key=b"k" * 32, now=digests.now_after(
            digests.MONDAY))
    assert counts["segment_models"] == 1
    with shop.connect() as conn:
        assert conn.execute(select(func.count()).select_from(segment_models)).scalar_one() == 0


def test_a_model_json_cannot_hold_is_not_kept_and_still_used(shop: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSON would store a non-finite learned value as null, and the model read back would not be the
    one fitted: such a model is used by the process that fitted it and not kept."""
    real = service.fit

    def with_nan(conn: object, **kw: object) -> object:
        model = real(conn, **kw)  # type: ignore[arg-type]
        assert model is not None
        model.segmenter.mean_[0] = np.nan
        return model

    monkeypatch.setattr(service, "fit", with_nan)
    with reading(shop) as conn:
        assert service.model_as_of(conn, at=AT, keep=True) is not None
    with shop.connect() as conn:
        assert conn.execute(select(func.count()).select_from(segment_models)).scalar_one() == 0
