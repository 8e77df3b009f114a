"""The CDNOW figures of Fader, Hardie & Lee (2005) and Fader & Hardie's note 025, to three
significant figures, on the 2,357-client sample with 39 weeks of calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from maison.models.clv import BGNBD, GammaGamma, ParetoNBD, cdnow, holdout_report, holdout_table

pytestmark = pytest.mark.usefixtures("cdnow_available")


def sig3(value: float) -> float:
    return float(f"{value:.3g}")


def assert_published(fitted: dict[str, float], published: dict[str, float]) -> None:
    for name, value in published.items():
        assert sig3(fitted[name]) == sig3(value), f"{name}: fitted {fitted[name]:.6g}, published {value}"


def test_bgnbd_reproduces_fader_hardie_lee_2005_cdnow() -> None:
    data = cdnow.published_summary()
    model = BGNBD().fit(data.frequency, data.recency, data.T)
    assert_published(model.params_, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert round(model.log_likelihood_, 1) == -9582.4
    assert model.n_clients_ == 2357


def test_pareto_nbd_reproduces_fader_hardie_lee_2005_cdnow() -> None:
    data = cdnow.published_summary()
    model = ParetoNBD().fit(data.frequency, data.recency, data.T)
    assert_published(model.params_, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    assert round(model.log_likelihood_, 1) == -9595.0


def test_gamma_gamma_reproduces_fader_hardie_note_025_cdnow() -> None:
    data = cdnow.published_summary()
    model = GammaGamma().fit(data.frequency, data.monetary)
    assert_published(model.params_, {"p": 6.25, "q": 3.74, "gamma": 15.44})
    assert model.n_clients_ == 946  # repeat buyers only


def test_standard_errors_match_lifetimes_for_bgnbd() -> None:
    data = cdnow.published_summary()
    se = BGNBD().fit(data.frequency, data.recency, data.T).summary_.se
    # lifetimes 0.11.3 BetaGeoFitter.summary on the same data
    np.testing.assert_allclose(se, [0.012557, 0.378221, 0.185719, 0.705345], rtol=1e-3)


def test_rfm_summary_of_the_sample_transactions_is_the_published_summary() -> None:
    split = cdnow.weekly_split(sample=True)
    published = cdnow.published_summary()
    c = split.calibration
    np.testing.assert_array_equal(c.client_id, published.client_id)
    np.testing.assert_array_equal(c.frequency, published.frequency)
    np.testing.assert_allclose(c.recency, published.recency, atol=0.005)  # published to 2 decimals
    np.testing.assert_allclose(c.T, published.T, atol=0.005)
    np.testing.assert_allclose(c.monetary, published.monetary, atol=0.005 + 1e-9)
    assert split.duration_holdout == 39


def test_holdout_conditional_expectations_track_actual_purchases(tmp_path: Path, matplotlib_available: None) -> None:
    split = cdnow.weekly_split(sample=True)
    c = split.calibration
    model = BGNBD().fit(c.frequency, c.recency, c.T)
    table = holdout_report(model, split, chart=tmp_path / "holdout.png")
    assert table.bucket == ("0", "1", "2", "3", "4", "5", "6", "7+")
    assert table.clients.sum() == 2357
    assert (tmp_path / "holdout.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # FHL 2005, figure 4: the model follows the actual means, within 30% in every bucket
    np.testing.assert_allclose(table.predicted, table.actual, rtol=0.3)
    assert table.total_predicted == pytest.approx(table.total_actual, rel=0.15)


def test_holdout_table_needs_no_matplotlib() -> None:
    split = cdnow.weekly_split(sample=True)
    c = split.calibration
    table = holdout_table(ParetoNBD().fit(c.frequency, c.recency, c.T), split, max_frequency=3)
    assert table.bucket == ("0", "1", "2", "3+")
