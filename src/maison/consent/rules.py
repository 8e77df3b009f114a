"""Pure consent rules: the state at an instant, and the one decision `may`.

Every reader of client data — ingestion, features, models, recommendations, campaigns,
clienteling — asks `may(state, category, use)`; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from maison.consent.entities import ConsentState, EntryKind, LedgerEntry, PurposeState, Use
from maison.consent.purposes import (
    CONSENT_RECORD,
    DERIVED,
    IDENTITY,
    L1_PURPOSES,
    OBSERVED,
    PURPOSES,
    SERVICE,
    level_includes,
)

_ALWAYS_KEPT = frozenset({CONSENT_RECORD, IDENTITY, SERVICE})


def state_at(entries: Iterable[LedgerEntry], at: datetime | None = None) -> ConsentState:
    """Fold ledger entries effective at or before `at` (all when None) into a state."""
    ordered = sorted(
        (e for e in entries if at is None or e.effective_at <= at), key=lambda e: e.effective_at
    )
    fold = _Fold()
    for e in ordered:
        fold.apply(e)
    return fold.state(has_record=bool(ordered))


def timeline(entries: Iterable[LedgerEntry]) -> tuple[list[datetime], list[ConsentState]]:
    """Each distinct effective instant of the entries, and `state_at(entries, t)` at each, in one
    fold: a job asks for the states of thousands of clients, and re-folding the ledger from its
    start for each instant made that quadratic in a client's changes."""
    instants: list[datetime] = []
    states: list[ConsentState] = []
    fold = _Fold()
    ordered = sorted(entries, key=lambda e: e.effective_at)
    for i, e in enumerate(ordered):
        fold.apply(e)
        if i + 1 == len(ordered) or ordered[i + 1].effective_at != e.effective_at:
            instants.append(e.effective_at)
            states.append(fold.state(has_record=True))
    return instants, states


class _Fold:
    """The ledger folded so far, in effective order (ties in ledger order).

    Kinds are told apart by identity (`is`): a weekly job folds hundreds of thousands of entries,
    and an enum member's equality and hash are Python calls."""

    def __init__(self) -> None:
        self.level: str = "L1"
        self.level_at: datetime | None = None
        self.purposes: dict[str, PurposeState] = {}
        self.restricted = self.objects_to_marketing = self.objects_to_profiling = False

    def apply(self, e: LedgerEntry) -> None:
        kind = e.kind
        if kind is _PURPOSE:
            if e.purpose and e.granted is not None:
                previous = self.purposes.get(e.purpose)
                if previous is None or previous.granted != e.granted:
                    self.purposes[e.purpose] = PurposeState(e.granted, e.effective_at, e.notice_version)
                else:  # a repeated statement renews the notice version, not the change time
                    self.purposes[e.purpose] = PurposeState(e.granted, previous.changed_at, e.notice_version)
        elif kind is _LEVEL:
            if e.level:
                self.level, self.level_at = e.level, e.effective_at
        elif e.granted is not None:
            if kind is _RESTRICTION:
                self.restricted = e.granted
            elif kind is _OBJECT_MARKETING:
                self.objects_to_marketing = e.granted
            elif kind is _OBJECT_PROFILING:
                self.objects_to_profiling = e.granted

    def state(self, *, has_record: bool) -> ConsentState:
        return ConsentState(
            level=self.level,
            purposes=dict(self.purposes),
            restricted=self.restricted,
            objects_to_marketing=self.objects_to_marketing,
            objects_to_profiling=self.objects_to_profiling,
            level_changed_at=self.level_at,
            has_record=has_record,
        )


_PURPOSE, _LEVEL, _RESTRICTION = EntryKind.PURPOSE, EntryKind.LEVEL, EntryKind.RESTRICTION
_OBJECT_MARKETING, _OBJECT_PROFILING = EntryKind.OBJECT_MARKETING, EntryKind.OBJECT_PROFILING


def may(state: ConsentState, category: str, use: Use) -> bool:
    """Whether data of `category` may be put to `use` for a client in `state`."""
    if use == Use.COLLECT:
        if category in _ALWAYS_KEPT:
            return True
        if category in OBSERVED:
            return state.granted(category)
        if category in L1_PURPOSES:
            # Declared data and purchases are kept for the account unless explicitly withdrawn.
            explicit = state.purposes.get(category)
            return explicit is None or explicit.granted
        return category in DERIVED and state.granted(category)
    if state.restricted or category not in PURPOSES:
        return False
    if use == Use.PERSONALIZE:
        if state.objects_to_profiling and category not in L1_PURPOSES:
            return False
        return state.granted(category) and level_includes(state.level, category)
    if use == Use.PROFILE:
        return not state.objects_to_profiling and state.granted(category)
    if use == Use.MARKETING:
        return not state.objects_to_marketing and state.granted(category)
    return False


def usable(state: ConsentState, categories: Sequence[str], use: Use) -> list[str]:
    """The categories of `categories` that may be put to `use` (order kept)."""
    return [c for c in categories if may(state, c, use)]


UNSUBSCRIBED = "Unsubscribed"  # Segment's email spec: the client unsubscribed from the shop's emails


def entries_from_unsubscribe(
    client_id: str, *, effective_at: datetime, message_id: str | None, method: str,
) -> list[LedgerEntry]:
    """An `Unsubscribed` event (sent by the email system) as an objection to direct marketing.

    An unsubscribe is an objection to direct marketing (GDPR Art. 21(2)), which must be honoured
    without delay. The ledger has no objection per channel, so it is recorded as the objection
    on every channel: more than the client may have meant (an associate's outreach stops too,
    until they lift it on their privacy dashboard), never less."""
    return [LedgerEntry(client_id=client_id, kind=EntryKind.OBJECT_MARKETING, effective_at=effective_at,
                        granted=True, method=method, source="email_unsubscribe", message_id=message_id)]


def entries_from_consent_event(
    client_id: str, properties: dict[str, object], *, effective_at: datetime, message_id: str | None,
    method: str, geography: str | None,
) -> list[LedgerEntry]:
    """Ledger entries stated by a `Consent Updated` event (full purpose state plus level)."""
    source = str(properties.get("source")) if properties.get("source") else None
    notice = str(properties.get("policy_version")) if properties.get("policy_version") else None
    common = dict(client_id=client_id, effective_at=effective_at, method=method, source=source,
                  notice_version=notice, geography=geography, message_id=message_id)
    entries: list[LedgerEntry] = []
    level = properties.get("personalization_level")
    if isinstance(level, str) and level in ("L1", "L2", "L3"):
        entries.append(LedgerEntry(kind=EntryKind.LEVEL, level=level, **common))  # type: ignore[arg-type]
    purposes = properties.get("purposes")
    if isinstance(purposes, dict):
        for purpose, granted in purposes.items():
            if purpose in PURPOSES and isinstance(granted, bool):
                entries.append(LedgerEntry(kind=EntryKind.PURPOSE, purpose=purpose, granted=granted, **common))  # type: ignore[arg-type]
    for key, granted in (("granted", True), ("revoked", False)):
        listed = properties.get(key)
        if isinstance(listed, list) and not isinstance(purposes, dict):
            for purpose in listed:
                if purpose in PURPOSES:
                    entries.append(LedgerEntry(kind=EntryKind.PURPOSE, purpose=purpose, granted=granted, **common))  # type: ignore[arg-type]
    return entries
