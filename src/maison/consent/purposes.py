"""The twelve purposes (data categories) and which one each incoming message falls under.

Classification is pure and lives here, next to the vocabulary, so ingestion and every later
reader agree on what an event *is* before asking whether it may be stored or used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

L1_PURPOSES: Final = ("declared_categories", "purchase_history", "demographics")
L2_PURPOSES: Final = (
    "browsing_behaviour",
    "search_history",
    "cart_activity",
    "email_engagement",
    "content_engagement",
    "similar_customer_signals",
)
L3_PURPOSES: Final = ("taste_trajectory", "values_inference", "exploratory_recommendations")
PURPOSES: Final = L1_PURPOSES + L2_PURPOSES + L3_PURPOSES

# Categories of messages that are not personalisation data: the consent record itself and
# data-subject requests, identity links, and service events needed to fulfil the contract.
CONSENT_RECORD: Final = "consent_record"
IDENTITY: Final = "identity"
SERVICE: Final = "service"

CONTENT_PAGE_TYPES: Final = frozenset({"sourcing", "impact", "education", "styling_guide", "editorial"})

_TRACK_CATEGORIES: Final[Mapping[str, str]] = {
    "Order Completed": "purchase_history",
    "Order Refunded": "purchase_history",
    "Order Cancelled": "purchase_history",
    "Product Reviewed": "purchase_history",
    "Product Viewed": "browsing_behaviour",
    "Product List Viewed": "browsing_behaviour",
    "Product List Filtered": "browsing_behaviour",
    "Product Clicked": "browsing_behaviour",
    "Product Added to Wishlist": "browsing_behaviour",
    "Product Removed from Wishlist": "browsing_behaviour",
    "Wishlist Product Added to Cart": "cart_activity",
    "Products Searched": "search_history",
    "Product Added": "cart_activity",
    "Product Removed": "cart_activity",
    "Cart Viewed": "cart_activity",
    "Checkout Started": "cart_activity",
    "Checkout Step Viewed": "cart_activity",
    "Checkout Step Completed": "cart_activity",
    "Payment Info Entered": "cart_activity",
    "Email Opened": "email_engagement",
    "Email Link Clicked": "email_engagement",
    "Email Bounced": SERVICE,
    "Unsubscribed": CONSENT_RECORD,
    "Consent Updated": CONSENT_RECORD,
    "Data Export Requested": CONSENT_RECORD,
    "Data Erasure Requested": CONSENT_RECORD,
    "Store Visited": "purchase_history",
    "Appointment Booked": SERVICE,
    "Repair Requested": SERVICE,
    "Associate Note Added": SERVICE,
}


def classify(message: Mapping[str, Any]) -> str:
    """The data category of a validated message (one of PURPOSES or a non-personalisation kind)."""
    kind = message.get("type")
    if kind == "identify":
        traits = message.get("traits") or {}
        if "declared_categories" in traits:
            return "declared_categories"
        return "demographics" if traits else IDENTITY
    if kind in ("alias", "group"):
        return IDENTITY
    if kind in ("page", "screen"):
        props = message.get("properties") or {}
        content_type = props.get("content_type")
        return "content_engagement" if content_type in CONTENT_PAGE_TYPES else "browsing_behaviour"
    return _TRACK_CATEGORIES.get(str(message.get("event")), "browsing_behaviour")


LEVELS: Final = ("L1", "L2", "L3")
LEVEL_OF: Final[Mapping[str, str]] = {
    **{p: "L1" for p in L1_PURPOSES},
    **{p: "L2" for p in L2_PURPOSES},
    **{p: "L3" for p in L3_PURPOSES},
}
# Observed behaviour needs consent to be collected at all. Declared data (what the client typed
# in) and purchases (the contract) are kept for the account; their *use* still needs consent.
OBSERVED: Final = frozenset(L2_PURPOSES) - {"similar_customer_signals"}
# Derived, not collected: these purposes only govern use.
DERIVED: Final = frozenset({"similar_customer_signals", *L3_PURPOSES})

DESCRIPTIONS: Final[Mapping[str, str]] = {
    "declared_categories": "The product categories you told us you are interested in.",
    "purchase_history": "What you bought online and in store, and your reviews.",
    "demographics": "Your city, country, time zone and age band.",
    "browsing_behaviour": "Which products and pages you look at on our site, and what you save.",
    "search_history": "What you search for on our site.",
    "cart_activity": "What you add to or remove from your bag, and checkouts you start.",
    "email_engagement": "When you open our emails and which links you follow.",
    "content_engagement": "Which articles and guides you read, and for how long.",
    "similar_customer_signals": "Ratings and fit feedback from clients who browse like you.",
    "taste_trajectory": "How your taste has shifted over the months, in plain words.",
    "values_inference": "What you seem to value (for example sustainability or artisan work).",
    "exploratory_recommendations": "Occasional picks beyond what you have shown interest in.",
}

# fideslang taxonomy keys (data categories and data uses); `maison.` where none fits.
FIDES_CATEGORY: Final[Mapping[str, str]] = {
    "declared_categories": "user.content.self_image",
    "purchase_history": "user.behavior.purchase_history",
    "demographics": "user.demographic",
    "browsing_behaviour": "user.behavior.browsing_history",
    "search_history": "user.behavior.search_history",
    "cart_activity": "maison.user.behavior.cart_activity",
    "email_engagement": "maison.user.behavior.email_open_tracking",
    "content_engagement": "maison.user.behavior.content_engagement",
    "similar_customer_signals": "maison.derived.cohort_modelling",
    "taste_trajectory": "user.behavior",
    "values_inference": "maison.derived.values_inference",
    "exploratory_recommendations": "maison.derived.exploratory_recommendations",
}
FIDES_USE: Final[Mapping[str, str]] = {
    "L1": "personalize.content.limited",
    "L2": "personalize.content.profiling",
    "L3": "personalize.content.profiled",
    "marketing": "marketing.communications.email",
    "scoring": "maison.analytics.future_vip_scoring",
}
# Never inferred at any depth (GDPR Art. 9 special categories).
SPECIAL_CATEGORIES: Final = frozenset(
    {"health", "maternity", "religion", "politics", "sexual_orientation", "ethnicity"}
)


def level_includes(level: str, purpose: str) -> bool:
    """Whether a personalisation depth may use a purpose (L2 includes L1, L3 includes both)."""
    need = LEVEL_OF.get(purpose)
    return need is not None and level in LEVELS and LEVELS.index(level) >= LEVELS.index(need)
