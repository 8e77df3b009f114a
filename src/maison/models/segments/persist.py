"""A fitted `SegmentModel` as plain JSON and back (pure): kept between processes without pickle.

The vocabulary is not stored: it is a function of the catalogue's facets and the content types
(`features.vocabulary`), and a stored model is only used under the data mark it was fitted
with, which includes the catalogue's. Floats go through JSON as their shortest exact repr, so a
model read back predicts exactly as the one fitted.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from maison.models.segments import features as F
from maison.models.segments.estimator import Segmenter

if TYPE_CHECKING:
    from maison.models.segments.service import SegmentModel

FORMAT = 2  # 2: the fitted range of each column (`low_`, `high_`) and the email open rate
_PARAMS = ("k_range", "min_size", "n_init", "sample", "random_state")
_ARRAYS = ("mean_", "scale_", "weights_", "low_", "high_", "centers_", "labels_", "sizes_", "profiles_")


def to_payload(model: SegmentModel) -> dict[str, Any]:
    """The model as JSON-ready values. ValueError when a learned value is not finite: JSON would
    store it as null and the model read back would not be the one fitted."""
    seg: Segmenter = model.segmenter
    if not all(np.isfinite(getattr(seg, a)).all() for a in _ARRAYS):
        raise ValueError("the segment model has values that are not finite")
    return {
        "format": FORMAT,
        "as_of": model.as_of.isoformat(),
        "model_version": model.model_version,
        "content_types": list(model.vocabulary.content_types),
        "segmenter": {
            "params": {p: list(v) if isinstance(v := getattr(seg, p), tuple) else v for p in _PARAMS},
            "arrays": {a: getattr(seg, a).tolist() for a in _ARRAYS},
            "k": int(seg.k_),
            "silhouette": float(seg.silhouette_),
            "added": list(seg.added_),
        },
        "segments": [{"segment_id": s.segment_id, "size": s.size, "description": s.description,
                      "members": list(s.members)} for s in model.segments],
        "pooled": model.pooled,
        "blocks": list(model.blocks),
    }


def from_payload(payload: dict[str, Any], vocabulary: F.Vocabulary) -> dict[str, Any]:
    """The keyword arguments of `service.SegmentModel` from a payload, with the vocabulary given.
    ValueError when the payload is of another format or does not fit the vocabulary."""
    if payload.get("format") != FORMAT:
        raise ValueError(f"segment model payload format {payload.get('format')!r}, expected {FORMAT}")
    if list(vocabulary.content_types) != payload["content_types"]:
        raise ValueError("the vocabulary's content types are not the model's")
    stored = payload["segmenter"]
    params = dict(stored["params"])
    params["k_range"] = tuple(params["k_range"])
    seg = Segmenter(**params)
    for name, values in stored["arrays"].items():
        setattr(seg, name, np.asarray(values, dtype=np.int64 if name in ("labels_", "sizes_") else np.float64))
    seg.k_, seg.silhouette_, seg.added_ = int(stored["k"]), float(stored["silhouette"]), tuple(stored["added"])
    blocks = tuple(payload["blocks"])
    if len(blocks) != seg.centers_.shape[1] or sum(1 for b in blocks if b != F.DECLARED) != len(vocabulary.features):
        raise ValueError("the model's columns do not match the vocabulary")
    return {
        "as_of": datetime.fromisoformat(payload["as_of"]),
        "model_version": payload["model_version"],
        "vocabulary": vocabulary,
        "segmenter": seg,
        "segments": [(s["segment_id"], s["size"], s["description"], tuple(s["members"]))
                     for s in payload["segments"]],
        "pooled": int(payload["pooled"]),
        "blocks": blocks,
    }
