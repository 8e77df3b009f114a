"""Content model: items described by their attributes and text, similar items by cosine.

Attributes become tokens (`category=Knitwear`, `tag=artisan`, `maker=...`, `price_band=...`),
weighted TF-IDF so that a rare tag says more than the category everybody shares, next to a
TF-IDF of the description's words (weighted lower: text is noisier than curated attributes).
Because it needs no interaction, it is what recommends a new item (cold start) and what
explains an item ("also in merino, by the same maker").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from maison.recommend.similarity import top_k_cosine

PRICE_BANDS = 5


@dataclass(frozen=True, slots=True)
class ItemAttributes:
    """What the content model knows of an item; every field may be empty."""

    item_id: str
    category: str | None = None
    subcategory: str | None = None
    tags: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    maker: str | None = None
    collections: tuple[str, ...] = ()
    price: float | None = None
    description: str = ""
    extra: tuple[str, ...] = field(default=())  # any other `key=value` tokens (a data set's own fields)


def price_bands(items: Sequence[ItemAttributes], *, bands: int = PRICE_BANDS) -> list[int | None]:
    """Each item's price quantile band (0 = cheapest) within its category; None without a price."""
    by_category: dict[str | None, list[float]] = {}
    for it in items:
        if it.price is not None:
            by_category.setdefault(it.category, []).append(it.price)
    edges = {c: np.quantile(v, np.linspace(0, 1, bands + 1)[1:-1]) for c, v in by_category.items()}
    return [None if it.price is None else int(np.searchsorted(edges[it.category], it.price, side="right"))
            for it in items]


def tokens(item: ItemAttributes, band: int | None) -> list[str]:
    """The attribute tokens of one item."""
    found = [f"category={item.category}"] if item.category else []
    if item.subcategory:
        found.append(f"subcategory={item.category}/{item.subcategory}")
    found += [f"tag={t}" for t in item.tags] + [f"material={m}" for m in item.materials]
    found += [f"collection={c}" for c in item.collections] + list(item.extra)
    if item.maker:
        found.append(f"maker={item.maker}")
    if band is not None:
        found.append(f"price_band={item.category}/{band}")
    return found


def item_features(items: Sequence[ItemAttributes], *, text_weight: float = 0.5) -> sparse.csr_matrix:
    """Items x features: L2-normalised TF-IDF of attribute tokens, plus `text_weight` x description TF-IDF."""
    bands = price_bands(items)
    docs = [tokens(it, b) for it, b in zip(items, bands, strict=True)]
    attributes = TfidfVectorizer(analyzer=lambda d: d, norm="l2", sublinear_tf=True).fit_transform(docs)
    texts = [it.description or "" for it in items]
    if text_weight > 0 and any(t.strip() for t in texts):
        words = TfidfVectorizer(stop_words="english", min_df=2, max_features=20_000, norm="l2",
                                sublinear_tf=True).fit_transform(texts)
        features = sparse.hstack([attributes, text_weight * words]).tocsr()
    else:
        features = sparse.csr_matrix(attributes)
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ features, dtype=np.float32)


class ContentSimilarity:
    """Item-item cosine over item features, each item's `neighbors` best kept."""

    def __init__(self, *, neighbors: int = 50) -> None:
        self.neighbors = neighbors

    def fit(self, features: sparse.spmatrix) -> ContentSimilarity:
        """Learn `similarity_` (items x items) from an items x features matrix."""
        self.similarity_ = top_k_cosine(sparse.csr_matrix(features).T, neighbors=self.neighbors)
        return self

    def score(self, history: sparse.spmatrix) -> sparse.csr_matrix:
        """Users x items: each user's (log-damped) history row times the content similarity."""
        h = sparse.csr_matrix(history, dtype=np.float32, copy=True)
        h.data = np.log1p(h.data)
        return sparse.csr_matrix(h @ self.similarity_)
