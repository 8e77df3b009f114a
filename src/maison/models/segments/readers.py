"""What segmentation reads about clients, for which use, and why."""

from __future__ import annotations

from maison.consent.entities import Use
from maison.consent.readers import declare
from maison.models.segments.features import BLOCKS

BEHAVIOUR = declare(
    "models.segments.behaviour",
    use=Use.PERSONALIZE,
    categories=BLOCKS,
    why="Behavioural segments ('clients who browse like you'): shares of product views by category, tag and "
        "price band, dwell, content types read, email open times and categories bought. Only clients who take "
        "part in similar-customer personalisation are pooled, and only aggregates of a segment are ever shown.",
)
