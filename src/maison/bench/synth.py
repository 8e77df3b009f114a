"""Seeded synthetic Segment traffic for benchmarks: never real client data.

Messages look like the alex-morgan scenario (about 550 bytes each, web and app context,
product properties) and follow a person's life: anonymous browsing first, then an `identify`
with a userId and traits, then identified browsing. Each person's first message is the
consent banner's `Consent Updated` (L1 and L2 purposes granted), so that behaviour is kept.
The same seed gives the same file.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

_CATEGORIES = (
    "Women's Workwear", "Knitwear", "Outerwear", "Premium Accessories",
    "Artisan Jewellery", "Minimalist Home Decor", "Books & Stationery",
)
_NOUNS = ("Blazer", "Cardigan", "Coat", "Tote", "Ring", "Vase", "Scarf", "Trousers", "Blouse", "Throw")
_ADJECTIVES = ("Tailored", "Merino", "Italian Silk", "Recycled Cashmere", "Sculpted", "Hand-Poured", "Linen")
_COLOURS = ("Navy", "Charcoal", "Camel", "Oat", "Black", "Olive", "Cognac")
_PAGES = (
    ("Home", "/", "landing"), ("Journal: Sourcing Cashmere", "/journal/sourcing-cashmere", "sourcing"),
    ("Care Guide", "/care", "education"), ("Styling: Office to Dinner", "/styling/office-dinner", "styling_guide"),
    ("New In", "/new-in", "listing"), ("Stores", "/stores", "service"),
)
_TIMEZONES = (("Europe/London", "en-GB"), ("Europe/Paris", "fr-FR"), ("America/New_York", "en-US"))
# (event, weight): the mix of a luxury e-commerce site, browsing heavy.
_TRACKS = (
    ("Product Viewed", 40), ("Product List Viewed", 8), ("Products Searched", 5),
    ("Product Added", 6), ("Product Added to Wishlist", 5), ("Email Opened", 6),
    ("Email Link Clicked", 5), ("Checkout Started", 2), ("Order Completed", 2),
)
# (type, weight) once a person exists; `identify` is emitted once per person on top of this.
_TYPES = (("track", 62), ("page", 38))


@dataclass
class _Person:
    anonymous_id: str
    user_id: str
    email: str
    tz: tuple[str, str]
    ip: str
    consented: bool = False
    identified: bool = False
    cart: int = 0
    products: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Traffic:
    """What to generate: `events` messages spread over `people` people, from one `seed`."""

    events: int
    people: int
    seed: int = 20260105
    identify_share: float = 0.6  # share of people who sign in at some point

    def messages(self) -> Iterator[dict[str, Any]]:
        """The messages in send order, each with a unique messageId."""
        rng = random.Random(self.seed)
        people = [_person(rng, i) for i in range(self.people)]
        start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        step = timedelta(days=60) / max(self.events, 1)
        tracks, track_w = [n for n, _ in _TRACKS], [w for _, w in _TRACKS]
        kinds, kind_w = [n for n, _ in _TYPES], [w for _, w in _TYPES]
        # Per-message chance of signing in, so that `identify_share` of people do over the run.
        per_person = self.events / max(self.people, 1)
        sign_in = 1 - (1 - self.identify_share) ** (1 / max(per_person, 1))
        for n in range(self.events):
            p = people[rng.randrange(len(people))]
            at = start + step * n
            if not p.consented:  # the consent banner comes first, as on the shop
                p.consented = True
                yield _consent(rng, p, at)
            elif not p.identified and rng.random() < sign_in:
                p.identified = True
                yield _identify(rng, p, at)
            elif rng.choices(kinds, kind_w)[0] == "page":
                yield _page(rng, p, at)
            else:
                yield _track(rng, p, at, rng.choices(tracks, track_w)[0])

    def write(self, path: Path) -> int:
        """Write the messages as NDJSON; returns the byte size of the file."""
        with path.open("wb") as fh:
            for message in self.messages():
                fh.write(orjson.dumps(message))
                fh.write(b"\n")
        return path.stat().st_size


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _person(rng: random.Random, i: int) -> _Person:
    return _Person(
        anonymous_id=_uuid(rng),
        user_id=f"cus_{rng.getrandbits(40):010x}",
        email=f"client{i}.{rng.getrandbits(16):04x}@example.net",
        tz=rng.choice(_TIMEZONES),
        ip=f"198.51.100.{rng.randrange(1, 255)}",
    )


def _base(rng: random.Random, p: _Person, at: datetime) -> dict[str, Any]:
    message: dict[str, Any] = {"anonymousId": p.anonymous_id}
    if p.identified:
        message["userId"] = p.user_id
    message["messageId"] = _uuid(rng)
    message["timestamp"] = at.isoformat()
    message["context"] = {
        "timezone": p.tz[0], "locale": p.tz[1], "channel": rng.choice(("web", "web", "mobile")), "ip": p.ip,
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    }
    return message


def _product(rng: random.Random) -> dict[str, Any]:
    code = f"{rng.choice(('WW', 'KN', 'OW', 'PA', 'AJ', 'HD', 'BS'))}-{rng.randrange(1, 400):03d}"
    return {
        "product_id": code,
        "name": f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} in {rng.choice(_COLOURS)}",
        "category": rng.choice(_CATEGORIES),
        "price": rng.randrange(60, 2400, 5),
        "currency": "EUR",
    }


def _track(rng: random.Random, p: _Person, at: datetime, event: str) -> dict[str, Any]:
    props: dict[str, Any]
    if event in ("Product Viewed", "Product Added to Wishlist"):
        props = _product(rng)
        props["dwell_seconds"] = rng.randrange(5, 240)
        props["url"] = f"https://shop.example.com/products/{props['product_id']}"
        if rng.random() < 0.3:
            props["sections_viewed"] = rng.sample(["composition", "care", "sizing", "delivery"], 2)
    elif event == "Product Added":
        p.cart += 1
        props = {**_product(rng), "cart_id": f"cart_{p.user_id}-{p.cart}", "quantity": 1, "variant": "one_size"}
    elif event == "Order Completed":
        item = {**_product(rng), "quantity": 1, "variant": "one_size"}
        total = item["price"]
        props = {
            "order_id": f"ord_{rng.getrandbits(48):012x}", "total": total, "revenue": total, "subtotal": total,
            "shipping": 0, "tax": round(total / 6, 2), "currency": "EUR", "products": [item],
            "checkout_id": f"chk_{rng.getrandbits(24):06x}",
        }
    elif event == "Products Searched":
        props = {"query": f"{rng.choice(_COLOURS).lower()} {rng.choice(_NOUNS).lower()}"}
    elif event.startswith("Email"):
        props = {
            "campaign_id": f"cmp_2026_{rng.randrange(1, 40):02d}",
            "email_subject": "The winter edit: pieces made to last",
            "link_url": "https://shop.example.com/journal/sourcing-cashmere",
        }
    else:
        props = {"category": rng.choice(_CATEGORIES), "list_id": f"list_{rng.randrange(1, 60)}"}
    return {"type": "track", "event": event, "properties": props, **_base(rng, p, at)}


def _page(rng: random.Random, p: _Person, at: datetime) -> dict[str, Any]:
    name, path, content_type = rng.choice(_PAGES)
    props = {
        "path": path, "url": f"https://shop.example.com{path}", "title": name,
        "dwell_seconds": rng.randrange(3, 300), "content_type": content_type,
        "referrer": "https://www.example.org/",
    }
    return {"type": "page", "name": name, "properties": props, **_base(rng, p, at)}


_L1_L2 = (
    "declared_categories", "purchase_history", "demographics", "browsing_behaviour", "search_history",
    "cart_activity", "email_engagement", "content_engagement",
)
_L3 = ("similar_customer_signals", "taste_trajectory", "values_inference", "exploratory_recommendations")


def _consent(rng: random.Random, p: _Person, at: datetime) -> dict[str, Any]:
    purposes = {k: True for k in _L1_L2} | {k: False for k in _L3}
    props = {
        "personalization_level": "L2", "purposes": purposes, "granted": list(_L1_L2), "revoked": [],
        "source": "onboarding", "policy_version": "2026-01",
    }
    return {"type": "track", "event": "Consent Updated", "properties": props, **_base(rng, p, at)}


def _identify(rng: random.Random, p: _Person, at: datetime) -> dict[str, Any]:
    traits = {
        "first_name": "Client", "last_name": f"N{rng.randrange(10_000)}", "email": p.email,
        "city": rng.choice(("London", "Paris", "New York")), "country": rng.choice(("GB", "FR", "US")),
        "timezone": p.tz[0], "age_band": rng.choice(("25-34", "35-44", "45-54")),
        "declared_categories": rng.sample(list(_CATEGORIES), 2),
    }
    return {"type": "identify", "traits": traits, **_base(rng, p, at)}
