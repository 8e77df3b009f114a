"""Future VIP from early signals: model, observed labels, reasons and store scoring."""

from maison.models.vip.model import FutureVipModel, train
from maison.models.vip.service import ClientScore, score_clients, train_from_store

__all__ = ["ClientScore", "FutureVipModel", "score_clients", "train", "train_from_store"]
