"""What the personalisation engine reads about a client, for which use, and why.

Each declaration is registered once at import; `consent.gateway.read` applies the policy to it
per client, category and instant.
"""

from __future__ import annotations

from maison.consent.entities import Use
from maison.consent.readers import declare

DECLARED = declare(
    "personalize.digest.declared_categories",
    use=Use.PERSONALIZE,
    categories=("declared_categories",),
    why="L1 digest sections are the top sellers of the categories the client declared.",
)

# An `identify` that states the time zone next to the declared categories is stored under
# `declared_categories` (ingest classifies a message by its most specific trait), so this reader
# sees rows of both categories, and the service uses their `timezone` trait only while
# `demographics` may be used for personalisation.
ZONE = declare(
    "personalize.digest.time_zone",
    use=Use.PERSONALIZE,
    categories=("declared_categories", "demographics"),
    why="The profile's time zone (demographics) places the weekly send time in local time.",
)

EMAIL_OPENS = declare(
    "personalize.digest.send_time",
    use=Use.PERSONALIZE,
    categories=("email_engagement",),
    why="From L2, the digest's send time is learned from when the client opens our emails.",
)

# Everything a client did that L2/L3 sections may build on. The gateway passes each category
# only while the client's consent grants it and their level includes it at the instant, so
# one declaration serves every section and none can see more than the consent allows.
BEHAVIOUR = declare(
    "personalize.digest.behaviour",
    use=Use.PERSONALIZE,
    categories=(
        "declared_categories", "purchase_history", "browsing_behaviour", "search_history", "cart_activity",
        "email_engagement", "content_engagement",
    ),
    why="L2/L3 digest sections and their reasons: items considered, searches, content read, carts, "
        "purchases and taste trajectory, each reason pointing to the client's own events.",
)
