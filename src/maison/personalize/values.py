"""Values inference: which value tags a client's behaviour leans towards, with a confidence (pure).

A *value tag* is whatever the maison's `Vocabulary` lists (sustainable, artisan, women-owned,
...); a product carries it in the catalogue. The client never told us their values, so we
infer them only from what they did, and only while `values_inference` may be used (the
caller checks the policy; with it off nothing here runs and nothing is stated).

**Attention per tag.** Each event gives weight to the value tags it touches:
- a product view: its dwell in seconds (capped at `DWELL_CAP`: a tab left open is not interest),
- a wishlist save: `SAVE_WEIGHT` seconds (a deliberate act, worth a long look),
- a purchase line: `PURCHASE_WEIGHT` seconds,
- a content-page visit of a values content type (sourcing, impact): its dwell, credited to the
  value tags the page is about (named in its topics) or carried by the products it features;
  a page about none of them counts for nothing (it says nothing about *which* value).

**Confidence** of a tag = `min(1, share / SATURATION) * n / (n + PRIOR)`, where `share` is the
tag's weight over all product and values-content attention and `n` the number of events that
touched it. The first factor is *direction* (how much of her attention goes there; a third is
as strong as it gets), the second is *depth* (three events are weak evidence, twenty strong).
A tag is inferred from `Vocabulary.values_min_confidence` up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from maison.catalog.entities import ContentPage, Product
from maison.personalize.history import VIEWS, ClientHistory, Moment
from maison.personalize.vocabulary import Vocabulary

VALUES_INFERENCE = "values_inference"
DWELL_CAP = 600.0
SAVE_WEIGHT = 180.0
PURCHASE_WEIGHT = 300.0
SATURATION = 0.3
PRIOR = 3


@dataclass(frozen=True, slots=True)
class InferredValue:
    tag: str
    confidence: float
    share: float  # of the client's attention
    events: int
    saves: tuple[Moment, ...] = field(default=(), hash=False)  # wishlist saves of products carrying it
    evidence: tuple[Moment, ...] = field(default=(), hash=False)  # every event that touched it
    data_categories: tuple[str, ...] = (VALUES_INFERENCE,)

    def to_dict(self) -> dict[str, object]:
        return {"value": self.tag, "confidence": self.confidence, "share_of_attention": round(self.share, 4),
                "events": self.events, "data_categories": list(self.data_categories)}


def infer(
    history: ClientHistory, *, products: Mapping[str, Product], pages: Sequence[ContentPage], vocabulary: Vocabulary,
) -> list[InferredValue]:
    """The value tags with confidence >= the vocabulary's minimum, most confident first."""
    return [v for v in scores(history, products=products, pages=pages, vocabulary=vocabulary)
            if v.confidence >= vocabulary.values_min_confidence]


def scores(
    history: ClientHistory, *, products: Mapping[str, Product], pages: Sequence[ContentPage], vocabulary: Vocabulary,
) -> list[InferredValue]:
    """Every value tag the client touched, with its confidence (see module doc)."""
    by_path = {p.path: p for p in pages}
    weight: dict[str, float] = defaultdict(float)
    touched: dict[str, list[Moment]] = defaultdict(list)
    total = 0.0
    for moment in history:
        amount, tags = _attention(moment, products, by_path, vocabulary)
        if amount <= 0:
            continue
        total += amount
        for tag in tags:
            weight[tag] += amount
            touched[tag].append(moment)
    found = []
    for tag, events in touched.items():
        share = weight[tag] / total if total else 0.0
        confidence = round(min(1.0, share / SATURATION) * len(events) / (len(events) + PRIOR), 2)
        saves = tuple(m for m in events if m.name == "Product Added to Wishlist")
        categories = (VALUES_INFERENCE, *sorted({m.data_category for m in events}))
        found.append(InferredValue(tag, confidence, share, len(events), saves, tuple(events), categories))
    return sorted(found, key=lambda v: (-v.confidence, v.tag))


def _attention(
    moment: Moment, products: Mapping[str, Product], pages: Mapping[str, ContentPage], vocabulary: Vocabulary,
) -> tuple[float, tuple[str, ...]]:
    if moment.name == "Product Viewed" and moment.product_id in products:
        return min(moment.dwell_seconds, DWELL_CAP), vocabulary.values_of(products[str(moment.product_id)].tags)
    if moment.name == "Product Added to Wishlist" and moment.product_id in products:
        return SAVE_WEIGHT, vocabulary.values_of(products[str(moment.product_id)].tags)
    if moment.name == "Order Completed":
        bought = {t for line in moment.line_items() if (p := products.get(str(line.get("product_id")))) is not None
                  for t in vocabulary.values_of(p.tags)}
        return PURCHASE_WEIGHT, tuple(sorted(bought))
    if moment.name in VIEWS and moment.content_type in vocabulary.values_content_types:
        page = pages.get(moment.path or "")
        about = _page_values(page, products, vocabulary) if page else ()
        return (min(moment.dwell_seconds, DWELL_CAP), about) if about else (0.0, ())
    return 0.0, ()


def _page_values(page: ContentPage, products: Mapping[str, Product], vocabulary: Vocabulary) -> tuple[str, ...]:
    """Value tags a content page is about: named in its topics, or carried by products it features."""
    words = {w for topic in page.topics for w in topic.lower().replace("-", " ").split()}
    named = {t for t in vocabulary.value_tags if set(t.lower().replace("-", " ").split()) <= words}
    featured = {t for pid in page.features_products if pid in products
                for t in vocabulary.values_of(products[pid].tags)}
    return tuple(sorted(named | featured))
