"""Pure rules of the privacy dashboard: its wording, its view, its forms and their signatures.

Nothing here reads a request, a database or settings: the page module hands in the consent
state, the decisions, the secret and the clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from maison.consent.entities import ConsentState, Use
from maison.consent.purposes import DERIVED, LEVEL_OF, LEVELS, OBSERVED, PURPOSES
from maison.consent.rules import may
from maison.personalize.collection_access import NO_PRICE_BENEFIT as RECORDED_PRICE_SENTENCE
from maison.privacy.rules import LEVEL_TEXT, settings_view
from maison.web.entities import (
    Change,
    CollectionRow,
    Control,
    Dashboard,
    DecisionRow,
    LevelSection,
    PurposeRow,
)
from maison.web.exceptions import FormRejected, InvalidForm

# A rendered form stays valid this long; after it the client reloads the page (no data lost).
FORM_TTL_SECONDS: Final = 2 * 3600
FORM_FIELD: Final = "form"

PURPOSE_LABEL: Final[Mapping[str, str]] = {
    "declared_categories": "Interests you declared",
    "purchase_history": "Purchases and reviews",
    "demographics": "City, country and age band",
    "browsing_behaviour": "Browsing",
    "search_history": "Searches",
    "cart_activity": "Bag and checkout",
    "email_engagement": "Email opens and clicks",
    "content_engagement": "Articles and guides read",
    "similar_customer_signals": "Signals from similar clients",
    "taste_trajectory": "How your taste evolves",
    "values_inference": "What you seem to value",
    "exploratory_recommendations": "Exploratory picks",
}
LEVEL_TITLE: Final[Mapping[str, str]] = {"L1": "Essential", "L2": "Attentive", "L3": "Curated"}
LEVEL_WHY: Final[Mapping[str, str]] = {
    "L1": "So what we show you matches the categories you chose and complements what you own.",
    "L2": "So suggestions follow what you have been considering lately, "
    "and emails arrive when you read them.",
    "L3": "So we can describe how your style is evolving, favour what matters to you, "
    "and now and then surprise you.",
}
KIND_TEXT: Final[Mapping[str, str]] = {
    "declared": "Kept for your account; used for personalisation only with your consent.",
    "observed": "Collected only while you allow it.",
    "derived": "Worked out from other data, never collected; used only while you allow it.",
}
CONTROLS: Final[Mapping[str, tuple[str, str]]] = {
    "restriction": (
        "Pause all use of my data",
        "We keep your data but use it for nothing at all until you lift the pause "
        "(GDPR Art.\u00a018).",
    ),
    "object_marketing": (
        "No marketing",
        "No marketing messages on any channel, whatever else you allow (GDPR Art.\u00a021(2)).",
    ),
    "object_profiling": (
        "No profiling or scoring",
        "No scores or profiles about you; only the interests you declared personalise what you see "
        "(GDPR Art.\u00a021(1)).",
    ),
}
DECISION_KIND: Final[Mapping[str, str]] = {
    "recommendations": "Recommendations",
    "digest": "Digest",
    "score": "Score",
    "message": "Message",
}
NO_PRICE_BENEFIT: Final = (
    "No price benefit: every piece of it is offered at its catalogue price, the same for everyone."
)
PRICE_BENEFIT_RECORDED: Final = "This access was recorded with a price benefit."
_TRUE, _FALSE = "true", "false"


# --- forms -------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _form_signature(secret: bytes, token: str, issued: int) -> str:
    # A key of its own, derived from the token secret: a form value can never pass as a token.
    key = hmac.new(secret, b"maison.web.form.v1", hashlib.sha256).digest()
    return _b64(hmac.new(key, f"{token}|{issued}".encode(), hashlib.sha256).digest())


def sign_form(secret: bytes, token: str, *, now: float) -> str:
    """The hidden field of every form rendered for `token`: `issued.signature`."""
    issued = int(now)
    return f"{issued}.{_form_signature(secret, token, issued)}"


def verify_form(secret: bytes, token: str, value: str | None, *, now: float) -> None:
    """Accept a form only with a field signed for this very link, rendered recently."""
    if not value:
        raise FormRejected("the form lacks its signed field; reload the page and try again")
    issued_text, _, signature = value.partition(".")
    try:
        issued = int(issued_text)
    except ValueError:
        raise FormRejected("the form's signed field is malformed; reload the page") from None
    if not hmac.compare_digest(_form_signature(secret, token, issued), signature):
        raise FormRejected("the form was not issued for this link; reload the page")
    if not issued - 60 <= now <= issued + FORM_TTL_SECONDS:
        raise FormRejected("the page was open too long and its form expired; reload the page")


def _flag(fields: Mapping[str, str], name: str) -> bool:
    value = fields[name]
    if value not in (_TRUE, _FALSE):
        raise InvalidForm(f"{name} must be {_TRUE} or {_FALSE}")
    return value == _TRUE


def parse_change(fields: Mapping[str, str]) -> Change:
    """The one change a form asks for: a purpose, the depth, restriction or an objection."""
    if "purpose" in fields:
        purpose = fields["purpose"]
        if purpose not in PURPOSES:
            raise InvalidForm(f"purpose must be one of {', '.join(PURPOSES)}")
        if "granted" not in fields:
            raise InvalidForm("granted is required with purpose: true or false")
        return Change(purpose=purpose, granted=_flag(fields, "granted"))
    if "level" in fields:
        if fields["level"] not in LEVELS:
            raise InvalidForm(f"level must be one of {', '.join(LEVELS)}")
        return Change(level=fields["level"])
    for name in CONTROLS:
        if name in fields:
            flag: dict[str, Any] = {name: _flag(fields, name)}
            return Change(**flag)
    raise InvalidForm(
        f"nothing to change: give purpose and granted, level, or one of {', '.join(CONTROLS)}"
    )


# --- the view ----------------------------------------------------------------------------------


def format_instant(value: datetime | str | None) -> str | None:
    """`1 March 2026, 10:00 UTC`: unambiguous for a client anywhere."""
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    instant = instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)
    return f"{instant.day} {instant:%B %Y, %H:%M} UTC"


def data_kind(purpose: str) -> str:
    if purpose in DERIVED:
        return "derived"
    return "observed" if purpose in OBSERVED else "declared"


def usage_note(state: ConsentState, purpose: str) -> str:
    """Why a purpose is or is not personalising what the client sees right now."""
    if may(state, purpose, Use.PERSONALIZE):
        return "In use for your personalisation."
    if not state.granted(purpose):
        return "Off: not used."
    if state.restricted:
        return "Allowed, but paused: you asked us to pause all use."
    if state.objects_to_profiling:
        return "Allowed, but unused: you object to profiling."
    applies = LEVEL_OF[purpose]
    return f"Allowed, but unused at your current depth ({state.level}); it applies from {applies}."


def reason_text(reason: Any) -> str:
    """A recorded reason in words: a string as is, `{"text": …}` by its text, else key: value."""
    if isinstance(reason, str):
        return reason
    if isinstance(reason, Mapping):
        if isinstance(reason.get("text"), str):
            return str(reason["text"])
        return "; ".join(f"{k}: {v}" for k, v in reason.items())
    return str(reason)


def decision_row(decision: Mapping[str, Any]) -> DecisionRow:
    reasons = decision.get("reasons") or []
    return DecisionRow(
        kind=DECISION_KIND.get(
            str(decision["kind"]), str(decision["kind"]).replace("_", " ").capitalize()
        ),
        decided=format_instant(decision["decided_at"]) or "",
        model_version=str(decision["model_version"]),
        categories=[PURPOSE_LABEL.get(c, c) for c in decision.get("data_categories") or []],
        reasons=[reason_text(r) for r in (reasons if isinstance(reasons, list) else [reasons])],
    )


def collection_rows(grants: Sequence[Any]) -> list[CollectionRow]:
    """The collections opened to the client, in words, from the settings document's
    `collection_access_reasons` (oldest first; a collection once, at its first opening).

    The recorded reason tells the depth and direction of engagement that opened it; its price
    sentence is shown on its own line, from the recorded `price_benefit` flag.
    """
    rows: list[CollectionRow] = []
    for grant in grants:
        if not isinstance(grant, Mapping) or not isinstance(grant.get("collection"), str):
            continue
        if grant["collection"] in {r.collection for r in rows}:
            continue
        tag = grant.get("signature_tag")
        rows.append(
            CollectionRow(
                collection=grant["collection"],
                opened=format_instant(grant.get("granted_at")),
                direction=tag if isinstance(tag, str) and tag else None,
                reason=str(grant.get("reason") or "").replace(RECORDED_PRICE_SENTENCE, "").strip(),
                price=PRICE_BENEFIT_RECORDED if grant.get("price_benefit") is True else NO_PRICE_BENEFIT,
                categories=[PURPOSE_LABEL.get(c, c) for c in grant.get("data_categories") or []],
            )
        )
    return rows


def dashboard(
    state: ConsentState,
    decisions: Sequence[Mapping[str, Any]],
    *,
    renewal: Sequence[str] = (),
    collection_access: Sequence[Any] = (),
) -> Dashboard:
    """Everything the dashboard shows, from the same settings view the API serves.

    `collection_access` is that view's `collection_access_reasons` (the recorded grants).
    """
    view = settings_view(state)
    rows = [
        PurposeRow(
            purpose=p["purpose"],
            label=PURPOSE_LABEL[p["purpose"]],
            description=p["description"],
            kind=data_kind(p["purpose"]),
            kind_note=KIND_TEXT[data_kind(p["purpose"])],
            granted=p["granted"],
            in_use=p["used_for_personalisation"],
            note=usage_note(state, p["purpose"]),
            changed=format_instant(p["changed_at"]),
            needs_renewal=p["purpose"] in renewal,
        )
        for p in view["purposes"]
    ]
    levels = [
        LevelSection(
            level=lv,
            title=LEVEL_TITLE[lv],
            collects=LEVEL_TEXT[lv],
            why=LEVEL_WHY[lv],
            current=lv == state.level,
            purposes=[r for r in rows if LEVEL_OF[r.purpose] == lv],
        )
        for lv in LEVELS
    ]
    flags = {
        "restriction": state.restricted,
        "object_marketing": state.objects_to_marketing,
        "object_profiling": state.objects_to_profiling,
    }
    controls = [
        Control(name=n, label=label, description=text, on=flags[n])
        for n, (label, text) in CONTROLS.items()
    ]
    return Dashboard(
        level=state.level,
        levels=levels,
        controls=controls,
        decisions=[decision_row(d) for d in decisions],
        has_record=state.has_record,
        collections=collection_rows(collection_access),
    )


def saved_message(key: str | None, board: Dashboard) -> str | None:
    """The confirmation shown after a redirect (`saved=`); unknown keys show nothing."""
    if not key:
        return None
    if key == "level":
        return f"Saved. Your depth is now {board.level}."
    for control in board.controls:
        if control.name == key:
            return f"Saved. {control.label}: {'on' if control.on else 'off'}."
    for section in board.levels:
        for row in section.purposes:
            if row.purpose == key:
                return f"Saved. {row.label}: {'allowed' if row.granted else 'off'}."
    return None


def export_filename(now: datetime) -> str:
    """The download's name: a date, never an identifier of the client."""
    return f"maison-export-{now.astimezone(UTC):%Y%m%d-%H%M%S}.json"
