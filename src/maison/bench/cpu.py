"""Where a benchmark's CPU went: the server's processes, the database's, the load generator.

A throughput figure alone cannot say whether a goal is out of reach of the machine or of the
code: 2 cores give 200 µs of CPU per event at 10,000 events/s, shared by everything on the
host. So the HTTP measures also report CPU seconds per event for each party, read from
/proc (Linux; elsewhere the figure is left out): the server is its process group (`maison
serve` and its workers: the bench starts it in a session of its own), the database every
process named `postgres` (on loopback, the store's own server), the load generator this
process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SERVER, DATABASE, LOAD = "server", "database", "load generator"
_PROC = Path("/proc")


def snapshot(server_session: int) -> dict[str, float] | None:
    """CPU seconds so far of the server's session, the database and this process (None off Linux)."""
    if not (_PROC / "self" / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    used = {SERVER: 0.0, DATABASE: 0.0}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[3]) == server_session:  # session id
            used[SERVER] += seconds
        elif name.startswith("postgres"):
            used[DATABASE] += seconds
    times = os.times()
    used[LOAD] = times.user + times.system
    return used


def process_tree() -> float:
    """CPU seconds of this process and of its children that have ended (a job's worker pool, once
    it is shut down): `os.times`, so on any platform."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def per_event(before: Mapping[str, float] | None, after: Mapping[str, float] | None,
              events: int) -> dict[str, float] | None:
    """µs of CPU per event for each party between two snapshots."""
    if before is None or after is None or events <= 0:
        return None
    return {party: round((after[party] - before[party]) / events * 1e6, 1) for party in after}


def summary(cpu: Mapping[str, float], *, events_per_s: float, cores: int) -> str:
    """One line: each party's µs per event, and how many cores that kept busy."""
    parts = ", ".join(f"{party} {us:,.0f} µs" for party, us in cpu.items() if us > 0)
    busy = sum(cpu.values()) * events_per_s / 1e6
    return f"CPU per event: {parts}; {busy:.2f} of {cores} cores busy"
