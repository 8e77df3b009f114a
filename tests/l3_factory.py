"""A hand-made L3 client unlike the scenario's: Noor, in New York, whose taste drifts from quick
looks at classic best-sellers to long, considered visits to vintage-inspired heritage pieces.

Her maison's vocabulary is its own (value tags `heritage`, `family-owned`, `repairable`;
aesthetic tags `classic`, `vintage-inspired`; lifestyle category `Home`), her categories are
`Tailoring` and `Shoes`, and her restricted collection is the `Archive Collection`: so a test
on her proves the L3 code names none of the scenario's tags, categories or collections.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from maison.analytics.entities import Sale
from maison.consent.purposes import PURPOSES
from maison.personalize.l3_inputs import CohortAffinity, IdentityInputs, derive
from maison.personalize.trajectory import SalesTimeline
from maison.personalize.vocabulary import Vocabulary
from personalize_factory import content_page, page, product, track

ZONE = "America/New_York"
JOINED = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # Wednesday 7 Jan, 10:00 in New York
MONTH_1 = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)  # Monday 5 Jan 00:00 New York: month 1 starts
MONTH_2 = MONTH_1 + timedelta(days=28)
SEND = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # Tuesday of the week after month 2
VOCABULARY = Vocabulary(
    value_tags=frozenset({"heritage", "family-owned", "repairable"}),
    aesthetic_tags=frozenset({"classic", "vintage-inspired"}),
    values_content_types=frozenset({"sourcing"}),
    impact_content_types=frozenset({"report"}),
    lifestyle_categories=frozenset({"Home"}),
    values_min_confidence=0.35,
)
ARCHIVE = "Archive Collection"

CATALOGUE = [
    # classic best-sellers she glances at in month 1
    product("T-1", "Tailoring", subcategory="Suits", tags=("classic",), price=900),
    product("T-2", "Tailoring", subcategory="Shirts", tags=("classic",), price=200),
    product("S-1", "Shoes", subcategory="Loafers", tags=("classic",), price=400),
    # vintage-inspired heritage pieces she studies in month 2
    product("T-3", "Tailoring", subcategory="Jackets", tags=("vintage-inspired", "heritage"), price=1100,
            maker="family-owned mill, Yorkshire"),
    product("T-4", "Tailoring", subcategory="Coats", tags=("vintage-inspired", "heritage", "family-owned"),
            price=1400, maker="family-owned mill, Yorkshire"),
    product("S-2", "Shoes", subcategory="Boots", tags=("vintage-inspired", "repairable", "heritage"), price=600,
            maker="bootmaker, Northampton"),
    # never viewed
    product("T-5", "Tailoring", subcategory="Waistcoats", tags=("vintage-inspired",), price=350,
            launched=date(2026, 2, 20)),
    product("B-1", "Bags", subcategory="Briefcases", tags=("heritage", "family-owned"), price=700,
            maker="family saddlery, Walsall"),
    product("H-1", "Home", subcategory="Lighting", tags=("vintage-inspired",), price=250,
            maker="glassworks, Murano", certifications=("FSC",)),
    product("H-2", "Home", subcategory="Textiles", tags=("vintage-inspired", "heritage"), price=300,
            maker="heritage weavers, Harris"),
    product("H-3", "Home", subcategory="Lighting", tags=("classic",), price=180),  # no provenance fact
    product("A-1", "Tailoring", subcategory="Jackets", tags=("vintage-inspired", "heritage"), price=1600,
            collections=(ARCHIVE,), restricted=True, maker="archive atelier, Savile Row"),
    product("A-2", "Shoes", subcategory="Boots", tags=("vintage-inspired", "heritage"), price=900,
            collections=(ARCHIVE,), restricted=True, maker="bootmaker, Northampton"),
    product("J-1", "Stationery", subcategory="Pens", tags=("repairable",), price=120),
    product("X-1", "Tailoring", subcategory="Ties", tags=("vintage-inspired",), online={"one_size": 0}),
]
PRODUCTS = {p.product_id: p for p in CATALOGUE}
PAGES = [content_page("/heritage-crafts", "sourcing", ["heritage crafts", "family-owned makers"]),
         content_page("/report", "report", ["annual report"])]


def at(days: float, hours: float = 20) -> datetime:
    """`days` after the start of month 1, at `hours` New York time (EST, UTC-5)."""
    return MONTH_1 + timedelta(days=days, hours=hours)


def noor_rows() -> list[dict[str, Any]]:
    """Month 1: eight quick looks at classic best-sellers. Month 2: long visits to heritage pieces,
    two saves, heritage reading, one report visit."""
    rows = [track("Product Viewed", at(d), product_id=pid, dwell_seconds=20 + d)
            for d, pid in enumerate(["T-1", "T-2", "S-1", "T-1", "S-1", "T-2", "T-1", "S-1"])]
    for d, pid in enumerate(["T-3", "T-4", "S-2", "T-3", "T-4", "S-2", "T-2", "T-3"]):
        rows.append(track("Product Viewed", at(29 + 2 * d), product_id=pid, dwell_seconds=150 + 10 * d))
    rows += [track("Product Added to Wishlist", at(40), product_id="T-4"),
             track("Product Added to Wishlist", at(44), product_id="S-2"),
             page("/heritage-crafts", at(35), dwell=400, content_type="sourcing"),
             page("/heritage-crafts", at(45), dwell=300, content_type="sourcing"),
             page("/report", at(46), dwell=200, content_type="report"),
             page("/heritage-crafts", at(10), dwell=30, content_type="sourcing")]
    return rows


def sales(*extra: Sale) -> SalesTimeline:
    """T-1, T-2 and S-1 sell steadily from before she joined; the heritage pieces once, long ago."""
    found = [Sale(pid, 3, MONTH_1 - timedelta(days=20) + timedelta(days=d))
             for d in range(0, 80, 2) for pid in ("T-1", "T-2", "S-1")]
    found += [Sale(pid, 1, MONTH_1 - timedelta(days=10)) for pid in ("T-3", "T-4", "S-2")]
    return SalesTimeline([*found, *extra], CATALOGUE)


def identity(history: Any, *, allowed: frozenset[str] = frozenset(PURPOSES), recorded: frozenset[str] = frozenset(),
             cohort: CohortAffinity | None = None) -> IdentityInputs:
    return derive(history, joined=JOINED, allowed=allowed, products=CATALOGUE, pages=PAGES, sales=sales(),
                  vocabulary=VOCABULARY, recorded=recorded, cohort=cohort)
