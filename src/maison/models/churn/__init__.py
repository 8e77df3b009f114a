"""Churn per client: P(alive) from BG/NBD and a calibrated LightGBM churn classifier."""

from maison.models.churn.model import ChurnModel, ChurnScore, churn_scores, probability_alive, train

__all__ = ["ChurnModel", "ChurnScore", "churn_scores", "probability_alive", "train"]
