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
