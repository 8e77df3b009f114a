"""What segmentation reads about clients, for which use, and why."""

from __future__ import annotations

from maison.consent.entities import Use
from maison.consent.readers import declare
from maison.models.segments.features import BLOCKS, DECLARED

BEHAVIOUR = declare(
    "models.segments.behaviour",
    use=Use.PERSONALIZE,
    categories=BLOCKS,
    why="Behavioural segments ('clients who browse like you'): shares of product views by category, tag and "
        "price band, dwell, content types read, email open times and categories bought. Only clients who take "
        "part in similar-customer personalisation are pooled, and only aggregates of a segment are ever shown.",
)

DECLARED_INTERESTS = declare(
    "models.segments.declared_categories",
    use=Use.PERSONALIZE,
    categories=(DECLARED,),
    why="The categories a client declared, as one more piece of evidence of who they are when their "
        "behaviour is still thin: a segment's centre for it is its pooled members' mean declaration, and it "
        "counts only while the client's own declared categories may be used to personalise.",
)
