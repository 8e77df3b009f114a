"""A small store of clients who buy and drop out as BG/NBD assumes (seeded, synthetic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from helpers import consent_message
from maison.core.settings import IngestSettings
from maison.ingest.service import ingest

START = datetime(2025, 6, 2, tzinfo=UTC)  # a Monday
AS_OF = datetime(2026, 3, 2, tzinfo=UTC)
KEY = b"models-test-key"


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def purchase_messages(n_clients: int, *, seed: int) -> list[dict]:  # type: ignore[type-arg]
    """Consent (L2, every purpose) then orders: rate Gamma(2, 8) per week, dropout Beta(1, 3)
    after each repeat purchase, first order in the first 12 weeks, observed to AS_OF."""
    rng = np.random.default_rng(seed)
    messages: list[dict] = []  # type: ignore[type-arg]
    for i in range(n_clients):
        user = f"cus_{seed}_{i:04d}"
        first = START + timedelta(days=int(rng.integers(0, 84)), hours=10)
        messages.append(consent_message(at=iso(first - timedelta(hours=1)), userId=user))
        rate, dropout = rng.gamma(2.0, 1 / 8.0), rng.beta(1.0, 3.0)
        t, k = first, 0
        while t < AS_OF:
            messages.append({
                "type": "track", "event": "Order Completed", "userId": user, "messageId": f"o-{user}-{k}",
                "timestamp": iso(t),
                "properties": {"order_id": f"ord-{user}-{k}", "revenue": round(float(rng.gamma(4, 40)), 2),
                               "currency": "EUR"},
            })
            k += 1
            if k > 1 and rng.random() < dropout:
                break
            t += timedelta(weeks=float(rng.exponential(1 / rate)) + 0.2)
    return messages


def seed_store(engine: Engine, n_clients: int = 150, *, seed: int = 1) -> list[str]:
    """Ingest the synthetic clients; returns their user ids."""
    messages = purchase_messages(n_clients, seed=seed)
    with engine.begin() as conn:
        ingest(conn, messages, source="test", received_at=AS_OF, limits=IngestSettings(), suppression_key=KEY)
    return sorted({m["userId"] for m in messages})
