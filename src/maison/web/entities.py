"""What the privacy dashboard shows and what its forms ask for (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Change:
    """One change submitted by a dashboard form: exactly one of these fields is set."""

    purpose: str | None = None
    granted: bool | None = None
    level: str | None = None
    restriction: bool | None = None
    object_marketing: bool | None = None
    object_profiling: bool | None = None

    @property
    def anchor(self) -> str:
        """Where on the page the change was made, so the redirect lands back there."""
        if self.purpose:
            return f"purpose-{self.purpose}"
        return "depth" if self.level else "controls"

    @property
    def key(self) -> str:
        """What changed, as named in the `saved=` query of the redirect."""
        if self.purpose:
            return self.purpose
        if self.level:
            return "level"
        for name in ("restriction", "object_marketing", "object_profiling"):
            if getattr(self, name) is not None:
                return name
        return ""


@dataclass(frozen=True, slots=True)
class PurposeRow:
    purpose: str
    label: str
    description: str
    kind: str  # how the data comes to exist: declared, observed or derived
    kind_note: str
    granted: bool
    in_use: bool
    note: str
    changed: str | None
    needs_renewal: bool


@dataclass(frozen=True, slots=True)
class LevelSection:
    level: str
    title: str
    collects: str
    why: str
    current: bool
    purposes: list[PurposeRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Control:
    """Restriction or an objection: a switch with its legal meaning in plain words."""

    name: str
    label: str
    description: str
    on: bool


@dataclass(frozen=True, slots=True)
class DecisionRow:
    kind: str
    decided: str
    model_version: str
    categories: list[str]
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """A restricted collection opened to the client, told in words: what, when, why, and the price."""

    collection: str
    opened: str | None
    direction: str | None  # the tag the client's engagement turned towards (the collection's character)
    reason: str  # the recorded reason, without its price sentence (shown on its own)
    price: str
    categories: list[str]


@dataclass(frozen=True, slots=True)
class Dashboard:
    level: str
    levels: list[LevelSection]
    controls: list[Control]
    decisions: list[DecisionRow]
    has_record: bool
    collections: list[CollectionRow] = field(default_factory=list)
