"""The CDNOW data of Fader, Hardie & Lee (2005), as shipped inside the `lifetimes` package.

Evaluation and benchmark data only (install `maison[eval]`): 23,570 people who first bought
at CDNOW in Q1 1997, followed to 30 June 1998; the published sample is 2,357 of them. The files
are read directly, without importing lifetimes. Calibration is the 39 weeks to 30 Sep 1997 and
the holdout the 39 weeks after; time is in weeks at daily resolution, as in the papers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from maison.models.clv.rfm import CalibrationHoldout, RFMSummary, calibration_holdout
from maison.models.exceptions import MissingExtra

CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def dataset_dir() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra("the CDNOW data ships with lifetimes: install maison[eval]")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def published_summary() -> RFMSummary:
    """The 2,357-client calibration summary the papers fit (weeks; monetary = mean repeat spend)."""
    table = np.loadtxt(dataset_dir() / "cdnow_customers_summary_with_transactions.csv", delimiter=",", skiprows=1)
    return RFMSummary(table[:, 0].astype(np.int64), table[:, 1], table[:, 2], table[:, 3], table[:, 4])


def transactions(*, sample: bool = False) -> tuple[NDArray[np.int64], NDArray[np.datetime64], NDArray[np.float64]]:
    """(client id, purchase day, dollars) of all 23,570 clients, or of the 2,357 sampled ones."""
    path = dataset_dir() / ("CDNOW_sample.txt" if sample else "CDNOW_master.txt")
    id_col, date_col, dollars_col = (1, 2, 4) if sample else (0, 1, 3)
    table = np.loadtxt(path, skiprows=0 if sample else 1, usecols=(id_col, date_col, dollars_col))
    ymd = table[:, 1].astype(np.int64)
    months = ((ymd // 10000 - 1970) * 12 + ymd // 100 % 100 - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (ymd % 100 - 1)
    return table[:, 0].astype(np.int64), days.astype("datetime64[D]"), table[:, 2]


def weekly_split(*, sample: bool = False) -> CalibrationHoldout:
    """Calibration summary and holdout counts in weeks, purchases deduplicated per day."""
    ids, days, dollars = transactions(sample=sample)
    split = calibration_holdout(
        ids, days, dollars, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END, freq="D",
    )
    c = split.calibration
    weeks = RFMSummary(c.client_id, c.frequency, c.recency / 7, c.T / 7, c.monetary)
    return CalibrationHoldout(weeks, split.frequency_holdout, split.monetary_holdout, split.duration_holdout / 7)
