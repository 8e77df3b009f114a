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

PURCHASES = declare(
    "personalize.digest.purchases",
    use=Use.PERSONALIZE,
    categories=("purchase_history",),
    why="From L2, products the client has already bought are not recommended again.",
)
