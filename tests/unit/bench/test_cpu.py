"""The bench's CPU attribution: whose processes used how much, per event."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from maison.bench import cpu

linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


@linux
def test_a_busy_process_in_the_servers_session_counts_as_the_server_and_this_process_as_the_load() -> None:
    busy_then_idle = (
        "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\ntime.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", busy_then_idle], start_new_session=True)
    try:
        before = cpu.snapshot(child.pid)
        end = time.process_time() + 0.3
        while time.process_time() < end:  # this process: the load generator
            pass
        deadline, after = time.monotonic() + 20, before
        while time.monotonic() < deadline:  # until the child's half second shows (a busy host is slower)
            after = cpu.snapshot(child.pid)
            assert before is not None and after is not None
            if after[cpu.SERVER] - before[cpu.SERVER] >= 0.4:
                break
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()
    assert before is not None and after is not None
    assert after[cpu.SERVER] - before[cpu.SERVER] >= 0.4
    assert after[cpu.LOAD] - before[cpu.LOAD] >= 0.25
    assert set(after) == {cpu.SERVER, cpu.DATABASE, cpu.LOAD}


def test_per_event_is_each_partys_microseconds_per_event_and_unknown_without_readings() -> None:
    before = {cpu.SERVER: 1.0, cpu.DATABASE: 2.0, cpu.LOAD: 0.5}
    after = {cpu.SERVER: 2.28, cpu.DATABASE: 3.1, cpu.LOAD: 0.7}
    assert cpu.per_event(before, after, 10_000) == {cpu.SERVER: 128.0, cpu.DATABASE: 110.0, cpu.LOAD: 20.0}
    assert cpu.per_event(None, after, 10_000) is None
    assert cpu.per_event(before, after, 0) is None


def test_the_summary_says_how_many_cores_the_rate_kept_busy() -> None:
    line = cpu.summary({cpu.SERVER: 128.0, cpu.DATABASE: 110.0, cpu.LOAD: 20.0}, events_per_s=7_200, cores=2)
    assert line == "CPU per event: server 128 µs, database 110 µs, load generator 20 µs; 1.86 of 2 cores busy"
    assert "database" not in cpu.summary({cpu.SERVER: 300.0, cpu.DATABASE: 0.0, cpu.LOAD: 20.0},
                                         events_per_s=3_000, cores=2)  # SQLite: inside the server
