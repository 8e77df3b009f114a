"""The garbage collector, tuned for how Maison allocates.

Ingestion allocates a great many small, acyclic objects (parsed messages, row tuples) that live
for one batch. With CPython's default young-generation threshold (700 allocations) the
collector runs thousands of times per batch, and every run walks the batch's live objects
again as they are promoted, then a full collection walks everything start-up built. None of
it is garbage the reference counts would not free: on the bench traffic it was 10-18% of a
bulk import's CPU. A higher young threshold collects rarely and still collects: cycles are
found, later. Objects built before serving or before a bulk job (modules, the app, settings)
are frozen out of the collector's view.

The weekly digest job is the other bulk job. It holds many objects for a long time (a chunk's
reads, the shop's timelines, each segment's members' rows), and each full collection walked
them all: on 2,000 clients of the benchmark's 20,000-client store, 18 full collections took
5.5 s of a 32 s run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

# Young-generation threshold during bulk work: a collection every few hundred messages instead
# of several per message.
YOUNG_THRESHOLD: Final = 50_000


def settle_for_serving() -> None:
    """Before a server answers its first request: collect once and freeze what start-up built.
    A full collection otherwise walks those ~230,000 objects (50-100 ms on 2 cores), and the
    request that triggers it waits. The young threshold stays CPython's: raising it for the
    server moved HTTP batch throughput by 2-3%, within the bench's noise, so it was not kept."""
    gc.collect()
    gc.freeze()


@contextmanager
def bulk_work() -> Iterator[None]:
    """Collect rarely while a bulk job runs, and restore the collector as it was afterwards.

    What exists when the job starts is frozen for its duration, unless something (a server's
    start-up) froze objects already: then those stay frozen, as their owner intended."""
    threshold = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.set_threshold(max(YOUNG_THRESHOLD, threshold[0]), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if freeze:
            gc.unfreeze()
