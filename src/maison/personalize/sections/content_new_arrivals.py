"""`content_new_arrivals`: long reading of sourcing, impact or education pages leads to new arrivals
that carry what those pages are about (E11).

**Linking pages to products, from data only.** A page's topics and a product's facets (its
tags, certifications, materials and collections, plus the name of each of those fields the
product fills, e.g. `certifications` for a certified piece) are reduced to word stems. A topic
word matches a facet word; each match weighs the seconds the client spent on the page (shared
between the page's topics) times how rare the facet is in the catalogue (inverse document
frequency), so a facet every product has (materials) says nothing and a rare one (a
certification, `artisan`) says much. No page, tag or collection name appears in code.

**Which pieces.** Offerable new arrivals (launched within the 30 days before the send) with a
positive match, grouped by collection (pieces outside any collection form their own group);
the group with the highest total match is offered, and the section names its collection. A
section about one collection reads as one story, and a weak side match (one shared tag) does
not pull a whole other collection in.

**At L3** reading feeds values inference instead (the identity-predictive section), so this
section is built at L2 only. Uses `content_engagement` only.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from maison.catalog import catalogue
from maison.catalog.entities import ContentPage, Product
from maison.personalize.entities import Section
from maison.personalize.history import ClientHistory, Moment
from maison.personalize.sections.common import count_text, duration, is_new_on, item, listing, offerable, reason

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs

KIND = "content_new_arrivals"
CONTENT = "content_engagement"
VALUE_CONTENT_TYPES = frozenset({"sourcing", "impact", "education"})  # pages about how things are made
MIN_SECONDS = 120.0  # total reading time on such pages before they say anything
MAX_ITEMS = 6
FACET_FIELDS = ("tags", "certifications", "materials", "collections")


def stems(text: str) -> set[str]:
    """Lower-case words of four letters or more, a plural `s` removed (`certifications` -> `certification`)."""
    found = set()
    for word in re.findall(r"[a-z]+", text.lower()):
        if len(word) < 4:
            continue
        found.add(word[:-1] if word.endswith("s") and not word.endswith("ss") else word)
    return found


def facets(product: Product) -> set[str]:
    found: set[str] = set()
    for name in FACET_FIELDS:
        values: Iterable[str] = getattr(product, name)
        values = tuple(values)
        for value in values:
            found |= stems(value)
        if values:
            found |= stems(name)
    return found


def facet_stems(products: Sequence[Product]) -> dict[str, tuple[str, ...]]:
    """Each product's `facets` by product_id (read-only; once per `Catalogue`): the regexes of
    `stems` over every product cost more than the rest of a digest when redone for each client.
    A tuple in the order `facets` yields them, so a `match` summed over it adds the same floats
    in the same order, to the last bit."""
    return catalogue.derived(products, "content_new_arrivals.facet_stems",
                             lambda: {p.product_id: tuple(facets(p)) for p in products})


def rarity(products: Sequence[Product]) -> dict[str, float]:
    """Inverse document frequency of each facet stem over the catalogue (read-only; once per `Catalogue`)."""
    return _rarity(products, facet_stems(products))


def _rarity(products: Sequence[Product], known: Mapping[str, tuple[str, ...]]) -> dict[str, float]:
    """`rarity`, counting from `known` (`facet_stems(products)`) rather than stemming every product again."""

    def compute() -> dict[str, float]:
        counts: dict[str, int] = defaultdict(int)
        for p in products:
            for stem in known[p.product_id]:
                counts[stem] += 1
        n = len(products)
        return {stem: math.log(n / c) for stem, c in counts.items()}

    return catalogue.derived(products, "facet_rarity", compute)


def new_arrivals(products: Sequence[Product], at: datetime) -> tuple[Product, ...]:
    """The products `is_new_arrival` at `at`, in catalogue order (read-only; once per `Catalogue` and
    day): the rule reads only `at.date()`, so every client sent that day shares the answer, and
    the few new arrivals are all that is left to check per client."""
    day: date = at.date()
    return catalogue.derived(products, ("content_new_arrivals.new_arrivals", day),
                             lambda: tuple(p for p in products if is_new_on(p, day)))


def _arrivals_by_stem(products: Sequence[Product], at: datetime) -> dict[str, frozenset[str]]:
    """The new arrivals at `at` carrying each facet stem (once per `Catalogue` and day)."""

    def compute() -> dict[str, frozenset[str]]:
        known, found = facet_stems(products), defaultdict(set)
        for p in new_arrivals(products, at):
            for stem in known[p.product_id]:
                found[stem].add(p.product_id)
        return {stem: frozenset(ids) for stem, ids in found.items()}

    return catalogue.derived(products, ("content_new_arrivals.arrivals_by_stem", at.date()), compute)


@dataclass(frozen=True, slots=True)
class Reading:
    """The client's visits to one values page and the seconds they spent there."""

    page: ContentPage
    visits: tuple[Moment, ...]

    @property
    def seconds(self) -> float:
        return sum(m.dwell_seconds for m in self.visits)


def readings(history: ClientHistory, pages: Sequence[ContentPage]) -> list[Reading]:
    by_path = {p.path: p for p in pages if p.content_type in VALUE_CONTENT_TYPES}
    visits: dict[str, list[Moment]] = defaultdict(list)
    for m in history.content_visits():
        if m.path in by_path:
            visits[m.path].append(m)
    return sorted((Reading(by_path[path], tuple(ms)) for path, ms in visits.items()),
                  key=lambda r: (-r.seconds, r.page.path))


def topic_weights(reads: Sequence[Reading]) -> dict[str, float]:
    """Seconds per topic stem, each page's time shared between its topics."""
    weights: dict[str, float] = defaultdict(float)
    for r in reads:
        topics = r.page.topics or (r.page.name,)
        for topic in topics:
            for stem in stems(topic):
                weights[stem] += r.seconds / len(topics)
    return weights


def match(product: Product, weights: Mapping[str, float], idf: Mapping[str, float]) -> float:
    return _score(facets(product), weights, idf)


def _score(product_stems: Iterable[str], weights: Mapping[str, float], idf: Mapping[str, float]) -> float:
    """`match` of a product whose facet stems are `product_stems` (in the order `facets` yields them)."""
    return sum(weights.get(stem, 0.0) * idf.get(stem, 0.0) for stem in product_stems)


def cited(product: Product, weights: Mapping[str, float], idf: Mapping[str, float]) -> list[str]:
    """The product's certifications, tags and materials that match what the client read."""
    facts = []
    for name in ("certifications", "tags", "materials"):
        for value in getattr(product, name):
            if any(weights.get(s, 0.0) * idf.get(s, 0.0) > 0 for s in stems(value) | stems(name)):
                facts.append(value)
    return facts


def choose(candidates: Sequence[Product], weights: Mapping[str, float], idf: Mapping[str, float]) -> list[Product]:
    """The best-matching collection group's pieces, best match first."""
    return _choose(candidates, weights, idf, facets)


def _choose(candidates: Sequence[Product], weights: Mapping[str, float], idf: Mapping[str, float],
            facets_of: Callable[[Product], Iterable[str]]) -> list[Product]:
    """`choose`, reading each candidate's facet stems from `facets_of` (`facets`, or remembered ones)."""
    groups: dict[str, list[tuple[float, Product]]] = defaultdict(list)
    for p in candidates:
        score = _score(facets_of(p), weights, idf)
        if score > 0:
            groups[p.collections[0] if p.collections else ""].append((score, p))
    if not groups:
        return []
    best = max(groups, key=lambda g: (sum(s for s, _ in groups[g]), g))
    return [p for _, p in sorted(groups[best], key=lambda sp: (-sp[0], sp[1].product_id))][:MAX_ITEMS]


def _facts(product: Product, facts: Sequence[str]) -> str:
    """`GRS certified, tagged sustainable, made of recycled cashmere` (only facts in the catalogue)."""
    told = [f"{c} certified" for c in facts if c in product.certifications]
    tags = [t for t in facts if t in product.tags]
    told += [f"tagged {listing(tags)}"] if tags else []
    made = [m for m in facts if m in product.materials]
    told += [f"made of {listing(made)}"] if made else []
    return ", ".join(told)


def build(inputs: DigestInputs) -> list[Section]:
    history = inputs.history
    if history is None or CONTENT not in inputs.allowed or inputs.level != "L2":
        return []
    reads = [r for r in readings(history, inputs.content_pages) if r.seconds > 0]
    if sum(r.seconds for r in reads) < MIN_SECONDS:
        return []
    known = facet_stems(inputs.products)
    weights, idf = topic_weights(reads), _rarity(inputs.products, known)
    bought = history.bought()
    # every term of a match is >= 0, so only pieces with a facet stem the client read about can match
    read_about = [stem for stem, w in weights.items() if w * idf.get(stem, 0.0) > 0]
    touched = set().union(*(_arrivals_by_stem(inputs.products, history.at).get(s, ()) for s in read_about))
    candidates = [p for p in new_arrivals(inputs.products, history.at)
                  if p.product_id in touched and offerable(p, bought)]
    chosen = _choose(candidates, weights, idf, lambda p: known[p.product_id])
    if not chosen:
        return []
    alone = {r.page.path: topic_weights([r]) for r in reads}  # each page's own weights

    def scored(p: Product, r: Reading) -> float:
        return _score(known[p.product_id], alone[r.page.path], idf)  # `match(p, topic_weights([r]), idf)`

    contribution = {r.page.path: sum(scored(p, r) for p in chosen) for r in reads}
    relevant = [r for r in reads if contribution[r.page.path] > 0]
    lead = max(relevant, key=lambda r: (contribution[r.page.path], r.page.path))
    read = (f"You spent {duration(lead.seconds)} on our {lead.page.name} page"
            + (f" over {count_text(len(lead.visits), 'visit')}." if len(lead.visits) > 1 else "."))
    collection = chosen[0].collections[0] if chosen[0].collections else None
    items = []
    for p in chosen:
        evidence = [m for r in relevant if scored(p, r) > 0 for m in r.visits]
        facts = cited(p, alone[lead.page.path], idf) or cited(p, weights, idf)
        launched = f"{p.launched_on.day} {p.launched_on:%B}" if p.launched_on else ""
        text = f"{read} New on {launched}" + (f", part of the {collection}" if collection else "") + (
            f": {_facts(p, facts)}." if facts else ".")
        items.append(item(p, reason(text, [CONTENT], evidence, attributes=[*facts, *p.collections[:1]])))
    title = f"New in the {collection}" if collection else "New arrivals made the way you read about"
    text = (f"{read} Here are new arrivals"
            + (f" from the {collection}" if collection else "")
            + ", launched in the last 30 days and available online, that share what you read about;"
            " each note says how.")
    return [Section(KIND, title, text, tuple(items))]
