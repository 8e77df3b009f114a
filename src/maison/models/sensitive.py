"""Sensitive features for the fairness audit: age band, income band and geography per client.

They come from the traits clients declared (`identify`), read through the consent gateway
for profiling. A client whose consent does not allow their demographics to be used is in the
group "unknown" for every feature: the audit still counts them, without their traits. Traits
of an `identify` filed under `declared_categories` (one that also states categories) are used
only while `demographics` may be used too, as the digest's time zone reader does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import Connection

from maison.consent import gateway
from maison.consent import service as consent
from maison.consent.entities import Use
from maison.consent.readers import declare
from maison.core.traits import place
from maison.models.fairness import NO_ATTRIBUTE

UNKNOWN = NO_ATTRIBUTE  # reported as its own group by the audit, never rated
FEATURES = {"age_band": "age_band", "income_band": "income_band", "geography": "country"}  # feature -> trait
READER = declare(
    "models.fairness.demographics",
    use=Use.PROFILE,
    categories=("demographics", "declared_categories"),
    why="The fairness audit of a score compares selection and true-positive rates by age band, income band "
        "and country; it reports groups, never individuals.",
)


def sensitive_features(conn: Connection, client_ids: Sequence[str], *, at: datetime) -> dict[str, np.ndarray]:
    """One array per feature, aligned with `client_ids`: each client's latest declared value before `at`."""
    ids = list(client_ids)
    book = consent.book(conn, ids)
    found = gateway.read(conn, READER, ids, at=at)
    columns = {name: np.full(len(ids), UNKNOWN, dtype=object) for name in FEATURES}
    for i, client_id in enumerate(ids):
        if not book.may(client_id, "demographics", Use.PROFILE, at):
            continue
        for row in found.get(client_id, ()):  # in time order: later statements win
            traits = row.get("traits") or {}
            for name, trait in FEATURES.items():
                value = place(traits, trait)  # a country may come in Segment's `address` trait
                if value is not None:
                    columns[name][i] = value
    return columns
