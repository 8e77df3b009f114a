"""The consent ledger's rows and the state derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EntryKind(StrEnum):
    PURPOSE = "purpose"  # a purpose granted or withdrawn
    LEVEL = "level"  # the personalisation depth chosen
    RESTRICTION = "restriction"  # Art. 18: keep data, stop all processing
    OBJECT_MARKETING = "object_marketing"  # Art. 21(2): no direct marketing on any channel
    OBJECT_PROFILING = "object_profiling"  # Art. 21(1): no scoring or profiling


class Use(StrEnum):
    """What a reader wants to do with a data category."""

    COLLECT = "collect"  # store an incoming event
    PERSONALIZE = "personalize"  # recommendations, digests, product pages
    PROFILE = "profile"  # scores and models about the client (CLV, future VIP, segments)
    MARKETING = "marketing"  # campaigns, journeys, associate outreach


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    client_id: str
    kind: EntryKind
    effective_at: datetime
    purpose: str | None = None
    granted: bool | None = None
    level: str | None = None
    method: str = "api"  # web, app, store, associate, email_link, dashboard, api
    source: str | None = None
    notice_version: str | None = None
    geography: str | None = None
    message_id: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class PurposeState:
    granted: bool
    changed_at: datetime | None
    notice_version: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentState:
    """A client's consent at one instant. The default is privacy by default: L1, nothing observed."""

    level: str = "L1"
    purposes: dict[str, PurposeState] = field(default_factory=dict)
    restricted: bool = False
    objects_to_marketing: bool = False
    objects_to_profiling: bool = False
    level_changed_at: datetime | None = None
    has_record: bool = False

    def granted(self, purpose: str) -> bool:
        state = self.purposes.get(purpose)
        return bool(state and state.granted)
