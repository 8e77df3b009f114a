"""`summary_`: fitted parameters with standard errors and 95% intervals, like lifetimes' table.

A small frozen structure rather than a pandas DataFrame, so that the models need no pandas;
`to_pandas()` gives the lifetimes-shaped frame when pandas is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maison.models.exceptions import MissingExtra

Z_95 = 1.959963984540054  # two-sided 95% normal quantile


@dataclass(frozen=True)
class ParameterTable:
    """One row per parameter: estimate, standard error and a Wald 95% interval."""

    names: tuple[str, ...]
    coef: NDArray[np.float64]
    se: NDArray[np.float64]

    @property
    def lower(self) -> NDArray[np.float64]:
        return self.coef - Z_95 * self.se

    @property
    def upper(self) -> NDArray[np.float64]:
        return self.coef + Z_95 * self.se

    def __getitem__(self, name: str) -> dict[str, float]:
        if name not in self.names:
            raise KeyError(f"{name!r} is not a parameter; parameters are {', '.join(self.names)}")
        return self.to_dict()[name]

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            name: {"coef": float(c), "se": float(s), "lower 95%": float(lo), "upper 95%": float(hi)}
            for name, c, s, lo, hi in zip(self.names, self.coef, self.se, self.lower, self.upper, strict=True)
        }

    def to_pandas(self) -> Any:
        """A DataFrame with lifetimes' columns: coef, se(coef), lower 95% bound, upper 95% bound."""
        try:
            import pandas as pd
        except ImportError as exc:  # pandas comes with the `eval` extra
            raise MissingExtra("to_pandas needs pandas: install maison[eval]") from exc
        return pd.DataFrame(
            {"coef": self.coef, "se(coef)": self.se, "lower 95% bound": self.lower, "upper 95% bound": self.upper},
            index=list(self.names),
        )

    def __str__(self) -> str:
        head = f"{'':>8} {'coef':>12} {'se(coef)':>12} {'lower 95%':>12} {'upper 95%':>12}"
        lines = [head] + [
            f"{n:>8} {c:>12.6g} {s:>12.6g} {lo:>12.6g} {hi:>12.6g}"
            for n, c, s, lo, hi in zip(self.names, self.coef, self.se, self.lower, self.upper, strict=True)
        ]
        return "\n".join(lines)
