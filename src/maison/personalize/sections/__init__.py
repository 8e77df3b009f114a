"""Digest sections beyond L1, one module per kind of section, each a pure `build(inputs)`.

A builder takes the composer's `DigestInputs` (the client's usable history, the catalogue,
market signals, ...) and returns the sections it can justify, possibly none. The composer runs
the builders of the client's level in the order listed here, then curates the whole selection
(no product twice, brand-safety rules). A builder must list, on every item, exactly the
purposes its reason relies on, and only purposes in `inputs.allowed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs
    from maison.personalize.entities import Section

Builder = Callable[["DigestInputs"], "list[Section]"]

# Filled in by the L2 and L3 section modules (imported here, listed in digest order).
L2_BUILDERS: Sequence[Builder] = ()
L3_BUILDERS: Sequence[Builder] = ()
