"""A seeded synthetic world of early signals: long events, a catalogue, and who became VIP."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maison.models.features.spec import DAY

CATALOG = pd.DataFrame(
    {
        "product_id": [f"P{i}" for i in range(12)],
        "category": ["Coats"] * 4 + ["Scarves"] * 4 + ["Candles"] * 4,
        "price": [900.0, 1200.0, 1500.0, 2000.0, 150.0, 200.0, 250.0, 300.0, 40.0, 60.0, 80.0, 100.0],
    }
)
COLLECTIONS = pd.DataFrame({"product_id": ["P2", "P3", "P7"], "collection": ["Maison Atelier"] * 3})
START = 1_760_000_000


def world(n: int = 600, *, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Events of `n` clients over their first 60 days, and a hidden VIP label driven by the
    first 30 days (expensive views, Atelier views, first order size) plus noise."""
    events, value = world_values(n, seed=seed)
    return events, (value >= value.quantile(0.9)).astype(int)


def world_values(n: int = 600, *, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """`world`'s events with the hidden value behind its label (the top 10 % of it are VIPs)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    vip = {}
    for i in range(n):
        cid = f"c{i:04d}"
        t0 = START + int(rng.integers(0, 120)) * DAY
        taste = rng.beta(2, 5)
        visits = 1 + rng.poisson(4 * taste + 1)
        views_high = 0
        for v in range(visits):
            ts = t0 + int(rng.integers(0, 60 * DAY)) if v else t0
            for k in range(1 + rng.poisson(3)):
                p = int(rng.integers(0, 4)) if rng.random() < taste else int(rng.integers(4, 12))
                views_high += int(p < 4 and ts < t0 + 30 * DAY)
                rows.append(
                    {
                        "client_id": cid,
                        "t": ts + 60 * k,
                        "month": 1,
                        "event": "Product Viewed",
                        "product_id": f"P{p}",
                        "dwell_seconds": float(rng.integers(5, 200)),
                    }
                )
            if rng.random() < 0.3:
                rows.append({"client_id": cid, "t": ts + 600, "month": 1, "event": "Email Opened"})
        if rng.random() < 0.7:
            p = int(rng.integers(0, 4)) if rng.random() < taste else int(rng.integers(4, 12))
            price = float(CATALOG.price[p])
            ts = t0 + int(rng.integers(0, 25 * DAY))
            rows.append({"client_id": cid, "t": ts - 60, "month": 2, "event": "Product Added", "product_id": f"P{p}"})
            rows.append(
                {
                    "client_id": cid,
                    "t": ts,
                    "month": 2,
                    "event": "Order Completed",
                    "product_id": f"P{p}",
                    "order_id": f"o{i}",
                    "amount": price,
                    "store_id": "paris" if rng.random() < 0.2 else None,
                }
            )
        vip[cid] = 2.5 * taste + 0.15 * views_high + rng.normal(0, 0.4)
    return pd.DataFrame(rows), pd.Series(vip)
