"""Hand-made catalogues and client histories for unit tests of digest sections (no I/O).

Events are written as the consent gateway returns them (raw Segment messages plus their
`data_category`), so a test reads like the client's own clickstream.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from maison.catalog.entities import ContentPage, Product
from maison.consent.purposes import L1_PURPOSES, L2_PURPOSES
from maison.personalize.composer import Declaration, DigestInputs
from maison.personalize.entities import SendTime
from maison.personalize.history import from_rows
from maison.personalize.top_sellers import Signals

_ids = itertools.count(1)
CATEGORY_OF = {
    "Product Viewed": "browsing_behaviour", "Product List Viewed": "browsing_behaviour",
    "Product Added to Wishlist": "browsing_behaviour", "Products Searched": "search_history",
    "Product Added": "cart_activity", "Product Removed": "cart_activity", "Checkout Started": "cart_activity",
    "Order Completed": "purchase_history", "Email Opened": "email_engagement",
}


def product(pid: str, category: str = "Knitwear", *, subcategory: str | None = None, price: int = 300,
            tags: Sequence[str] = (), certifications: Sequence[str] = (), materials: Sequence[str] = ("wool",),
            collections: Sequence[str] = (), launched: date | None = date(2024, 1, 1), pairs: Sequence[str] = (),
            online: Mapping[str, int] | None = None, maker: str | None = None, name: str | None = None,
            restricted: bool = False) -> Product:
    stock = dict(online if online is not None else {"one_size": 5})
    return Product(product_id=pid, name=name or f"Piece {pid}", category=category, price=Decimal(price),
                   currency="EUR", sizes=tuple(stock), stock={"online": stock}, subcategory=subcategory,
                   materials=tuple(materials), tags=tuple(tags), certifications=tuple(certifications), maker=maker,
                   collections=tuple(collections), launched_on=launched, pairs_with=tuple(pairs),
                   access_restricted=restricted)


def track(event: str, at: datetime, **props: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "messageId": f"m{next(_ids)}", "timestamp": at.isoformat(),
            "properties": props, "data_category": CATEGORY_OF[event]}


def page(path: str, at: datetime, *, dwell: int, content_type: str) -> dict[str, Any]:
    category = "content_engagement" if content_type not in ("account", "") else "browsing_behaviour"
    return {"type": "page", "messageId": f"m{next(_ids)}", "timestamp": at.isoformat(), "data_category": category,
            "properties": {"path": path, "dwell_seconds": dwell, "content_type": content_type}}


def content_page(path: str, content_type: str, topics: Sequence[str], *, name: str | None = None,
                 features: Sequence[str] = ()) -> ContentPage:
    return ContentPage(page_id=path, name=name or path.strip("/").title(), path=path, content_type=content_type,
                       topics=tuple(topics), features_products=tuple(features))


def send(at: datetime, zone: str) -> SendTime:
    local = at.astimezone(ZoneInfo(zone))
    return SendTime(local, local.hour * 60 + local.minute, True, zone, True)


def inputs(rows: Sequence[Mapping[str, Any]], products: Sequence[Product], *, at: datetime,
           zone: str = "Europe/London", level: str = "L2", allowed: Sequence[str] | None = None,
           declared: Sequence[str] = (), previous: datetime | None = None,
           pages: Sequence[ContentPage] = (), signals: Mapping[str, Signals] | None = None) -> DigestInputs:
    tz = ZoneInfo(zone)
    usable = frozenset(allowed if allowed is not None else (*L1_PURPOSES, *L2_PURPOSES))
    kept = [r for r in rows if r["data_category"] in usable]
    return DigestInputs(
        customer_id="cus_test", week=7, level=level, send=send(at, zone), allowed=usable,
        declaration=Declaration(tuple(declared), "m-identify", at.astimezone(tz)) if declared else None,
        products=products, signals=signals or {}, previous_send=send(previous, zone) if previous else None,
        bought=frozenset(), history=from_rows(kept, at=at, zone=tz), content_pages=pages,
    )
