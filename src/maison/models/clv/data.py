"""Validated model inputs, compressed to distinct rows with counts as weights.

Fader and Hardie fit on the distinct (frequency, recency, T) patterns weighted by how many
clients share each one; the likelihood is a weighted sum, so the fit is identical and the cost
scales with the number of patterns instead of the number of clients. Summaries in whole periods
(what `rfm_summary` produces) compress 10 million clients to a few hundred thousand rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

_MAX_BINCOUNT = 1 << 25  # dense counting below this many key values, sorting above


@dataclass(frozen=True)
class Rows:
    """Distinct rows (one array per column, sorted lexicographically) and their weights."""

    columns: tuple[Floats, ...]
    weight: Floats

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())

    def fingerprint(self) -> str:
        """sha256 of an order-free digest of the rows: the same clients in any order hash alike.

        Each row is mixed to 64 bits (splitmix64 over its columns' bits) and the mixes are summed
        modulo 2^64, twice with different seeds: O(n), no sort.
        """
        digest = hashlib.sha256(str(len(self.weight)).encode())
        for seed in (0x9E3779B97F4A7C15, 0xD1B54A32D192ED03):
            mixed = np.full(len(self.weight), seed, dtype=np.uint64)
            for column in (*self.columns, self.weight):
                bits = np.ascontiguousarray(column + 0.0, dtype=np.float64).view(np.uint64)  # -0.0 -> 0.0
                mixed = _splitmix64(mixed ^ bits)
            digest.update(np.sum(mixed, dtype=np.uint64).tobytes())
        return digest.hexdigest()


def _splitmix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def as_column(values: ArrayLike, name: str) -> Floats:
    """A 1-D finite float64 array, or a ModelInputError naming the column."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ModelInputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ModelInputError(f"{name} must be finite: it holds NaN or infinite values")
    return array


def check_lengths(**columns: Floats) -> int:
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ModelInputError("inputs must have one value per client", details=lengths)
    n = next(iter(lengths.values()))
    if n == 0:
        raise ModelInputError("inputs are empty: a model needs at least one client")
    return n


def check_counts(frequency: Floats) -> None:
    if (frequency < 0).any() or (frequency != np.floor(frequency)).any():
        raise ModelInputError("frequency must hold whole numbers >= 0 (repeat purchases)")


def rfm_columns(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Floats, Floats, Floats]:
    """Validated (frequency, recency, T) in one time unit, lifetimes' rules."""
    x, t_x, age = as_column(frequency, "frequency"), as_column(recency, "recency"), as_column(T, "T")
    check_lengths(frequency=x, recency=t_x, T=age)
    check_counts(x)
    if (t_x < 0).any():
        raise ModelInputError("recency must be >= 0 (time from first to last purchase)")
    if (t_x > age).any():
        raise ModelInputError("recency must be <= T (a last purchase cannot follow the end of observation)")
    if (t_x[x == 0] != 0).any():
        raise ModelInputError("recency must be 0 where frequency is 0 (no repeat purchase, no recency)")
    if (age <= 0).any():
        raise ModelInputError("T must be > 0 (time from first purchase to the end of observation)")
    return x, t_x, age


def weight_column(weights: ArrayLike | None, n: int) -> Floats | None:
    if weights is None:
        return None
    w = as_column(weights, "weights")
    check_lengths(weights=w, clients=np.empty(n))
    if (w < 0).any():
        raise ModelInputError("weights must be >= 0 (clients sharing each row)")
    if w.sum() <= 0:
        raise ModelInputError("weights must not all be 0")
    return w


def compress(*columns: Floats, weights: Floats | None = None) -> Rows:
    """Distinct rows of the columns with summed weights (1 per row when none are given)."""
    codes, values, radices = zip(*(_codes(col) for col in columns), strict=True)
    if _fits_int64(radices):
        unique_key, weight = _count(_combine(codes, radices), weights, int(np.prod(radices)))
        rows = _split(unique_key, radices)
    else:  # too many distinct values to pack in one integer: sort whole rows (slow, rare)
        stacked = np.stack(codes, axis=1)
        unique_rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
        weight = np.bincount(inverse.reshape(-1), weights=weights).astype(np.float64)
        rows = tuple(unique_rows[:, i] for i in range(unique_rows.shape[1]))
    keep = weight > 0
    return Rows(tuple(v[c[keep]] for v, c in zip(values, rows, strict=True)), weight[keep])


def group_index(*columns: Floats) -> tuple[tuple[Floats, ...], Ints]:
    """Distinct rows of the columns and, for each input row, the index of its distinct row."""
    codes, values, radices = zip(*(_codes(col) for col in columns), strict=True)
    if not _fits_int64(radices):
        unique_rows, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
        return tuple(unique_rows[:, i] for i in range(unique_rows.shape[1])), inverse.reshape(-1)
    unique_key, inverse = np.unique(_combine(codes, radices), return_inverse=True)
    parts = _split(unique_key, radices)
    return tuple(v[c] for v, c in zip(values, parts, strict=True)), inverse.reshape(-1).astype(np.int64)


GRIDS = (1, 7, 24, 100, 168)  # whole periods; days in weeks; hours in days; cents; hours in weeks


def _codes(col: Floats) -> tuple[Ints, Floats, int]:
    """Dense integer codes of a column, the value of each code, and the number of codes.

    Columns on a grid of step 1/k for a k in GRIDS (whole periods, days expressed in weeks,
    amounts in cents) are coded by offset from their minimum without sorting, if the grid
    reproduces every value exactly; other columns by position among their sorted distinct values.
    """
    lo, hi = float(col.min()), float(col.max())
    for k in GRIDS:
        if (hi - lo) * k >= _MAX_BINCOUNT:
            continue
        codes = col.astype(np.int64) if k == 1 else np.round(col * k).astype(np.int64)
        if np.array_equal(codes if k == 1 else codes / k, col):
            base = int(codes.min())
            codes -= base
            size = int(codes.max()) + 1
            return codes, (np.arange(size, dtype=np.float64) + base) / k, size
    distinct = np.unique(col)
    return np.searchsorted(distinct, col).astype(np.int64), distinct, len(distinct)


def _fits_int64(radices: tuple[int, ...]) -> bool:
    total = 1
    for r in radices:
        total *= r
    return total < (1 << 62)


def _combine(codes: tuple[Ints, ...], radices: tuple[int, ...]) -> Ints:
    key = codes[0].copy()
    for code, radix in zip(codes[1:], radices[1:], strict=True):
        key *= radix
        key += code
    return key


def _count(key: Ints, weights: Floats | None, span: int) -> tuple[Ints, Floats]:
    if span <= min(_MAX_BINCOUNT, max(1 << 20, 2 * len(key))):  # dense counts cost O(span) memory
        dense = np.bincount(key, weights=weights, minlength=span).astype(np.float64)
        present = np.flatnonzero(dense)
        return present.astype(np.int64), dense[present]
    if weights is None:
        unique_key, counts = np.unique(key, return_counts=True)
        return unique_key, counts.astype(np.float64)
    unique_key, inverse = np.unique(key, return_inverse=True)
    return unique_key, np.bincount(inverse, weights=weights).astype(np.float64)


def _split(key: Ints, radices: tuple[int, ...]) -> tuple[Ints, ...]:
    parts: list[Ints] = []
    rest = key.copy()
    for radix in reversed(radices[1:]):
        parts.append(rest % radix)
        rest //= radix
    parts.append(rest)
    return tuple(reversed(parts))


def weighted_count(codes: NDArray[np.integer[Any]], weights: Floats, size: int) -> Floats:
    """Sum of the weights per code 0..size-1, as floats."""
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64, copy=False)


def dot(a: Floats, b: Floats) -> float:
    """Sum of a * b without BLAS: a multi-threaded BLAS dot spins its threads on a busy machine
    and made the likelihood ten times slower on two cores shared with other work."""
    return float(np.einsum("i,i->", a, b))
