"""Customer lifetime value: lifetimes' monthly discounting, and the Gamma-Gamma spend."""

from __future__ import annotations

import numpy as np
import pytest

from maison.models.clv import BGNBD, GammaGamma, ParetoNBD
from maison.models.exceptions import ModelInputError, NotFittedError

HISTORY = (np.array([0.0, 2.0, 7.0]), np.array([0.0, 20.0, 35.0]), np.array([38.0, 38.0, 38.0]))


def fitted_models() -> tuple[BGNBD, GammaGamma]:
    purchases, spend = BGNBD(), GammaGamma()
    purchases.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    spend.params_ = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    return purchases, spend


def test_clv_discounts_each_month_of_expected_purchases() -> None:
    purchases, spend = fitted_models()
    monetary = np.array([0.0, 30.0, 55.0])
    clv = spend.customer_lifetime_value(purchases, *HISTORY, monetary, time=6, discount_rate=0.02, freq="W")
    mean_spend = spend.conditional_expected_average_profit(HISTORY[0], monetary)
    expected = np.zeros(3)
    for month in range(1, 7):
        bought = (purchases.conditional_expected_purchases(month * 4.345, *HISTORY)
                  - purchases.conditional_expected_purchases((month - 1) * 4.345, *HISTORY))
        expected += mean_spend * bought / 1.02**month
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


def test_clv_without_discount_is_spend_times_purchases_over_the_horizon() -> None:
    purchases, spend = fitted_models()
    monetary = np.array([0.0, 30.0, 55.0])
    clv = spend.customer_lifetime_value(purchases, *HISTORY, monetary, time=12, discount_rate=0.0, freq="D")
    total = purchases.conditional_expected_purchases(360.0, *HISTORY)
    np.testing.assert_allclose(clv, spend.conditional_expected_average_profit(HISTORY[0], monetary) * total)


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    _, spend = fitted_models()
    population = 6.25 * 15.44 / (3.74 - 1)
    assert spend.conditional_expected_average_profit(0, 0.0) == pytest.approx(population)
    few, many = spend.conditional_expected_average_profit([1, 50], [100.0, 100.0])
    assert population < few < many < 100.0


def test_a_discount_frequency_outside_the_table_is_refused() -> None:
    purchases, spend = fitted_models()
    with pytest.raises(ModelInputError, match="H, D, W, M"):
        spend.customer_lifetime_value(purchases, *HISTORY, np.ones(3), freq="Y")


def test_clv_needs_a_fitted_transaction_model() -> None:
    _, spend = fitted_models()
    with pytest.raises(NotFittedError):
        spend.customer_lifetime_value(ParetoNBD(), *HISTORY, np.ones(3))


def test_churn_risk_is_one_minus_probability_alive() -> None:
    purchases, _ = fitted_models()
    alive = purchases.probability_alive(*HISTORY)
    assert alive[0] == 1.0  # no repeat purchase yet: BG/NBD has had no chance to see her leave
    assert 0 < alive[1] < 1 and 0 < alive[2] < 1
