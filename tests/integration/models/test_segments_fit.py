"""Fitting segments on a stored clientele: a chunk of clients in memory at a time, the same model.

The store is the digest benchmark's synthetic shop (`bench.digests.load`): clients at L1-L3 with
their ledgers, views, content reads, opens and orders, as ingestion would store them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select

from maison.bench import digests
from maison.core.schema import content_pages
from maison.models.segments import service


@pytest.fixture
def shop(engine: Engine) -> Iterator[Engine]:
    products = digests.catalogue(300, 3)
    digests.load(engine, n_clients=160, products=products, pages=digests.content_pages(products), seed=3,
                 say=lambda _: None)
    service.clear_cache()
    yield engine
    service.clear_cache()


AS_OF = service.fit_instant(digests.now_after(digests.MONDAY))


def test_a_fit_read_a_few_clients_at_a_time_finds_the_same_segments(shop: Engine,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's events are read a chunk of clients at a time (a clientele's raw events do not fit
    in memory at once); the vectors, hence the segments and the model's version, are those of one read."""
    with shop.connect() as conn:
        whole = service.fit(conn, as_of=AS_OF)
        monkeypatch.setattr(service, "_CHUNK", 7)
        chunked = service.fit(conn, as_of=AS_OF)
    assert whole is not None and chunked is not None
    assert whole.pooled >= 40 and len(whole.segments) >= 2  # a real fit: the comparison can fail
    assert chunked.model_version == whole.model_version
    assert [s.members for s in chunked.segments] == [s.members for s in whole.segments]


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
