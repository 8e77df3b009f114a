"""Plain-words reasons from SHAP contributions, worded by the feature definitions.

A reason is a feature that pushed this client's score up and that the client actually shows
(a count above zero, a flag that is set, a known category): "viewed Atelier Collection pieces
3 times in the first 30 days". Nothing is written per catalogue; the spec's sentence is filled
with the client's own value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from maison.models.features.spec import Feature, FeatureSpec


def _shown(feature: Feature, value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if feature.kind == "category":
        return str(value) != ""
    if feature.kind == "flag":
        return float(value) >= 1
    return float(value) > 0


def sentence(feature: Feature, value: Any, *, days: int) -> str:
    text = feature.says.format(value=value if feature.kind == "category" else float(value), days=days)
    return re.sub(r"\b1 (\w+?)s\b", r"1 \1", text.replace(" 1 times", " once"))


def reasons(
    values: Mapping[str, Any],
    contributions: Mapping[str, float],
    spec: FeatureSpec,
    *,
    top: int = 3,
) -> list[str]:
    """Up to `top` sentences for the features that raised the score most, strongest first."""
    features = spec.by_name()
    ranked = sorted(((c, n) for n, c in contributions.items() if n in features and c > 0), reverse=True)
    said: list[str] = []
    for _, name in ranked:
        feature = features[name]
        if _shown(feature, values.get(name)):
            said.append(sentence(feature, values[name], days=spec.window_days))
        if len(said) == top:
            break
    return said
