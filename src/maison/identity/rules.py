"""Pure identity rules: normalising identifiers and deciding which links a message may make.

The central rule: two different userIds never merge implicitly. A shared device (one
anonymousId) or a shared mailbox must not fuse two clients; only an explicit `alias` or an
admin merge may.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from maison.core.traits import place

USER, ANON, EMAIL, PHONE, LOYALTY = "user", "anon", "email", "phone", "loyalty"
IDENTIFIER_KINDS = (USER, ANON, EMAIL, PHONE, LOYALTY)
_LOYALTY_KEYS = ("loyalty_card", "loyaltyCard", "loyalty_id", "loyaltyId")


def normalize_email(value: str) -> str | None:
    text = value.strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@") or " " in text:
        return None
    return text


def normalize_phone(value: str, region: str | None = None) -> str | None:
    """E.164 form, or None when the number cannot be read as a valid phone number."""
    try:
        parsed = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize(kind: str, value: str, *, region: str | None = None) -> str | None:
    """Normalise an identifier of a known kind; None when it is not a usable identifier."""
    if kind == EMAIL:
        return normalize_email(value)
    if kind == PHONE:
        return normalize_phone(value, region)
    text = value.strip()
    return text or None


def identifiers_of(
    kind: str, user_id: str | None, anonymous_id: str | None, traits: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The identifiers a message carries, user id first. Traits count only on identify."""
    found: list[tuple[str, str]] = []
    if user_id:
        found.append((USER, user_id))
    if anonymous_id:
        found.append((ANON, anonymous_id))
    if kind != "identify":
        return found
    email = traits.get("email")
    if isinstance(email, str) and (norm := normalize_email(email)):
        found.append((EMAIL, norm))
    phone = traits.get("phone")
    country = place(traits, "country")  # the region a national number is read in
    if isinstance(phone, str) and (norm := normalize_phone(phone, country)):
        found.append((PHONE, norm))
    for key in _LOYALTY_KEYS:
        card = traits.get(key)
        if isinstance(card, str | int) and not isinstance(card, bool) and str(card).strip():
            found.append((LOYALTY, str(card).strip()))
            break
    return found


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do for one message: the client it belongs to and the links it makes."""

    target: str | None  # None: create a new client
    merge: tuple[str, ...]  # clients to merge into the target
    attach: tuple[tuple[str, str], ...]  # unowned identifiers to link to the target


def plan_links(
    identifiers: list[tuple[str, str]],
    owner: Mapping[tuple[str, str], str],
    users_of: Mapping[str, frozenset[str]],
) -> Plan:
    """Decide the target client and the implicit links of a non-alias message.

    `owner` maps identifiers to their current (canonical) client; `users_of` gives the userIds
    each client already holds. A client may join the target only if that cannot put two
    different userIds on one client.
    """
    user_id = next((v for k, v in identifiers if k == USER), None)
    target: str | None = owner.get((USER, user_id)) if user_id else None
    target_users: set[str] = set(users_of.get(target, frozenset())) if target else set()
    if user_id:
        target_users.add(user_id)
    merge: list[str] = []
    for ident in identifiers:
        client = owner.get(ident)
        if client is None or client == target or client in merge:
            continue
        theirs = users_of.get(client, frozenset())
        if theirs and target_users and not (theirs <= target_users or target_users <= theirs):
            continue  # would fuse two people: the identifier stays where it is
        if target is None:
            target = client
        else:
            merge.append(client)
        target_users |= theirs
    attach = tuple(i for i in identifiers if i not in owner)
    return Plan(target=target, merge=tuple(merge), attach=attach)


def event_owner_identifier(user_id: str | None, anonymous_id: str | None) -> tuple[str, str]:
    """The identifier that decides which client an event belongs to: the userId when present."""
    if user_id:
        return (USER, user_id)
    assert anonymous_id is not None
    return (ANON, anonymous_id)
