"""Early-signal features written once as Ibis expressions (DuckDB by default, Spark when needed)."""

from maison.models.features.pipeline import build, compute
from maison.models.features.spec import Feature, FeatureSpec, spec_for

__all__ = ["Feature", "FeatureSpec", "build", "compute", "spec_for"]
