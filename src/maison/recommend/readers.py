"""What the recommender reads about clients, for which use, and why (registered at import)."""

from __future__ import annotations

from maison.consent.entities import Use
from maison.consent.readers import declare

BEHAVIOUR_CATEGORIES = ("browsing_behaviour", "cart_activity", "purchase_history")

# Training rule: a client's views, saves, cart adds and purchases enter the shop-wide models
# (item-item co-occurrence, popularity by buyers, the ranker's labels) only for the categories
# their consent lets us use for personalisation at the training instant (the gateway applies
# `consent.rules.may(state, category, Use.PERSONALIZE)` per client and category): a client
# at L1, who withdrew a purpose, restricted processing or objected to profiling contributes
# nothing of that category. The models keep only item-level aggregates, never a client's row.
TRAINING = declare(
    "recommend.training.behaviour",
    use=Use.PERSONALIZE,
    categories=BEHAVIOUR_CATEGORIES,
    why="Shop-wide item-item similarities and the ranker are learned from the behaviour of clients who allow "
        "its use for personalisation.",
)

BEHAVIOUR = declare(
    "recommend.serving.behaviour",
    use=Use.PERSONALIZE,
    categories=BEHAVIOUR_CATEGORIES,
    why="From L2, a client's own views, saves, cart adds and purchases rank the items recommended to them.",
)

DECLARED = declare(
    "recommend.serving.declared_categories",
    use=Use.PERSONALIZE,
    categories=("declared_categories",),
    why="At L1, recommendations are the best sellers of the categories the client declared.",
)
