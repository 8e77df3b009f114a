"""The collector during bulk work: rare young collections, and everything restored afterwards."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from maison.core.collector import YOUNG_THRESHOLD, bulk_work


@pytest.fixture
def collector() -> Iterator[None]:
    """Each test starts unfrozen at CPython's default thresholds, and leaves the collector so."""
    saved = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)


def test_bulk_work_collects_rarely_and_restores_the_collector(collector: None) -> None:
    with bulk_work():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0  # what existed before the job is out of the collector's view
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_bulk_work_restores_the_collector_when_the_job_fails(collector: None) -> None:
    with pytest.raises(RuntimeError), bulk_work():
        raise RuntimeError("chunk failed")
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_bulk_work_leaves_a_servers_frozen_start_up_frozen(collector: None) -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with bulk_work():
        pass
    assert gc.get_freeze_count() == frozen


def test_bulk_work_still_collects_cycles_without_being_asked(collector: None) -> None:
    class Node:
        other: object

    with bulk_work():
        first, second = Node(), Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
        assert gone() is not None  # a cycle: reference counting alone cannot free it
        kept = [[] for _ in range(YOUNG_THRESHOLD * 2)]  # allocations past the young threshold
        assert gone() is None
        del kept
