"""Which catalogue tags and content types mean what to L3 personalisation (pure).

Tags are data: the catalogue decides which products carry `sustainable` or `architectural`,
and the maison's settings (`PersonalizeSettings`) decide which tags are *value* tags and
which are *aesthetic* tags. Code asks the vocabulary, never names a tag, so another
catalogue with other members of the vocabulary gets the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Vocabulary:
    value_tags: frozenset[str] = frozenset()
    aesthetic_tags: frozenset[str] = frozenset()
    values_content_types: frozenset[str] = frozenset()  # reading these supports values inference
    impact_content_types: frozenset[str] = frozenset()  # counted as Impact-report visits
    lifestyle_categories: frozenset[str] = frozenset()  # not worn: "beyond the wardrobe"
    values_min_confidence: float = 0.35

    def values_of(self, tags: Iterable[str]) -> tuple[str, ...]:
        """The value tags among `tags`, in their order."""
        return tuple(t for t in tags if t in self.value_tags)

    def aesthetics_of(self, tags: Iterable[str]) -> tuple[str, ...]:
        return tuple(t for t in tags if t in self.aesthetic_tags)

    def is_value_tagged(self, tags: Iterable[str]) -> bool:
        return any(t in self.value_tags for t in tags)


class VocabularySettings(Protocol):
    """The fields of `core.settings.PersonalizeSettings` read here (rules do not import settings)."""

    value_tags: list[str]
    aesthetic_tags: list[str]
    values_content_types: list[str]
    impact_content_types: list[str]
    lifestyle_categories: list[str]
    values_min_confidence: float


def from_settings(settings: VocabularySettings) -> Vocabulary:
    """The vocabulary of a `PersonalizeSettings` section."""
    return Vocabulary(
        value_tags=frozenset(settings.value_tags),
        aesthetic_tags=frozenset(settings.aesthetic_tags),
        values_content_types=frozenset(settings.values_content_types),
        impact_content_types=frozenset(settings.impact_content_types),
        lifestyle_categories=frozenset(settings.lifestyle_categories),
        values_min_confidence=float(settings.values_min_confidence),
    )
