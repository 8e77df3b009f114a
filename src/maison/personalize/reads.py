"""How the digest service reads clients' consent and events: one client at a time, or a chunk at once.

A digest asks the same client's ledger a dozen questions (level, restriction, each purpose at
Tuesday 00:00 and at the send instant) and reads their events through four readers. `ClientReads`
loads the ledger once and answers every question from it; in a week's job it also reads the
events of a whole chunk of clients in one query (`consent.gateway.prefetch`). Either way each
answer goes through the one policy (`ConsentBook.may`, the gateway's filter) at the instant asked,
so a digest is the same whichever way its client was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from maison.consent import gateway
from maison.consent import service as consent
from maison.consent.entities import ConsentState, LedgerEntry, Use
from maison.consent.readers import Reader
from maison.identity import repository as identity_repo
from maison.personalize import readers
from maison.personalize.recorded import Recorded

DIGEST = (readers.DECLARED, readers.ZONE, readers.EMAIL_OPENS, readers.BEHAVIOUR)  # what a digest reads
SEND_TIME = (readers.ZONE, readers.EMAIL_OPENS)  # what its send time reads


class ClientReads:
    """Consent and events of some clients, as the policy lets personalisation use them."""

    def __init__(
        self, conn: Connection, client_ids: Sequence[str], *, until: datetime | None = None,
        readers: Sequence[Reader] = DIGEST, states: bool = True, recorded: Recorded | None = None,
    ) -> None:
        """`until`: read the clients' events before it now, in one query (for a job's chunk), for
        these `readers`; None reads each client's events when asked (one digest, one client).

        `states=False`: only `may` about the readers' categories and `events` will be asked (a
        job's first pass, which finds send times), so the ledgers are read for those categories
        alone (`consent.book(..., answering=...)`) and `state` and `entries` refuse.

        `recorded`: what earlier digests recorded about these clients, read once for a job's chunk."""
        self.conn = conn
        self.recorded = recorded
        self._categories = frozenset(c for r in readers for c in r.categories)
        self._states = states
        self.book = consent.book(conn, client_ids) if states else consent.book(conn, client_ids,
                                                                              answering=self._categories)
        self._prefetched = (
            gateway.prefetch(conn, client_ids, until=until, categories=self._categories, book=self.book)
            if until is not None else None
        )
        self._users = identity_repo.user_ids_of(conn, client_ids) if until is not None else None

    def events(self, reader: Reader, client_id: str, *, at: datetime) -> list[dict[str, Any]]:
        """The client's events the reader may use at `at`, timestamped before it, in time order."""
        if self._prefetched is not None and self._categories.issuperset(reader.categories) \
                and at <= self._prefetched.until:
            return self._prefetched.read(reader, [client_id], at=at).get(client_id, [])
        return gateway.read(self.conn, reader, [client_id], at=at, book=self.book).get(client_id, [])

    def customer_id(self, client_id: str) -> str:
        """The id the client knows (their smallest userId, in code-point order), else the internal client id."""
        users = self._users if self._users is not None else identity_repo.user_ids_of(self.conn, [client_id])
        found = users.get(client_id)
        return min(found) if found else client_id

    def state(self, client_id: str, at: datetime) -> ConsentState:
        self._whole_ledger()
        return self.book.state(client_id, at)

    def may(self, client_id: str, category: str, use: Use, at: datetime) -> bool:
        return self.book.may(client_id, category, use, at)

    def entries(self, client_id: str) -> Sequence[LedgerEntry]:
        """The client's ledger as recorded (when they joined, for the taste trajectory)."""
        self._whole_ledger()
        return self.book.entries.get(client_id, ())

    def _whole_ledger(self) -> None:
        if not self._states:
            raise ValueError("these reads hold the ledgers for their readers' categories only (states=False)")
