"""Reading the place a client's traits state, in Maison's names or in the Segment spec's.

Maison's tracking plan names `city` and `country` as flat traits; Segment's identify spec
reserves an `address` object (`address.city`, `address.country`, ...) for the same facts, and
SDKs and shops that follow the spec send that. Both are read, the flat name first, so an
existing integration works unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def place(traits: Mapping[str, Any], key: str) -> str | None:
    """The trait `key` (`city`, `country`...) as stated flat, else inside `address`, as text;
    None when neither states it (null, empty, or not a scalar)."""
    for source in (traits, traits.get("address")):
        if isinstance(source, Mapping):
            value = source.get(key)
            if value is not None and not isinstance(value, bool | dict | list) and str(value).strip():
                return str(value).strip()
    return None
