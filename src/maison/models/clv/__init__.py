"""Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma by maximum likelihood.

    summary = rfm_summary(client_id, timestamp, amount, observation_end=now, freq="W")
    purchases = BGNBD().fit(summary.frequency, summary.recency, summary.T)
    spend = GammaGamma().fit(summary.frequency, summary.monetary)
    purchases.probability_alive(...)               # churn risk = 1 - P(alive)
    spend.customer_lifetime_value(purchases, ..., time=12, discount_rate=0.01, freq="W")

Estimators follow scikit-learn (hyper-parameters in `__init__`, `fit` returns self, learned
state ends in `_`) and lifetimes' formulas; the CDNOW tests hold them to the published figures.
"""

from maison.models.clv.bgnbd import BGNBD
from maison.models.clv.gamma_gamma import GammaGamma
from maison.models.clv.holdout import HoldoutTable, holdout_report, holdout_table
from maison.models.clv.pareto_nbd import ParetoNBD
from maison.models.clv.rfm import CalibrationHoldout, RFMSummary, calibration_holdout, rfm_summary
from maison.models.clv.summary import ParameterTable
from maison.models.clv.value import discounted_value

__all__ = [
    "BGNBD", "CalibrationHoldout", "GammaGamma", "HoldoutTable", "ParameterTable", "ParetoNBD",
    "RFMSummary", "calibration_holdout", "discounted_value", "holdout_report", "holdout_table", "rfm_summary",
]
