"""Export (GDPR Art. 15 and 20): one machine-readable JSON document per client.

It holds what Maison stores about the client and what it derived, with the purposes,
retention periods and the logic of profiling in plain words. The document follows the
published JSON Schema in `export.schema.json` (served at `/v1/privacy/export.schema.json`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from maison.consent import repository as consent_repo
from maison.consent.purposes import DESCRIPTIONS, FIDES_CATEGORY, LEVEL_OF, PURPOSES
from maison.core.responses import dumps
from maison.core.schema import decisions, events, privacy_requests
from maison.core.settings import get_settings
from maison.identity import repository as identity_repo
from maison.models import scores as score_store
from maison.personalize import derived
from maison.profiles.service import get_profile

SCHEMA_PATH = Path(__file__).with_name("export.schema.json")
SCHEMA_VERSION = "1.0"
FUTURE_VALUE_MODEL = "future_vip"

PROFILING_LOGIC = (
    "Maison personalises at the depth you choose. At L1 it uses only the categories you declared "
    "and what you bought, and shows the best-selling items of those categories. At L2 it also uses "
    "what you browse, search, put in your bag and read, and the ratings of clients who browse like "
    "you, to suggest items you have been considering and pieces that go with them. At L3 it also "
    "describes how your taste has moved month by month, infers values such as sustainability from "
    "what you engage with (only while you allow it), and adds clearly labelled exploratory picks. "
    "A future-value score estimates, from your first weeks, how likely you are to become one of "
    "our closest clients; it never decides alone, you can see its reasons and ask for a review. "
    "Every recommendation records the data it used, and you can switch any purpose off."
)


def _json_safe(value: Any) -> Any:
    return json.loads(dumps(value))


def _score(conn: Connection, client_id: str, model: str, *, now: datetime) -> dict[str, Any] | None:
    """The newest stored score of a model with its version, data instant and reasons. `served` says
    whether Maison may use it today (an objection to profiling hides it before the next batch deletes it)."""
    stored = score_store.latest_stored(conn, client_id, model)
    if stored is None:
        return None
    served = score_store.latest(conn, client_id, model, now=now) is not None
    return {**stored.to_dict(), "served": served}


def build(conn: Connection, client_id: str, *, now: datetime) -> dict[str, Any]:
    """The export document of one client as of `now` (events timestamped after it are not in it)."""
    settings = get_settings()
    profile = get_profile(conn, client_id, as_of=now)
    rows = conn.execute(
        select(events.c.raw, events.c.data_category)
        .where(events.c.client_id == client_id, events.c.timestamp <= now)
        .order_by(events.c.timestamp, events.c.id)
    ).all()
    made = conn.execute(
        select(decisions).where(decisions.c.client_id == client_id).order_by(decisions.c.decided_at, decisions.c.id)
    ).mappings().all()
    requests = conn.execute(
        select(privacy_requests.c.request_id, privacy_requests.c.kind, privacy_requests.c.status,
               privacy_requests.c.requested_at, privacy_requests.c.due_at, privacy_requests.c.completed_at)
        .where(privacy_requests.c.client_id == client_id)
    ).mappings().all()
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "client_id": client_id,
        "identifiers": [{"kind": k, "value": v} for k, v in identity_repo.identifiers_of_client(conn, client_id)],
        "profile": profile.to_dict(),
        "consent_history": consent_repo.history(conn, client_id),
        "events": [{**dict(r.raw), "data_category": r.data_category} for r in rows],
        "derived": {
            "future_value_score": _score(conn, client_id, FUTURE_VALUE_MODEL, now=now),
            "scores": [_score(conn, client_id, m, now=now) for m in score_store.models_of(conn, client_id)],
            "cohort": derived.latest(conn, client_id, "cohort", at=now),  # personalize.cohort.COHORT
            "trajectory": derived.latest(conn, client_id, derived.TRAJECTORY, at=now),
            "inferred_values": derived.latest(conn, client_id, derived.INFERRED_VALUES, at=now) or [],
            "collection_access": derived.collections(conn, client_id, at=now),
            "collection_access_reasons": derived.all_of(conn, client_id, derived.COLLECTION_ACCESS, at=now),
        },
        "decisions": [{k: v for k, v in d.items() if k != "client_id"} for d in made if d["kind"] != "digest"],
        "digests": [d["output"] for d in made if d["kind"] == "digest"],
        "messages": [d["output"] for d in made if d["kind"] == "message"],
        "requests": [dict(r) for r in requests],
        "purposes": [
            {"purpose": p, "level": LEVEL_OF[p], "description": DESCRIPTIONS[p], "taxonomy": FIDES_CATEGORY[p],
             "retention_days": settings.privacy.retention_days.get(p)}
            for p in PURPOSES
        ],
        "retention_days": dict(settings.privacy.retention_days),
        "profiling_logic": PROFILING_LOGIC,
    }
    return _json_safe(doc)  # type: ignore[no-any-return]


def deliver(conn: Connection, client_id: str, *, request_id: str, as_of: datetime, home: Path | None = None) -> Path:
    """Write the export, as of the request, to the delivery outbox under MAISON_HOME."""
    outbox = (home or get_settings().home) / "exports"
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{request_id}.json"
    path.write_bytes(dumps(build(conn, client_id, now=as_of)))
    return path
