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
    level, level_at = "L1", None
    purposes: dict[str, PurposeState] = {}
    flags = {k: False for k in (EntryKind.RESTRICTION, EntryKind.OBJECT_MARKETING, EntryKind.OBJECT_PROFILING)}
    for e in ordered:
        if e.kind == EntryKind.LEVEL and e.level:
            level, level_at = e.level, e.effective_at
        elif e.kind == EntryKind.PURPOSE and e.purpose and e.granted is not None:
            previous = purposes.get(e.purpose)
            if previous is None or previous.granted != e.granted:
                purposes[e.purpose] = PurposeState(e.granted, e.effective_at, e.notice_version)
            else:  # a repeated statement renews the notice version, not the change time
                purposes[e.purpose] = PurposeState(e.granted, previous.changed_at, e.notice_version)
        elif e.kind in flags and e.granted is not None:
            flags[e.kind] = e.granted
    return ConsentState(
        level=level,
        purposes=purposes,
        restricted=flags[EntryKind.RESTRICTION],
        objects_to_marketing=flags[EntryKind.OBJECT_MARKETING],
        objects_to_profiling=flags[EntryKind.OBJECT_PROFILING],
        level_changed_at=level_at,
        has_record=bool(ordered),
    )


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
