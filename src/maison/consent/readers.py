"""Readers of client data declare what they read and for which use.

A feature, model, recommender or campaign gets client events only through `gateway.read`,
which takes its `Reader` declaration and applies the policy per client, per category and per
instant. A declaration with no categories is refused, and a test fails when a module outside
the storage layer touches the events table directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from maison.consent.entities import Use
from maison.consent.purposes import PURPOSES


@dataclass(frozen=True, slots=True)
class Reader:
    name: str
    use: Use
    categories: tuple[str, ...]
    why: str


REGISTRY: dict[str, Reader] = {}


def declare(name: str, *, use: Use, categories: tuple[str, ...], why: str) -> Reader:
    """Declare a reader once, at import time of the module that reads."""
    if not categories:
        raise ValueError(f"reader {name!r} declares no data categories")
    unknown = sorted(set(categories) - set(PURPOSES))
    if unknown:
        raise ValueError(f"reader {name!r} declares unknown categories {unknown}; allowed: {', '.join(PURPOSES)}")
    if not why.strip():
        raise ValueError(f"reader {name!r} must say why it reads")
    existing = REGISTRY.get(name)
    reader = Reader(name, use, tuple(categories), why)
    if existing is not None and existing != reader:
        raise ValueError(f"reader {name!r} is declared twice with different contents")
    REGISTRY[name] = reader
    return reader
