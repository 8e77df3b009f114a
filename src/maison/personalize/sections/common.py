"""What every L2/L3 section builder shares (pure): who may be offered what, and how to tell time.

An item is **offerable** when it is buyable online now and open to everyone
(`top_sellers.recommendable`: online stock > 0, not access-restricted) and the client has not
bought it (`ClientHistory.bought`, present only while `purchase_history` may be used). Reasons
speak in the client's own days and parts of day, from the local times of their events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from maison.catalog.entities import Product
from maison.core.clock import part_of_day
from maison.personalize.entities import WEEKDAYS, Evidence, Item, Reason
from maison.personalize.history import Moment
from maison.personalize.top_sellers import recommendable

NEW_ARRIVAL = timedelta(days=30)  # README: launched within the 30 days before the moment in question
SESSION_GAP = timedelta(minutes=30)  # browsing events further apart than this are separate visits


def offerable(product: Product, bought: frozenset[str]) -> bool:
    """Buyable online, open to everyone, and not already bought (`ClientHistory.bought()`, read once)."""
    return recommendable(product) and product.product_id not in bought


def is_new_arrival(product: Product, at: datetime) -> bool:
    """`launched_on` within the 30 days before `at` (dates compared in UTC)."""
    return is_new_on(product, at.date())


def is_new_on(product: Product, day: date) -> bool:
    """`is_new_arrival` at any instant of `day`: the rule reads only the date (for what is worked
    out once per day and shared by every client sent that day)."""
    launched = product.launched_on
    return launched is not None and day - NEW_ARRIVAL <= launched <= day


def item(product: Product, reason: Reason) -> Item:
    """An item at its catalogue price with the sizes in stock online."""
    return Item(product_id=product.product_id, price_eur=product.price, label=None,
                available_sizes=product.online_sizes_in_stock(), reason=reason)


def reason(text: str, categories: Iterable[str], evidence: Iterable[Moment], *,
           attributes: Iterable[str] = ()) -> Reason:
    """A reason whose purposes are listed once, in a stable order, with its evidence in time order."""
    moments = sorted({m.message_id: m for m in evidence}.values(), key=lambda m: m.at)
    return Reason(text=text, data_categories=tuple(sorted(set(categories))),
                  evidence=tuple(m.evidence() for m in moments), attributes_cited=tuple(dict.fromkeys(attributes)))


def evidence_of(moments: Iterable[Moment]) -> tuple[Evidence, ...]:
    return tuple(m.evidence() for m in sorted(moments, key=lambda m: m.at))


def when(local: datetime, *, dated: bool = False) -> str:
    """`Thursday evening` (or `Thursday 12 February in the evening`): an event's local weekday and part of day."""
    if dated:
        pod = part_of_day(local)
        return f"{WEEKDAYS[local.weekday()]} {local.day} {local:%B} {'at' if pod == 'night' else 'in the'} {pod}"
    return f"{WEEKDAYS[local.weekday()]} {part_of_day(local)}"


def sessions(moments: Sequence[Moment], *, gap: timedelta = SESSION_GAP) -> list[list[Moment]]:
    """Events in time order split into visits wherever two are more than `gap` apart."""
    found: list[list[Moment]] = []
    for m in sorted(moments, key=lambda m: m.at):
        if found and m.at - found[-1][-1].at <= gap:
            found[-1].append(m)
        else:
            found.append([m])
    return found


def euros(amount: Decimal) -> str:
    """`EUR 1,000` (cents only when there are some)."""
    whole = amount == amount.to_integral_value()
    return f"EUR {amount:,.0f}" if whole else f"EUR {amount:,.2f}"


def duration(seconds: float) -> str:
    """`5 minutes 7 seconds`, `45 seconds`: a reading time exactly as recorded."""
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)


def count_text(n: int, noun: str) -> str:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return f"{words.get(n, str(n))} {noun}{'' if n == 1 else 's'}"


def listing(parts: Sequence[str]) -> str:
    """`a, b and c`."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"
