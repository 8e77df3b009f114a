"""A segment in plain words, from the features that set it apart from the clientele.

A segment's profile is the mean z-score of each feature among its members: how many standard
deviations above the clientele's average its members sit. The words come from the strongest
positive ones (at least `threshold`), grouped into phrases a person reads at a glance:
"reads sourcing and impact pages, views knitwear, sustainable and artisan pieces, evening email
opens". Every word is a catalogue value (category, tag) or a content type, so another
catalogue gets its own words without a change here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from maison.models.segments.features import Feature

THRESHOLD = 0.5  # standard deviations above the clientele's mean
PER_PHRASE = 3


def describe(profile: np.ndarray, features: Sequence[Feature], *, threshold: float = THRESHOLD) -> str:
    """Plain words for one segment profile (mean z-score per feature)."""
    ranked = sorted(
        ((float(z), f) for z, f in zip(profile, features, strict=True) if z >= threshold),
        key=lambda pair: (-pair[0], pair[1].name),
    )
    picked: dict[str, list[Feature]] = {}
    for _, feature in ranked:
        group = picked.setdefault(_group(feature), [])
        if len(group) < PER_PHRASE:
            group.append(feature)
    phrases = [p for p in (_phrase(g, picked.get(g, [])) for g in _ORDER) if p]
    return ", ".join(phrases) if phrases else "browses much like the clientele as a whole"


_ORDER = ("reads", "views", "buys", "opens", "habits")


def _group(feature: Feature) -> str:
    if feature.kind in ("content_type", "content_time"):
        return "reads"
    if feature.kind in ("category", "tag", "price_band"):
        return "views"
    if feature.kind == "bought":
        return "buys"
    if feature.kind == "open_time":
        return "opens"
    return "habits"


def _phrase(group: str, features: list[Feature]) -> str:
    if not features:
        return ""
    if group == "reads":
        kinds = [f.value.replace("_", " ") for f in features if f.kind == "content_type"]
        if not kinds:
            return "spends long on content pages"
        return f"reads {_join(kinds)} pages"
    if group == "views":
        words = [_view_word(f) for f in sorted(features, key=lambda f: ("category", "tag", "price_band").index(f.kind))]
        return f"views {_join(_merge_pieces(words))}"
    if group == "buys":
        return f"buys {_join([f.value.lower() for f in features])}"
    if group == "opens":
        return f"{_join([f.value for f in features])} email opens"
    return _join([_HABITS[f.kind] for f in features])


_HABITS = {"dwell": "long product visits", "saves": "saves pieces to a wishlist", "open_rate": "opens emails often"}


def _view_word(feature: Feature) -> str:
    if feature.kind == "category":
        return feature.value.lower()
    if feature.kind == "tag":
        return f"{feature.value} pieces"
    return f"{feature.value}-priced pieces"


def _merge_pieces(words: list[str]) -> list[str]:
    """"sustainable pieces", "artisan pieces" -> "sustainable", "artisan pieces" (one noun at the end)."""
    pieces = [i for i, w in enumerate(words) if w.endswith(" pieces")]
    return [w.removesuffix(" pieces") if i in pieces[:-1] else w for i, w in enumerate(words)]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
