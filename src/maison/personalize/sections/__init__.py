"""Digest sections beyond L1, one module per kind of section, each a pure `build(inputs)`.

A builder takes the composer's `DigestInputs` (the client's usable history, the catalogue,
market signals, ...) and returns the sections it can justify, possibly none. The composer runs
the builders of the client's level in the order listed here, then curates the whole selection
(no product twice, brand-safety rules); `inputs.shown` holds the products of the sections built
before, for a builder that would rather pick something else than lose a slot to curation. A
builder must list, on every item, exactly the purposes its reason relies on, and only purposes
in `inputs.allowed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs
    from maison.personalize.entities import Section

Builder = Callable[["DigestInputs"], "list[Section]"]

# Filled in by the L2 and L3 section modules (imported here, listed in digest order).
from maison.personalize.sections import (  # noqa: E402  (after `Builder`, which they may name)
    abandoned_cart,
    browsing_new_category,
    considered_items,
    content_new_arrivals,
    search_coordinates,
)

L2_BUILDERS: Sequence[Builder] = (
    abandoned_cart.build,
    considered_items.build,
    search_coordinates.build,
    content_new_arrivals.build,
    browsing_new_category.build,
)
from maison.personalize.sections import identity_predictive  # noqa: E402

L3_BUILDERS: Sequence[Builder] = (identity_predictive.build,)
