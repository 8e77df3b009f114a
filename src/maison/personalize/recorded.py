"""What earlier digests recorded about a chunk of clients, read once for a weekly job.

An L3 digest asks the records two questions: which collections were granted to the client
before its instant (`derived.collections`), and which pieces earlier digests sent in their L3
section may still rest (`repository.sent_picks`). One digest asks each with a query; a week's job
composes 500 clients a chunk, and a query per client and question was a millisecond each, so
`Recorded` reads each kind once for the chunk and answers with the same bounds. A question
outside what it read (an instant past `until`, picks before `picks_since`) gets None, and the
caller asks the store as a single digest does; so does a client it was not given (a weekly job
gives it the clients at L3 at their send instant: the others' digests never ask).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from maison.personalize import derived
from maison.personalize import repository as repo
from maison.personalize.repeats import SentPick


class Recorded:
    """Collection grants up to `until` and `section`'s sent picks in `[picks_since, until)` of some clients."""

    def __init__(self, conn: Connection, client_ids: Sequence[str], *, until: datetime, picks_since: datetime,
                 section: str) -> None:
        self.clients = frozenset(client_ids)
        self.until, self.picks_since, self.section = until, picks_since, section
        self._grants = derived.rows_of(conn, client_ids, [derived.COLLECTION_ACCESS], until=until)
        self._picks = repo.sent_picks_of(conn, client_ids, section=section, start=picks_since, end=until)

    def collections(self, client_id: str, *, at: datetime) -> frozenset[str] | None:
        """`derived.collections(conn, client_id, at=at)`, or None if the client or `at` is not in what was read."""
        if client_id not in self.clients or not self._grants.covers(derived.COLLECTION_ACCESS, at):
            return None
        return frozenset(self._grants.collections(client_id, at=at))

    def sent_picks(self, client_id: str, *, section: str, start: datetime, end: datetime) -> list[SentPick] | None:
        """`repository.sent_picks(conn, client_id, ...)`, or None if the client or span is not in what was read."""
        if client_id not in self.clients or section != self.section or start < self.picks_since or end > self.until:
            return None
        return [p for p in self._picks.get(client_id, ()) if start <= p.sent_at < end]
