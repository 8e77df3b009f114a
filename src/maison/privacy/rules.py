"""Pure views of a client's privacy state, as the dashboard and the API show it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from maison.consent.entities import ConsentState, Use
from maison.consent.purposes import DESCRIPTIONS, FIDES_CATEGORY, LEVEL_OF, LEVELS, PURPOSES
from maison.consent.rules import may

LEVEL_TEXT = {
    "L1": "Declared interests only: the categories you told us about and what you bought.",
    "L2": "Also adapts to your browsing, searches, bag, email timing and reading.",
    "L3": "Also describes how your taste evolves, what you seem to value, and exploratory picks.",
}


def settings_view(state: ConsentState, *, collection_access: list[str] | None = None) -> dict[str, Any]:
    """The privacy settings: every purpose with its level, granted state and current use."""
    return {
        "personalization_level": state.level,
        "levels": [{"level": lv, "description": LEVEL_TEXT[lv], "current": lv == state.level} for lv in LEVELS],
        "purposes": [
            {
                "purpose": p,
                "level": LEVEL_OF[p],
                "granted": state.granted(p),
                "used_for_personalisation": may(state, p, Use.PERSONALIZE),
                "description": DESCRIPTIONS[p],
                "taxonomy": FIDES_CATEGORY[p],
                "changed_at": _iso(state.purposes[p].changed_at) if p in state.purposes else None,
                "notice_version": state.purposes[p].notice_version if p in state.purposes else None,
            }
            for p in PURPOSES
        ],
        "restricted": state.restricted,
        "objects_to_marketing": state.objects_to_marketing,
        "objects_to_profiling": state.objects_to_profiling,
        "collection_access": list(collection_access or []),
    }


def needs_renewal(state: ConsentState, newest: Mapping[str, str], published: Mapping[str, datetime]) -> list[str]:
    """Granted purposes whose consent was given under an older notice than the current one.

    `newest` maps each purpose to the newest notice version that changed its text; `published`
    gives each notice version's publication instant. A notice is older when it was published
    earlier: versions are names ("2026-06", "v10"), and as text "v10" came before "v9". A consent
    given under a version never published (or none) counts from when it was given."""
    stale = []
    for purpose, version in newest.items():
        current = state.purposes.get(purpose)
        if not current or not current.granted or current.notice_version == version:
            continue
        given = published.get(current.notice_version or "", current.changed_at)
        if given is None or given < published[version]:
            stale.append(purpose)
    return sorted(stale)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
