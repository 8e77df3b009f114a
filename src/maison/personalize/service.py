"""Digests and product pages as of an instant: read through the policy, compose, record.

No look-ahead: every read is bounded by an instant no later than the digest's send instant
(client events through `consent.gateway.read(..., at=)`, aggregates over `[t - window, t)`,
consent states at t), so a digest is the same whether later events were ingested or not.
The only input that is not historical is the catalogue's stock, which is its state now: a
digest composed after the fact may differ from the one sent, which is why the decision audit
keeps what was sent (`record=True`) and `digest_for_week` returns that record first.

Instants of week k: the data for the send time stop at Monday 00:00 local; the send time is
decided at Tuesday 00:00 local (consent checked then, and again at the send instant); the
content is read as of the send instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from maison.analytics import aggregates
from maison.catalog import service as catalog
from maison.catalog.entities import Product
from maison.consent.entities import ConsentState, Use
from maison.consent.purposes import LEVELS, PURPOSES
from maison.consent.rules import usable
from maison.core.clock import parse_instant
from maison.core.settings import get_settings
from maison.personalize import cohort as cohorts
from maison.personalize import derived, history, l3, readers, repeats
from maison.personalize import repository as repo
from maison.personalize.composer import Declaration, DigestInputs, compose
from maison.personalize.entities import Digest, SendTime, money
from maison.personalize.exceptions import InvalidWeek, NoDigest
from maison.personalize.reads import ClientReads
from maison.personalize.recorded import Recorded
from maison.personalize.sections import identity_predictive
from maison.personalize.send_time import (
    SendTimePolicy,
    clock,
    estimate,
    iso_week,
    local_instant,
    local_minutes,
    send_day,
    week_monday,
    zone_for_day,
)
from maison.personalize.shop import ShopView
from maison.privacy import decisions as audit
from maison.profiles.rules import declared_categories

MODEL_VERSION = "digest-l1/2026.1"
DEFAULT_ZONE = ZoneInfo("Europe/London")  # the house's zone, for profiles that state none
POLICY = SendTimePolicy()
EMAIL_OPENED = "Email Opened"
Composed = tuple[Digest | None, SendTime, DigestInputs | None]  # the digest (None: nothing to send) and its inputs


# ---------------------------------------------------------------- send time


def send_time(
    conn: Connection, client_id: str, monday: date, *, policy: SendTimePolicy = POLICY, shop: ShopView | None = None,
    reads: ClientReads | None = None,
) -> SendTime:
    """When the digest of the week starting `monday` goes out (see `send_time` module)."""
    reads = reads or ClientReads(conn, [client_id])
    day = send_day(monday)
    zone, from_profile = _zone(reads, client_id, day)
    week_start = local_instant(monday, 0, zone)
    decided = local_instant(day, 0, zone)
    default = SendTime(local_instant(day, policy.default_minute, zone), policy.default_minute, False, zone.key,
                       from_profile)
    since = week_start - timedelta(days=policy.lookback_days)
    opens = [
        t for e in reads.events(readers.EMAIL_OPENS, client_id, at=decided)
        if e.get("event") == EMAIL_OPENED and since <= (t := parse_instant(e["timestamp"])) < week_start
    ]
    if len(opens) < policy.min_opens:
        return replace(default, opens=len(opens))
    prior = (shop or ShopView(conn)).send_prior(since, week_start, policy)
    found = estimate(local_minutes(opens, zone), clientele=prior, policy=policy)
    at = local_instant(day, found.minute, zone)
    if not found.learned or not reads.may(client_id, "email_engagement", Use.PERSONALIZE, at):
        return replace(default, opens=len(opens))
    return replace(default, send_at=at, minute=found.minute, learned=True, opens=len(opens))


def _zone(reads: ClientReads, client_id: str, day: date) -> tuple[ZoneInfo, bool]:
    """The profile's zone at the start of the send day, if `demographics` may be used then."""

    @cache  # the fixed point and the check below ask about the same instants
    def stated_before(at: datetime) -> str | None:
        if not reads.may(client_id, "demographics", Use.PERSONALIZE, at):
            return None
        rows = reads.events(readers.ZONE, client_id, at=at)
        stated = [e["traits"] for e in rows if e.get("type") == "identify" and "timezone" in (e.get("traits") or {})]
        return _text(stated[-1]["timezone"]) if stated else None  # the latest statement wins; null clears

    zone = zone_for_day(stated_before, day, DEFAULT_ZONE)
    return zone, stated_before(local_instant(day, 0, zone)) == zone.key


# ---------------------------------------------------------------- digest


def compose_digest(
    conn: Connection, client_id: str, monday: date, *, week: int, policy: SendTimePolicy = POLICY,
    shop: ShopView | None = None,
) -> Digest | None:
    """The digest of the week starting `monday` as of its send instant, or None (nothing to send).

    `shop`: shop-wide figures shared by many digests (`personalize.shop`); alone, it reads its own.
    """
    return _compose(conn, client_id, monday, week=week, policy=policy, shop=shop or ShopView(conn),
                    reads=ClientReads(conn, [client_id]))[0]


def _compose(
    conn: Connection, client_id: str, monday: date, *, week: int, policy: SendTimePolicy, shop: ShopView,
    reads: ClientReads, send: SendTime | None = None, shared: cohorts.SharedReads | None = None,
) -> Composed:
    send = send or send_time(conn, client_id, monday, policy=policy, shop=shop, reads=reads)
    at = send.send_at
    state = reads.state(client_id, at)
    if state.restricted or state.objects_to_marketing:
        return None, send, None  # Art. 18 restriction, Art. 21(2) objection to direct marketing
    allowed = frozenset(usable(state, PURPOSES, Use.PERSONALIZE))
    previous = send_time(conn, client_id, monday - timedelta(days=7), policy=policy, shop=shop, reads=reads)
    # One read of the client's usable events from L2 on: the sections and the no-re-offer rule
    # both use it (the gateway has already dropped whatever the consent does not allow now).
    behaviour = (history.from_rows(reads.events(readers.BEHAVIOUR, client_id, at=at), at=at, zone=ZoneInfo(send.zone))
                 if _beyond_l1(state) else None)
    inputs = DigestInputs(
        customer_id=reads.customer_id(client_id),
        week=week,
        level=state.level,
        send=send,
        allowed=allowed,
        declaration=_declaration(reads, client_id, at=at, zone=ZoneInfo(send.zone)),
        products=shop.products(),
        signals=shop.signals(at),
        shelves=shop.shelves(at),
        ratings=shop.ratings(at),
        previous_send=previous,
        bought=behaviour.bought() if behaviour is not None and "purchase_history" in allowed else None,
        default_clock=clock(policy.default_minute),
        history=behaviour,
        content_pages=shop.content_pages(),
    )
    if state.level == "L3":
        rest = get_settings().personalize.pick_rest_weeks
        identity = l3.load(conn, client_id, at=at, allowed=allowed, history=inputs.history, products=inputs.products,
                           pages=inputs.content_pages, ledger=reads.entries(client_id), shared=shared, reads=reads)
        inputs = replace(inputs, identity=identity,
                         sent_picks=sent_picks(conn, client_id, at=at, weeks=rest, recorded=reads.recorded),
                         pick_rest_weeks=rest)
    return compose(inputs), send, inputs


def sent_picks(conn: Connection, client_id: str, *, at: datetime, weeks: int,
               recorded: Recorded | None = None) -> tuple[repeats.SentPick, ...]:
    """Pieces earlier digests sent in their L3 section that may still rest at `at` (recorded before it).

    `recorded`: a job's chunk's records, read already (`personalize.recorded`)."""
    if weeks <= 0:
        return ()
    start = repeats.lookback(at, weeks)
    found = (recorded.sent_picks(client_id, section=identity_predictive.KIND, start=start, end=at)
             if recorded is not None else None)
    if found is None:
        found = repo.sent_picks(conn, client_id, section=identity_predictive.KIND, start=start, end=at)
    return tuple(found)


def _beyond_l1(state: ConsentState) -> bool:
    return LEVELS.index(state.level) > 0


def _declaration(reads: ClientReads, client_id: str, *, at: datetime, zone: ZoneInfo) -> Declaration | None:
    """The latest `identify` stating `declared_categories` (a null or empty list clears them)."""
    rows = reads.events(readers.DECLARED, client_id, at=at)
    stated = [e for e in rows if e.get("type") == "identify" and "declared_categories" in (e.get("traits") or {})]
    if not stated:
        return None
    latest = stated[-1]
    categories = declared_categories(latest["traits"]["declared_categories"])
    local = parse_instant(latest["timestamp"]).astimezone(zone)
    return Declaration(categories, str(latest.get("messageId")), local) if categories else None


def digest_row(client_id: str, digest: Digest, send: SendTime | None = None) -> dict[str, Any]:
    """A sent digest as its decision in the audit, with every purpose it used."""
    used = set(digest.data_categories())
    if send is not None and send.zone_from_profile:
        used.add("demographics")
    if send is not None and send.learned:
        used.add("email_engagement")
    output = digest.to_dict()
    reasons = [{"section": s["kind"], "product_id": i["product_id"], **i["reason"]}
               for s in output["sections"] for i in s["items"]]
    return repo.digest_row(client_id=client_id, model_version=MODEL_VERSION, data_categories=sorted(used),
                           reasons=reasons, output=output, at=digest.send_at)


def produce(conn: Connection, client_id: str, monday: date, *, week: int) -> Digest | None:
    """Compose the week's digest as of its send instant and record it (one client; `weekly` does many)."""
    composed = _compose(conn, client_id, monday, week=week, policy=POLICY, shop=ShopView(conn),
                        reads=ClientReads(conn, [client_id]))
    keep(conn, client_id, composed)
    return composed[0]


def keep(conn: Connection, client_id: str, composed: Composed) -> None:
    """Record a composed digest and what its L3 part derived (the caller owns the write transaction)."""
    keep_all(conn, [(client_id, composed)])


def keep_all(conn: Connection, composed: Sequence[tuple[str, Composed]]) -> None:
    """`keep` for many clients (a weekly job's chunk): the digests' decisions in one statement, what
    their L3 parts derived in another, and the clients' latest cohorts read in one query."""
    decided: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    placed: list[cohorts.Cohort | None] = []
    for client_id, (digest, send, inputs) in composed:
        if digest is None:
            continue
        decided.append(digest_row(client_id, digest, send))
        if inputs is None or inputs.identity is None:
            continue
        found += l3.derived_rows(client_id, inputs.identity, at=digest.send_at, allowed=inputs.allowed)
        cohort = inputs.identity.cohort
        if cohort is not None:  # the digest used a cohort: keep it as the client's data
            placed.append(cohort.placement if cohort.placement is not None
                          else cohorts.cohort_of(conn, client_id, at=digest.send_at))
    audit.record_all(conn, decided)
    derived.record_all(conn, found + cohorts.new_rows(conn, [c for c in placed if c is not None]))


def compose_for_job(
    conn: Connection, client_id: str, monday: date, *, shop: ShopView, reads: ClientReads, send: SendTime,
    shared: cohorts.SharedReads,
) -> Composed:
    """What `produce` composes, without recording it: the weekly job records a chunk at once, it
    has found the week's `send` time (`send_time`) already, and it reads cohorts once (`shared`)."""
    return _compose(conn, client_id, monday, week=monday.isocalendar()[1], policy=POLICY, shop=shop, reads=reads,
                    send=send, shared=shared)


@dataclass(frozen=True, slots=True)
class WeekDigest:
    digest: dict[str, Any]
    recorded: bool  # True: what was sent (from the audit); False: composed now, as of its send instant


def digest_for_week(conn: Connection, client_id: str, week: str) -> WeekDigest:
    """The digest of an ISO week (`2026-W06`): the recorded one, else composed as of its send instant.

    Its `week` is the ISO week number. Read-only: a composed digest is not recorded.
    """
    try:
        monday = week_monday(week)
    except ValueError as exc:
        raise InvalidWeek(str(exc), details={"field": "week"}) from None
    send = send_time(conn, client_id, monday)
    zone = ZoneInfo(send.zone)
    stored = repo.recorded_digest(conn, client_id, start=local_instant(monday, 0, zone),
                                  end=local_instant(monday + timedelta(days=7), 0, zone))
    if stored is not None:
        return WeekDigest(stored, True)
    digest = compose_digest(conn, client_id, monday, week=monday.isocalendar()[1])
    if digest is None:
        raise NoDigest(f"no digest for {iso_week(monday)}: nothing the client's consent lets us send",
                       details={"week": iso_week(monday)})
    return WeekDigest(digest.to_dict(), False)


# ---------------------------------------------------------------- product page


def product_page(
    conn: Connection, client_id: str, product_id: str, *, at: datetime, record: bool = False
) -> dict[str, Any]:
    """The personalised parts of a product page as of `at` (`page_and_cohort`). `record=True`
    writes the cohort to `client_derived` (the caller owns a write transaction)."""
    page, found = page_and_cohort(conn, client_id, product_id, at=at)
    if record and found is not None:
        remember_cohort(conn, found)
    return page


def page_and_cohort(
    conn: Connection, client_id: str, product_id: str, *, at: datetime
) -> tuple[dict[str, Any], cohorts.Cohort | None]:
    """The personalised parts of a product page as of `at`, and the cohort they rest on.

    For everyone: the overall rating (every `Product Reviewed` before `at`, an aggregate), the
    sizes in stock online and coordinating items (the stylist's pairings, then products often
    bought in the same order; in stock, not restricted). Shop-wide facts only, so before L2 the
    page is the same for every client (E7). From L2, when `similar_customer_signals` may be used,
    `cohort_rating` and `sizing_guidance` come from the client's cohort (`personalize.cohort`),
    each only above 20 members and listing the purposes the cohort rests on. The cohort is
    returned so that a caller records the very one the page used (the route does, after its read
    connection closed), not one placed again later.
    """
    product = catalog.get_product(conn, product_id)
    rating = aggregates.ratings(conn, before=at, product_ids=[product_id]).get(product_id)
    found = cohorts.cohort_of(conn, client_id, at=at)
    parts = cohorts.product_signals(conn, found, product, at=at) if found else {}
    return {
        "product_id": product_id,
        "at": at.isoformat(),
        "overall_rating": {"mean": round(rating.mean, 2), "count": rating.count} if rating else None,
        "cohort_rating": parts.get("cohort_rating"),
        "sizing_guidance": parts.get("sizing_guidance"),
        "coordinating_items": coordinating_items(conn, product, at=at),
        "available_sizes": list(product.online_sizes_in_stock()),
    }, found


def remember_cohort(conn: Connection, used: cohorts.Cohort) -> None:
    """Record a cohort a page used in `client_derived` (no row when it is unchanged)."""
    cohorts.remember(conn, used)


COORDINATING = 4


def coordinating_items(conn: Connection, product: Product, *, at: datetime) -> list[dict[str, Any]]:
    """Up to four buyable pieces to wear or use with this one: the stylist's pairings first, then
    products often bought in the same order (an aggregate over all clients). The same for everyone."""
    candidates = [(pid, "paired by our stylists") for pid in product.pairs_with]
    bought = cohorts.co_bought(conn, product.product_id, at=at)
    candidates += [(pid, f"bought together in {n} orders") for pid, n in bought]
    known = catalog.get_products(conn, {pid for pid, _ in candidates})
    items: list[dict[str, Any]] = []
    seen = {product.product_id}
    for pid, basis in candidates:
        if pid in seen or len(items) >= COORDINATING:
            continue
        seen.add(pid)
        other = known.get(pid)
        if other is None or not other.in_stock_online() or other.access_restricted:
            continue
        items.append({"product_id": pid, "name": other.name, "price_eur": money(other.price), "basis": basis,
                      "available_sizes": list(other.online_sizes_in_stock())})
    return items


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
