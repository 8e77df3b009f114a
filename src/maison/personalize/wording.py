"""What the digest says, and the one check that it never sounds like a sale (pure).

Maison sells at full price: no subject, notice, section or reason may contain discount
language. `has_discount_language` implements the README's definition (whole-word,
case-insensitive) and also catches the plural of each noun, which a copywriter would reach for
first ("sales", "vouchers"). Texts state only facts the composer was given: dates and weekdays
of the client's own events, catalogue names, and shop-wide figures.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from maison.analytics.entities import Rating
from maison.personalize.entities import WEEKDAYS
from maison.personalize.top_sellers import (
    BESTSELLER,
    CUSTOMER_FAVOURITE,
    MOST_POPULAR,
    TOP_RATED,
    TRENDING,
)

DISCOUNT_TERMS: Final = (
    "sale", "on sale", "discount", "discounted", "% off", "promo", "promotion", "coupon", "voucher",
    "clearance", "markdown", "reduced price", "price drop", "save €", "save EUR", "bargain", "hurry",
    "last chance", "limited time", "ends soon", "while stocks last",
)
_PLURALS: Final = ("sales", "discounts", "promos", "promotions", "coupons", "vouchers", "markdowns", "bargains")


def _pattern(term: str) -> str:
    body = r"\s+".join(re.escape(word) for word in term.split())
    left = r"(?<!\w)" if term[0].isalnum() else ""
    right = r"(?!\w)" if term[-1].isalnum() else ""
    return left + body + right


_DISCOUNT: Final = re.compile("|".join(_pattern(t) for t in (*DISCOUNT_TERMS, *_PLURALS)), re.IGNORECASE)


def has_discount_language(text: str) -> bool:
    """Whether `text` contains discount language (README "Definitions", plus plurals)."""
    return _DISCOUNT.search(text) is not None


def discount_terms_in(text: str) -> list[str]:
    """The discount terms found, as written in `text` (for error messages and tests)."""
    return [m.group(0) for m in _DISCOUNT.finditer(text)]


# ---------------------------------------------------------------- digest texts

SUBJECT_TOP_SELLERS: Final = "This week's best-selling pieces in your categories"


def day_text(local: datetime) -> str:
    """`Monday 5 January 2026`: a date as a person reads it, in the client's zone."""
    return f"{WEEKDAYS[local.weekday()]} {local.day} {local:%B %Y}"


def top_sellers_title(category: str) -> str:
    return f"Best-selling in {category}"


def top_sellers_text(category: str, count: int) -> str:
    pieces = "piece" if count == 1 else f"{_number(count)} pieces"
    return (
        f"The {pieces} of {category} that sold most over the last 30 days, among those "
        "available to order online now."
    )


def top_seller_reason(category: str, declared_on: datetime, label: str, rating: Rating | None) -> str:
    """Why one top seller is here: the category the client chose, and the fact behind its label."""
    told = f"You chose {category} as one of your categories on {day_text(declared_on)}."
    fact = {
        BESTSELLER: f"No other piece of {category} sold more over the last 30 days.",
        TOP_RATED: (
            f"Clients rate it {rating.mean:.1f} out of 5 from {rating.count} reviews." if rating else ""
        ),
        TRENDING: "It has sold faster over the last 7 days than over the three weeks before.",
        MOST_POPULAR: f"No other piece of {category} was viewed by more clients over the last 30 days.",
        CUSTOMER_FAVOURITE: f"No other piece of {category} was saved to more wishlists over the last 30 days.",
    }.get(label, f"It is one of the best-selling pieces of {category} over the last 30 days.")
    return f"{told} {fact}".strip()


def send_time_notice(clock: str, zone: str, *, default_clock: str) -> str:
    return (
        f"From this week your digest arrives on Tuesdays at {clock} ({zone} time), just before you "
        "usually read our emails: we chose this time from your email open times. If you switch "
        f"email engagement off in your privacy settings, it goes back to {default_clock}."
    )


def send_time_reset_notice(clock: str, zone: str) -> str:
    return (
        f"Your digest is back at our usual time, Tuesdays at {clock} ({zone} time), because your "
        "email open times are no longer used to choose it."
    )


def _number(n: int) -> str:
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))
