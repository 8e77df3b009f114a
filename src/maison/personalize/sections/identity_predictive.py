"""`identity_predictive`: the L3 section, picks from where the client's taste is going (pure).

Five pickers run in order over one pool, each taking pieces the ones before did not:

1. **Beyond the wardrobe**: pieces from the maison's lifestyle categories (home, books, ...)
   carrying an aesthetic tag she favours, with a provenance fact (maker, certification); one
   per category first. First, so that the reach is never crowded out by the others.
2. **Trajectory** (exploratory): a piece she has never viewed carrying an aesthetic tag whose
   share of her views rose month on month (`trajectory.rising_tags`).
3. **Values** (exploratory): a piece in a category she has never browsed, carrying value tags
   inferred from her behaviour; the evidence is her wishlist saves carrying those tags.
4. **Similar clients** (exploratory): a piece she has never viewed that her cohort buys far more
   often than clients overall; no browsing of hers supports it, and the reason says so.
5. **Aesthetics and values**: pieces carrying an aesthetic tag she favours and at least two of
   her inferred values; with values inference off, aesthetics and catalogue facts only.

The pool (`Pool`): in stock online, launched, not bought, not resting (sent in this section in the last
`DigestInputs.pick_rest_weeks` weeks and not viewed or saved since: `personalize.repeats`), not
already in an earlier section of the digest (curation would drop it, leaving a picker's slot
empty), and access-restricted only when the client has been granted the collection
(`IdentityInputs.collections`). Every item lists exactly the
purposes its reason used, each one allowed at the send instant; non-exploratory items point to
her own events. Which tags are aesthetic or value tags, and which categories are "lifestyle",
is the maison's `Vocabulary`: nothing here names a tag, a category or a product.

**Cost.** A picker never loops over the catalogue in Python: what is in stock and launched on
a day, each piece's category, newness and tags, is worked out once per `Catalogue` and day
(`Shelf`, NumPy arrays), a client's pool is that shelf minus what they may not be offered (a
mask), and a picker scores the whole shelf at once. Only the pieces whose score is near the
best are then scored exactly, as the picker always did (`Shelf.near_best`), so a pick is the
same to the last bit. Each picker breaks ties by product id, so the order in which the shelf
hands pieces over never changes a pick.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np

from maison.catalog import catalogue
from maison.catalog.entities import Product
from maison.personalize.cohort_signals import MIN_BUYERS, MIN_LIFT  # a cohort signal worth an exploratory pick
from maison.personalize.entities import Item, Reason, Section
from maison.personalize.history import ClientHistory, Moment
from maison.personalize.l3_inputs import IdentityInputs
from maison.personalize.repeats import resting
from maison.personalize.sections.common import is_new_arrival, is_new_on, item, listing, reason
from maison.personalize.trajectory import MonthSummary, percent, rising_tags
from maison.personalize.values import InferredValue

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs

KIND = "identity_predictive"
TRAJECTORY, VALUES, EXPLORATORY = "taste_trajectory", "values_inference", "exploratory_recommendations"
BROWSING, SIMILAR = "browsing_behaviour", "similar_customer_signals"
FAVOURED_SHARE = 0.3  # an aesthetic tag on this share of her latest month's views is one she favours
TRAJECTORY_PICKS, WARDROBE_PICKS, JOINED_PICKS = 2, 2, 3
EVIDENCE = 3  # most recent events cited per reason


NEAR = 1e-9  # an approximate score this close to the cut may be the exact best: re-scored exactly


class Shelf:
    """What any client may be offered on a day, before their own exclusions: pieces in stock online
    and launched (access-restricted ones included; the pool checks the client's grants), in
    catalogue order, with per-piece arrays (category, new arrival on the day, occurrences of each
    tag) that let a picker score the whole shelf at once."""

    __slots__ = ("_tags", "by_id", "categories", "category", "new", "position", "products", "provenanced",
                 "restricted")

    def __init__(self, products: Sequence[Product], day: date) -> None:
        self.products = tuple(p for p in products
                              if p.in_stock_online() and (p.launched_on is None or p.launched_on <= day))
        self.by_id = {p.product_id: p for p in self.products}
        self.position = {p.product_id: i for i, p in enumerate(self.products)}
        self.categories: dict[str, int] = {}
        for p in self.products:
            self.categories.setdefault(p.category, len(self.categories))
        self.category = np.array([self.categories[p.category] for p in self.products], dtype=np.int64)
        self.new = np.array([is_new_on(p, day) for p in self.products], dtype=bool)
        self.provenanced = np.array([bool(_provenance(p)) for p in self.products], dtype=bool)
        self.restricted = tuple(i for i, p in enumerate(self.products) if p.access_restricted)
        tags: dict[str, np.ndarray] = {}
        for i, p in enumerate(self.products):
            for tag in p.tags:
                tags.setdefault(tag, np.zeros(len(self.products), dtype=np.int64))[i] += 1
        self._tags = tags

    def count(self, tag: str) -> np.ndarray:
        """How often each piece lists `tag` (0 for most)."""
        found = self._tags.get(tag)
        return found if found is not None else np.zeros(len(self.products), dtype=np.int64)

    def carrying(self, tags: Iterable[str]) -> np.ndarray:
        """Which pieces carry any of `tags`."""
        found = np.zeros(len(self.products), dtype=bool)
        for tag in tags:
            found |= self.count(tag) > 0
        return found

    def in_categories(self, names: Iterable[str]) -> np.ndarray:
        """Which pieces are in any of these categories (a look-up by category code)."""
        wanted = np.zeros(len(self.categories), dtype=bool)
        wanted[[self.categories[c] for c in names if c in self.categories]] = True
        found: np.ndarray = wanted[self.category]
        return found

    def shares(self, of_category: Mapping[str, float]) -> np.ndarray:
        """Each piece's category's value in `of_category` (0.0 when absent)."""
        by_code = np.array([of_category.get(c, 0.0) for c in self.categories] or [0.0])
        return by_code[self.category] if len(self.products) else np.zeros(0)

    def pieces(self, mask: np.ndarray) -> list[Product]:
        return [self.products[i] for i in np.flatnonzero(mask)]

    def near_best(self, mask: np.ndarray, approx: np.ndarray, n: int = 1) -> list[Product]:
        """The pieces under `mask` whose approximate score is within `NEAR` of the `n`-th best.

        The approximation sums the same terms as a picker's exact score, in another order, so it
        can differ in the last bits: every piece that can rank in the exact top `n` is among these,
        and the picker ranks them with its own exact score."""
        where = np.flatnonzero(mask)
        if not len(where):
            return []
        scores = approx[where]
        cut = np.partition(scores, len(scores) - n)[len(scores) - n] if len(scores) > n else scores.min()
        return [self.products[i] for i in where[scores >= cut - NEAR]]


def shelf(products: Sequence[Product], day: date) -> Shelf:
    """The shelf of `day`, once per `Catalogue` and day."""
    return catalogue.derived(products, ("identity_predictive.shelf", day), lambda: Shelf(products, day))


@dataclass(frozen=True, slots=True)
class Pool:
    """The pieces the section may offer one client: the day's shelf minus `excluded` (bought, resting,
    shown earlier, taken by an earlier picker), access-restricted ones only in a collection in `open_to`."""

    shelf: Shelf
    excluded: frozenset[str]
    open_to: frozenset[str]

    def has(self, product: Product) -> bool:
        return product.product_id not in self.excluded and (
            not product.access_restricted or any(c in self.open_to for c in product.collections))

    def get(self, product_id: str) -> Product | None:
        found = self.shelf.by_id.get(product_id)
        return found if found is not None and self.has(found) else None

    def mask(self, *, also: Collection[str] = ()) -> np.ndarray:
        """The shelf's pieces in the pool (and not in `also`), as a mask over `shelf.products`."""
        found = np.ones(len(self.shelf.products), dtype=bool)
        for pid in (*self.excluded, *also):
            at = self.shelf.position.get(pid)
            if at is not None:
                found[at] = False
        for at in self.shelf.restricted:
            if not any(c in self.open_to for c in self.shelf.products[at].collections):
                found[at] = False
        return found

    def without(self, product_ids: Collection[str]) -> Pool:
        return Pool(self.shelf, self.excluded | frozenset(product_ids), self.open_to) if product_ids else self


@dataclass(frozen=True, slots=True)
class Context:
    at: datetime
    allowed: frozenset[str]
    history: ClientHistory
    identity: IdentityInputs
    pool: Pool
    viewed: frozenset[str]
    viewed_categories: frozenset[str]
    catalogue: Mapping[str, Product]

    def may(self, *purposes: str) -> bool:
        return all(p in self.allowed for p in purposes)


def build(inputs: DigestInputs) -> list[Section]:
    context = _context(inputs)
    if context is None:
        return []
    chosen: list[Item] = []
    for picker in (beyond_wardrobe, trajectory_picks, values_pick, similar_clients_pick, aesthetics_and_values):
        chosen.extend(picker(context, context.pool.without({i.product_id for i in chosen})))
    if not chosen:
        return []
    return [Section(KIND, "Where your taste is going", _section_text(chosen), tuple(chosen))]


def _context(inputs: DigestInputs) -> Context | None:
    identity, history = inputs.identity, inputs.history
    if identity is None or history is None or TRAJECTORY not in inputs.allowed:
        return None
    at = inputs.send.send_at
    bought = history.bought() | (inputs.bought or frozenset())
    held = resting(inputs.sent_picks, history, at=at, weeks=inputs.pick_rest_weeks) | inputs.shown
    pool = Pool(shelf(inputs.products, at.date()), frozenset(held | bought), identity.collections)
    views = history.product_views()
    by_id = catalogue.by_id(inputs.products)
    viewed = frozenset(str(v.product_id) for v in views)
    categories = frozenset(by_id[pid].category for pid in viewed if pid in by_id)
    return Context(at, inputs.allowed, history, identity, pool, viewed, categories, by_id)


# ---------------------------------------------------------------- trajectory


def trajectory_picks(context: Context, pool: Pool) -> list[Item]:
    """Never-viewed pieces carrying the aesthetic tags whose share of her views rose most."""
    if not context.may(EXPLORATORY, BROWSING):
        return []
    months = _with_views(context.identity.months)
    rising = rising_tags(months)
    if not rising:
        return []
    first, latest = months[0], months[-1]
    fit, approx = _fit(latest, context), _fit_scores(latest, context, pool.shelf)
    found: list[Item] = []
    for tag, before, now in (rising * TRAJECTORY_PICKS)[:TRAJECTORY_PICKS]:  # the strongest tags, in turn
        taken = {i.product_id for i in found}
        mask = pool.shelf.carrying([tag]) & pool.mask(also=context.viewed | taken)
        candidates = pool.shelf.near_best(mask, approx)
        if not candidates:
            continue
        best = max(candidates, key=lambda p: (fit(p), p.product_id))
        text = (
            f"An exploratory pick: you have not looked at this piece yet. It rests on your taste trajectory: "
            f"the share of your views on {tag} pieces rose from {_pct(before)} in month {first.month.index} to "
            f"{_pct(now)} in month {latest.month.index}, and this piece is {tag}."
        )
        evidence = _recent(context.history, tag, context)
        found.append(_explore(best, reason(text, (EXPLORATORY, TRAJECTORY, BROWSING), evidence, attributes=(tag,))))
    return found


# ---------------------------------------------------------------- values


def values_pick(context: Context, pool: Pool) -> list[Item]:
    """A piece in a category she never browsed, carrying values her saves support."""
    if not context.may(EXPLORATORY, VALUES, BROWSING):
        return []
    saved = [v for v in context.identity.values if v.saves]
    shelf = pool.shelf
    mask = shelf.carrying(v.tag for v in saved) & ~shelf.in_categories(context.viewed_categories) & pool.mask()
    approx = sum((v.confidence * (shelf.count(v.tag) > 0) for v in saved), np.where(shelf.new, 0.1, 0.0))
    best: tuple[float, str, Product, list[InferredValue]] | None = None
    for product in shelf.near_best(mask, approx):
        if product.category in context.viewed_categories:
            continue
        matched = [v for v in saved if v.tag in product.tags]
        if matched:
            score = sum(v.confidence for v in matched) + (0.1 if is_new_arrival(product, context.at) else 0.0)
            if best is None or (score, product.product_id) > (best[0], best[1]):
                best = (score, product.product_id, product, matched)
    if best is None:
        return []
    _, _, product, matched = best
    tags = [v.tag for v in matched]
    saves = sorted({m.message_id: m for v in matched for m in v.saves}.values(), key=lambda m: m.at)
    confidence = listing([f"{v.tag} {v.confidence:.2f}" for v in matched])
    text = (
        f"An exploratory pick from values inferred from your activity: you have no browsing history in "
        f"{product.category}, so none of your browsing there supports it. What you look at, save and read "
        f"suggests you value {listing(tags)} pieces (confidence {confidence}), and you saved "
        f"{len(saves)} piece{'s' if len(saves) != 1 else ''} carrying them; this piece is {listing(tags)}."
        f"{_provenance_text(product)}"
    )
    categories = {EXPLORATORY, BROWSING, *(c for v in matched for c in v.data_categories)} & context.allowed
    why = reason(text, categories, saves, attributes=(*tags, *_provenance(product)))
    return [_explore(product, _with_values(why, tags))]


# ---------------------------------------------------------------- similar clients


def similar_clients_pick(context: Context, pool: Pool) -> list[Item]:
    """A never-viewed piece the client's cohort buys far more often than clients overall."""
    cohort = context.identity.cohort
    if cohort is None or not context.may(EXPLORATORY, SIMILAR):
        return []
    scored = []
    for product_id, (buyers, lift) in cohort.affinity.items():
        product = pool.get(product_id)
        if product is None or product_id in context.viewed:
            continue
        if buyers >= MIN_BUYERS and lift >= MIN_LIFT:
            scored.append((lift * math.log1p(buyers), product.product_id, product, buyers, lift))
    if not scored:
        return []
    _, _, product, buyers, lift = max(scored)
    of = f" of the {cohort.size}" if cohort.size else ""
    text = (
        f"An exploratory pick: none of your own browsing supports it. It comes from customers with similar "
        f"interests: {buyers}{of} clients who browse like you bought it, {lift:.1f} times as often as clients "
        f"overall."
    )
    categories = tuple(sorted({EXPLORATORY, SIMILAR, *cohort.data_categories} & context.allowed))
    return [_explore(product, Reason(text=text, data_categories=categories))]


# ---------------------------------------------------------------- beyond the wardrobe


def beyond_wardrobe(context: Context, pool: Pool) -> list[Item]:
    """Lifestyle pieces with an aesthetic she favours and a provenance fact from the catalogue."""
    latest = _latest(context)
    if latest is None or not context.may(BROWSING):
        return []
    favoured = _favoured(latest, context)
    lifestyle = context.identity.vocabulary.lifestyle_categories
    shelf = pool.shelf
    candidates = shelf.pieces(shelf.carrying(favoured) & shelf.in_categories(lifestyle) & shelf.provenanced
                              & pool.mask())
    fit = _fit(latest, context)
    candidates.sort(key=lambda p: (-fit(p) - len(_provenance(p)) * 0.1, p.product_id))
    found: list[Item] = []
    for product in _spread(candidates, WARDROBE_PICKS):
        tags = [t for t in favoured if t in product.tags]
        text = (
            f"Beyond your wardrobe: this piece is {listing(tags)}, like "
            f"{listing([_pct(latest.tag_shares[t]) for t in tags])} of the pieces you viewed in month "
            f"{latest.month.index}.{_provenance_text(product)}"
        )
        evidence = [m for t in tags for m in _recent(context.history, t, context)]
        found.append(item(product, reason(text, (TRAJECTORY, BROWSING), evidence,
                                          attributes=(*tags, *_provenance(product)))))
    return found


def _spread(ranked: Sequence[Product], n: int) -> list[Product]:
    """The best `n` of `ranked`, one per category first, then one per subcategory: a reach beyond
    the wardrobe shows its breadth (a book and a throw, not two throws)."""
    chosen: list[Product] = []
    for key in (lambda p: p.category, lambda p: (p.category, p.subcategory)):
        for product in ranked:
            if len(chosen) < n and product not in chosen and key(product) not in {key(c) for c in chosen}:
                chosen.append(product)
    return chosen


# ---------------------------------------------------------------- aesthetics and values


def aesthetics_and_values(context: Context, pool: Pool) -> list[Item]:
    """Pieces joining an aesthetic she favours with two or more of her inferred values."""
    latest = _latest(context)
    if latest is None or not context.may(BROWSING):
        return []
    favoured = _favoured(latest, context)
    values = {v.tag: v for v in context.identity.values} if context.may(VALUES) else {}
    shelf = pool.shelf
    mask = shelf.carrying(favoured) & pool.mask()
    held_count = sum((shelf.count(t) for t in values), np.zeros(len(shelf.products), dtype=np.int64))
    mask &= held_count >= 2 if values else shelf.provenanced
    approx = (sum((latest.tag_shares[t] * (shelf.count(t) > 0) for t in favoured), np.zeros(len(shelf.products)))
              + sum((v.confidence * shelf.count(t) for t, v in values.items()), np.zeros(len(shelf.products)))
              + np.where(shelf.new, 0.1, 0.0))
    scored = []
    for product in shelf.near_best(mask, approx, JOINED_PICKS):
        tags = [t for t in favoured if t in product.tags]
        held = [values[t] for t in product.tags if t in values]
        if not tags or (values and len(held) < 2) or (not values and not _provenance(product)):
            continue
        score = sum(latest.tag_shares[t] for t in tags) + sum(v.confidence for v in held)
        scored.append((score + (0.1 if is_new_arrival(product, context.at) else 0.0), product.product_id, product))
    scored.sort(key=lambda s: (-s[0], s[1]))
    found = []
    for _, _, product in scored[:JOINED_PICKS]:
        tags = [t for t in favoured if t in product.tags]
        held = [values[t] for t in product.tags if t in values]
        seen = f"like {listing([_pct(latest.tag_shares[t]) for t in tags])} of the pieces you viewed in month " \
               f"{latest.month.index}"
        evidence: list[Moment] = [m for t in tags for m in _recent(context.history, t, context)]
        if held:
            text = (
                f"Where your taste is going: {listing(tags)}, {seen}; and {listing([v.tag for v in held])}, values "
                f"what you look at, save and read suggests you care about (confidence "
                f"{listing([f'{v.confidence:.2f}' for v in held])}).{_provenance_text(product)}"
            )
            evidence += [m for v in held for m in v.saves[-EVIDENCE:]]
            categories = {TRAJECTORY, BROWSING, *(c for v in held for c in v.data_categories)} & context.allowed
            why = _with_values(reason(text, categories, evidence, attributes=(*tags, *(v.tag for v in held),
                                                                           *_provenance(product))),
                               [v.tag for v in held])
        else:
            text = f"Where your taste is going: {listing(tags)}, {seen}.{_provenance_text(product)}"
            why = reason(text, (TRAJECTORY, BROWSING), evidence, attributes=(*tags, *_provenance(product)))
        found.append(item(product, why))
    return found


# ---------------------------------------------------------------- shared


def _with_views(months: Sequence[MonthSummary]) -> list[MonthSummary]:
    return [m for m in months if m.product_views]


def _latest(context: Context) -> MonthSummary | None:
    months = _with_views(context.identity.months)
    return months[-1] if months else None


def _favoured(latest: MonthSummary, context: Context) -> list[str]:
    """Aesthetic tags on at least `FAVOURED_SHARE` of her latest month's views, most viewed first."""
    aesthetic = context.identity.vocabulary.aesthetic_tags
    tags = [t for t, s in latest.tag_shares.items() if t in aesthetic and s >= FAVOURED_SHARE]
    return sorted(tags, key=lambda t: (-latest.tag_shares[t], t))


def _fit_scores(latest: MonthSummary, context: Context, shelf: Shelf) -> np.ndarray:
    """`_fit` of every piece on the shelf at once (up to rounding: see `Shelf.near_best`)."""
    favoured: np.ndarray = sum(((shelf.count(t) > 0).astype(np.int64) for t in _favoured(latest, context)),
                               np.zeros(len(shelf.products), dtype=np.int64))
    scores: np.ndarray = shelf.shares(latest.category_shares) + 0.25 * favoured + np.where(shelf.new, 0.1, 0.0)
    return scores


def _fit(latest: MonthSummary, context: Context) -> Callable[[Product], float]:
    """How well a piece sits with her latest month: its category's share of her views, the aesthetic
    tags she favours that it carries, and newness (what she favours worked out once per ranking)."""
    favoured = set(_favoured(latest, context))

    def fit(product: Product) -> float:
        return (latest.category_shares.get(product.category, 0.0) + 0.25 * len(favoured & set(product.tags))
                + (0.1 if is_new_arrival(product, context.at) else 0.0))

    return fit


def _recent(history: ClientHistory, tag: str, context: Context) -> list[Moment]:
    """Her latest views and saves of pieces carrying `tag` (a catalogue fact of the piece she viewed)."""
    found = [m for m in history.moments if m.name in ("Product Viewed", "Product Added to Wishlist")
             and (p := context.catalogue.get(str(m.product_id))) is not None and tag in p.tags]
    return found[-EVIDENCE:]


def _provenance(product: Product) -> tuple[str, ...]:
    """Catalogue facts about where a piece comes from: its maker and certifications."""
    return tuple(x for x in (product.maker, *product.certifications) if x)


def _provenance_text(product: Product) -> str:
    parts = []
    if product.maker:
        article = "an" if product.maker[0].lower() in "aeiou" else "a"
        parts.append(f"It is made by {article} {product.maker}")
    if product.certifications:
        parts.append(f"{'and' if parts else 'It is'} {listing(list(product.certifications))} certified")
    return (" " + " ".join(parts) + ".") if parts else ""


def _explore(product: Product, why: Reason) -> Item:
    found = item(product, why)
    return Item(found.product_id, found.price_eur, found.label, found.available_sizes, found.reason, exploratory=True)


def _with_values(why: Reason, tags: Iterable[str]) -> Reason:
    return Reason(why.text, why.data_categories, why.evidence, tuple(tags), why.attributes_cited)


def _pct(share: float) -> str:
    return percent(share)


def _section_text(items: Sequence[Item]) -> str:
    used = {c for i in items for c in i.reason.data_categories}
    sources = ["how your browsing has shifted month by month"]
    if VALUES in used:
        sources.append("values inferred from what you look at, save and read")
    if SIMILAR in used:
        sources.append("what clients with similar interests buy")
    text = f"Chosen from {listing(sources)}."
    if any(i.exploratory for i in items):
        text += " Pieces marked exploratory go beyond anything you have looked at; each says what it rests on."
    return text
