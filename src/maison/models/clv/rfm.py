"""Transactions -> per-client (frequency, recency, T, monetary), lifetimes' semantics, in NumPy.

- Time is cut into periods of `freq` ("H" hours, "D" days, "W" weeks from Monday as pandas'
  "W"); several purchases in one period count once and their amounts are summed.
- frequency: periods with a purchase after the first one (repeat purchases only).
- recency: periods from the first to the last purchase; T: from the first purchase to the end.
- monetary: mean amount of the repeat periods (the first purchase excluded), 0 without repeats.
- A purchase counts when its period is not after the end's period.

`calibration_holdout` splits at `calibration_end` like lifetimes' `calibration_and_holdout_data`:
purchases up to it build the summary, later ones up to `observation_end` are counted per period.
One deliberate difference: `monetary_holdout` is the mean per-period amount, as in calibration
(lifetimes averages raw transactions there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
FREQS = ("H", "D", "W")


@dataclass(frozen=True)
class RFMSummary:
    """One entry per client (sorted by id) that bought at least once by the end."""

    client_id: NDArray[Any]
    frequency: Floats
    recency: Floats
    T: Floats
    monetary: Floats


@dataclass(frozen=True)
class CalibrationHoldout:
    """The calibration summary and, for the same clients, what they did in the holdout."""

    calibration: RFMSummary
    frequency_holdout: Floats
    monetary_holdout: Floats
    duration_holdout: float


def rfm_summary(
    client_id: ArrayLike, timestamp: ArrayLike, amount: ArrayLike | None = None,
    *, observation_end: Any, freq: str = "W",
) -> RFMSummary:
    """Summarise purchases (one row each) up to `observation_end` in periods of `freq`."""
    ids, codes, periods, amounts = _transactions(client_id, timestamp, amount, freq)
    end = _period(_instant(observation_end), freq)
    keep = periods <= end
    return _summarise(ids, codes[keep], periods[keep], amounts[keep], end)


def calibration_holdout(
    client_id: ArrayLike, timestamp: ArrayLike, amount: ArrayLike | None = None,
    *, calibration_end: Any, observation_end: Any, freq: str = "W",
) -> CalibrationHoldout:
    """Summary up to `calibration_end` and purchases after it up to `observation_end`."""
    cal_end, obs_end = _instant(calibration_end), _instant(observation_end)
    if obs_end <= cal_end:
        raise ModelInputError("observation_end must be after calibration_end")
    ids, codes, periods, amounts = _transactions(client_id, timestamp, amount, freq)
    instants = _timestamps(timestamp)
    in_calibration = instants <= cal_end
    end = _period(cal_end, freq)
    summary = _summarise(ids, codes[in_calibration], periods[in_calibration], amounts[in_calibration], end)
    later = (instants > cal_end) & (instants <= obs_end)
    count, spend = _holdout_periods(summary.client_id, ids[codes[later]], periods[later], amounts[later])
    monetary = np.divide(spend, count, out=np.zeros_like(spend), where=count > 0)
    duration = float(_period(obs_end, freq) - end)
    return CalibrationHoldout(summary, count, monetary, duration)


def _transactions(
    client_id: ArrayLike, timestamp: ArrayLike, amount: ArrayLike | None, freq: str
) -> tuple[NDArray[Any], Ints, Ints, Floats]:
    if freq not in FREQS:
        raise ModelInputError(f"freq must be one of {', '.join(FREQS)} (hour, day, week), got {freq!r}")
    ids, codes = np.unique(np.asarray(client_id), return_inverse=True)
    instants = _timestamps(timestamp)
    n = len(instants)
    amounts = np.zeros(n) if amount is None else np.asarray(amount, dtype=np.float64)
    if len(codes) != n or len(amounts) != n:
        raise ModelInputError("client_id, timestamp and amount must have one value per purchase")
    if np.isnat(instants).any() or not np.isfinite(amounts).all():
        raise ModelInputError("timestamps and amounts must be present and finite")
    return ids, codes.reshape(-1).astype(np.int64), _period(instants, freq), amounts


def _summarise(ids: NDArray[Any], codes: Ints, periods: Ints, amounts: Floats, end: Any) -> RFMSummary:
    if len(codes) == 0:
        raise ModelInputError("no purchase falls before the end of the period")
    first_period = int(periods.min())
    span = int(periods.max()) - first_period + 1
    key = codes * span + (periods - first_period)
    unique_key, inverse = np.unique(key, return_inverse=True)
    spend = np.bincount(inverse.reshape(-1), weights=amounts)  # per (client, period), sorted
    client, period = unique_key // span, unique_key % span + first_period
    starts = np.flatnonzero(np.r_[True, client[1:] != client[:-1]])
    stops = np.r_[starts[1:], len(client)] - 1
    count = (stops - starts + 1).astype(np.float64)
    repeat_spend = np.add.reduceat(spend, starts) - spend[starts]
    frequency = count - 1
    monetary = np.divide(repeat_spend, frequency, out=np.zeros_like(repeat_spend), where=frequency > 0)
    return RFMSummary(
        client_id=ids[client[starts]],
        frequency=frequency,
        recency=(period[stops] - period[starts]).astype(np.float64),
        T=(int(end) - period[starts]).astype(np.float64),
        monetary=monetary,
    )


def _holdout_periods(
    known: NDArray[Any], client_id: NDArray[Any], periods: Ints, amounts: Floats
) -> tuple[Floats, Floats]:
    """Distinct purchase periods and their total amount for each `known` (sorted) client;
    purchases of clients not in `known` (first purchase after calibration) are left out."""
    n = len(known)
    position = np.searchsorted(known, client_id)
    inside = position < n
    inside[inside] = known[position[inside]] == client_id[inside]
    client, periods, amounts = position[inside].astype(np.int64), periods[inside], amounts[inside]
    if len(client) == 0:
        return np.zeros(n), np.zeros(n)
    first = int(periods.min())
    span = int(periods.max()) - first + 1
    unique_key = np.unique(client * span + (periods - first))
    count = np.bincount(unique_key // span, minlength=n).astype(np.float64)
    return count, np.bincount(client, weights=amounts, minlength=n).astype(np.float64)


def _period(instants: Any, freq: str) -> Any:
    """Integer period numbers; weeks start on Monday (1970-01-01 was a Thursday)."""
    if freq == "H":
        return np.asarray(instants).astype("datetime64[h]").astype(np.int64)
    days = np.asarray(instants).astype("datetime64[D]").astype(np.int64)
    return days if freq == "D" else (days + 3) // 7


def _timestamps(values: ArrayLike) -> NDArray[np.datetime64]:
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return array.astype("datetime64[us]")
    return np.array([_instant(v) for v in array.reshape(-1)], dtype="datetime64[us]")


def _instant(value: Any) -> np.datetime64:
    """A UTC instant without zone (aware datetimes are converted to UTC first)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    try:
        return np.datetime64(value, "us")
    except ValueError as exc:
        raise ModelInputError(f"not a timestamp: {type(value).__name__}") from exc
