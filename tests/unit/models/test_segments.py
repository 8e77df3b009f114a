"""Behavioural segments on a catalogue that is not the scenario's: columns, decay, clusters, words.

A tea merchant with its own categories, tags and content types: nothing in the method may
depend on the fashion catalogue the scenario uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from maison.ingest.rules import normalize
from maison.models.exceptions import ModelInputError, NotFittedError
from maison.models.segments import features as F
from maison.models.segments.describe import describe
from maison.models.segments.estimator import Segmenter, reliability

AT = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Tea:
    product_id: str
    category: str
    tags: tuple[str, ...]
    price: Decimal


CATALOGUE = [
    *(Tea(f"T-{i}", "Loose Tea", ("organic",) if i % 2 else ("blend",), Decimal(12 + i)) for i in range(8)),
    *(Tea(f"W-{i}", "Teaware", ("handmade",), Decimal(80 + 10 * i)) for i in range(6)),
    *(Tea(f"B-{i}", "Books", ("gift",), Decimal(30 + i)) for i in range(4)),
]
VOCAB = F.vocabulary(CATALOGUE, ["farm_story", "brewing_guide"])


def view(pid: str, at: datetime, dwell: int = 30) -> dict[str, Any]:
    return {"type": "track", "event": "Product Viewed", "data_category": F.BROWSING, "timestamp": at.isoformat(),
            "properties": {"product_id": pid, "dwell_seconds": dwell}}


def page(kind: str, at: datetime, dwell: int = 120) -> dict[str, Any]:
    return {"type": "page", "name": kind, "data_category": F.CONTENT, "timestamp": at.isoformat(),
            "properties": {"content_type": kind, "dwell_seconds": dwell}}


def opened(at: datetime) -> dict[str, Any]:
    return {"type": "track", "event": "Email Opened", "data_category": F.EMAIL, "timestamp": at.isoformat(),
            "properties": {}}


def value(x: np.ndarray, kind: str, name: str) -> float:
    return float(x[VOCAB.columns_by_key()[kind, name]])


def test_columns_come_from_the_catalogue_given() -> None:
    kinds = {(f.kind, f.value) for f in VOCAB.features}
    assert {("category", "Loose Tea"), ("category", "Teaware"), ("tag", "handmade"), ("tag", "gift")} <= kinds
    assert ("content_type", "farm_story") in kinds and ("bought", "Books") in kinds
    assert not any(f.value in ("Knitwear", "sustainable") for f in VOCAB.features)


def test_view_shares_are_shares_and_later_events_are_ignored() -> None:
    rows = [view("T-1", AT - timedelta(days=1)), view("W-0", AT - timedelta(days=1)),
            view("B-0", AT + timedelta(hours=1))]  # after the instant: never counts
    x = F.client_vector(rows, VOCAB, at=AT)
    assert value(x, "category", "Loose Tea") == pytest.approx(0.5)
    assert value(x, "category", "Teaware") == pytest.approx(0.5)
    assert value(x, "category", "Books") == 0.0
    assert value(x, "tag", "organic") == pytest.approx(0.5)


def test_recent_behaviour_outweighs_old_behaviour() -> None:
    rows = [view("T-1", AT - timedelta(days=120)), view("T-3", AT - timedelta(days=120)),
            view("W-0", AT - timedelta(days=2))]
    x = F.client_vector(rows, VOCAB, at=AT)
    assert value(x, "category", "Teaware") > 0.9


def test_email_opens_are_read_in_the_events_own_local_time() -> None:
    evening_in_tokyo = datetime(2026, 2, 20, 19, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 10:00 UTC
    x = F.client_vector([opened(evening_in_tokyo)], VOCAB, at=AT)
    assert value(x, "open_time", "evening") == pytest.approx(1.0)
    assert value(x, "open_time", "morning") == 0.0


def stored_open(message: dict[str, Any], *, received_at: datetime) -> dict[str, Any]:
    """An `Email Opened` message as ingest stores it and a reader gets it back."""
    event = normalize(message, received_at=received_at, max_event_bytes=32_000)
    return {**event.raw, "data_category": event.data_category}


@pytest.mark.parametrize("sdk_sent_at", [False, True], ids=["no sentAt", "skew-corrected by sentAt"])
def test_an_email_opened_in_the_evening_in_new_york_is_an_evening_open_however_it_was_sent(sdk_sent_at: bool) -> None:
    """SDKs send `sentAt`, and ingest then stores the skew-corrected instant, in UTC: 20:00 in New
    York is 01:00 there. The open is still read in the client's local time, as profiles and send
    times read it: the zone the event carried, else the offset of the client's own timestamp."""
    local = datetime(2026, 2, 20, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    received = local.astimezone(UTC) + timedelta(seconds=3)
    for context in ({"timezone": "America/New_York"}, {}):  # with the zone, and with only the offset
        message = {"type": "track", "event": "Email Opened", "userId": "u1", "properties": {},
                   "timestamp": local.isoformat(), "context": context}
        if sdk_sent_at:
            message["sentAt"] = (local + timedelta(seconds=1)).isoformat()
        row = stored_open(message, received_at=received)
        assert row["data_category"] == F.EMAIL
        x = F.client_vector([row], VOCAB, at=AT)
        assert value(x, "open_time", "evening") == pytest.approx(1.0), (context, row["timestamp"])
        assert value(x, "open_time", "night") == 0.0


def test_email_opens_per_week_are_a_rate_over_the_weeks_seen() -> None:
    """How often a client opens, beside when: a weekly opener and one who opens one email in four,
    both known for eight weeks, differ; a newcomer's one open yesterday is not seven a week."""
    known = view("T-1", AT - timedelta(weeks=8))
    weekly = F.client_vector([known, *(opened(AT - timedelta(weeks=w)) for w in range(1, 9))], VOCAB, at=AT)
    monthly = F.client_vector([known, *(opened(AT - timedelta(weeks=w)) for w in (1, 5))], VOCAB, at=AT)
    assert value(weekly, "open_rate", "log opens per week") > value(monthly, "open_rate", "log opens per week") + 0.3
    assert sum(value(weekly, "open_time", p) for p in F.PARTS_OF_DAY) == pytest.approx(1.0)  # still shares
    newcomer = F.client_vector([opened(AT - timedelta(days=1))], VOCAB, at=AT)
    assert value(newcomer, "open_rate", "log opens per week") <= np.log1p(1.0)  # at least one week observed
    never = F.client_vector([known], VOCAB, at=AT)
    assert value(never, "open_rate", "log opens per week") == 0.0
    # the weeks start at the first event some block rests on: an older save (no view) or an order of
    # a piece the catalogue does not hold is no evidence, and leaves the rate as it was
    early = [saved("T-1", AT - timedelta(weeks=20)), ordered("unknown", AT - timedelta(weeks=30))]
    with_early = F.client_vector([*early, known, *(opened(AT - timedelta(weeks=w)) for w in range(1, 9))], VOCAB, at=AT)
    assert value(with_early, "open_rate", "log opens per week") == value(weekly, "open_rate", "log opens per week")


def planted(seed: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """120 tea clients of three tastes: organic tea + farm stories in the morning, handmade teaware
    in the evening with long visits, gift books in the afternoon."""
    rng = random.Random(seed)
    tastes = [("T-1", "T-3", "T-5"), ("W-0", "W-2", "W-4"), ("B-0", "B-1", "B-2")]
    reads = ["farm_story", "brewing_guide", None]
    hours = [8, 20, 14]
    vectors, truth = [], []
    for n in range(120):
        t = n % 3
        rows = []
        for _ in range(rng.randint(6, 14)):
            pid = rng.choice(tastes[t]) if rng.random() < 0.85 else rng.choice(CATALOGUE).product_id
            dwell = rng.randint(20, 60) * (3 if t == 1 else 1)
            rows.append(view(pid, AT - timedelta(days=rng.uniform(1, 60)), dwell=dwell))
        if reads[t]:
            rows += [page(str(reads[t]), AT - timedelta(days=rng.uniform(1, 60))) for _ in range(rng.randint(1, 4))]
        opens = rng.randint(2, 9)  # members open more or less often: the open rate varies as in a clientele
        rows += [opened((AT - timedelta(days=rng.randint(1, 50))).replace(hour=hours[t])) for _ in range(opens)]
        vectors.append(F.client_vector(rows, VOCAB, at=AT))
        truth.append(["organic", "teaware", "books"][t])
    return np.vstack(vectors), np.ones((120, len(VOCAB.features)), dtype=bool), truth


def purity(labels: np.ndarray, truth: list[str]) -> float:
    total = 0
    for s in set(labels.tolist()):
        members = [truth[i] for i in np.where(labels == s)[0]]
        total += max(members.count(t) for t in set(members))
    return total / len(truth)


def test_planted_tastes_are_found_as_segments() -> None:
    x, available, truth = planted()
    model = Segmenter(k_range=(2, 6), min_size=10).fit(x, available, [f.block for f in VOCAB.features])
    assert model.k_ >= 3
    assert purity(model.labels_, truth) > 0.9
    assert model.sizes_.sum() == 120 and model.sizes_.min() >= 10


def test_a_client_is_placed_by_the_blocks_it_may_use_only() -> None:
    x, available, truth = planted()
    blocks = [f.block for f in VOCAB.features]
    model = Segmenter(k_range=(3, 3), min_size=10).fit(x, available, blocks)
    reader = x[0]  # an organic-tea client; their browsing is withheld, reading and email opens remain
    without_browsing = np.array([b != F.BROWSING for b in blocks])
    scrambled = reader.copy()
    scrambled[~without_browsing] = x[1][~without_browsing]  # what browsing would say is ignored
    assert model.predict(scrambled, without_browsing)[0] == model.labels_[0]
    assert model.predict(reader, np.zeros(len(blocks), dtype=bool))[0] == -1


def test_segments_are_described_by_what_sets_them_apart() -> None:
    x, available, truth = planted()
    model = Segmenter(k_range=(3, 3), min_size=10).fit(x, available, [f.block for f in VOCAB.features])
    words = {truth[int(np.where(model.labels_ == s)[0][0])]: describe(model.profiles_[s], VOCAB.features)
             for s in range(model.k_)}
    assert "farm story" in words["organic"] and "morning email opens" in words["organic"]
    assert "teaware" in words["teaware"] and "evening email opens" in words["teaware"]
    assert "books" in words["books"] and "gift" in words["books"]
    assert "teaware" not in words["organic"]


def test_describe_groups_views_into_one_phrase() -> None:
    features = (F.Feature(F.CONTENT, "content_type", "sourcing"), F.Feature(F.BROWSING, "category", "Knitwear"),
                F.Feature(F.BROWSING, "tag", "sustainable"), F.Feature(F.BROWSING, "tag", "artisan"),
                F.Feature(F.EMAIL, "open_time", "evening"), F.Feature(F.EMAIL, "open_time", "morning"))
    text = describe(np.array([1.2, 0.9, 0.8, 0.7, 1.0, -1.0]), features)
    assert text == "reads sourcing pages, views knitwear, sustainable and artisan pieces, evening email opens"
    assert describe(np.zeros(len(features)), features) == "browses much like the clientele as a whole"
    habits = (F.Feature(F.EMAIL, "open_rate", "log opens per week"), F.Feature(F.BROWSING, "dwell", "mean log seconds"))
    assert describe(np.array([1.5, 0.8]), habits) == "opens emails often and long product visits"


def test_the_estimator_refuses_bad_input_and_use_before_fit() -> None:
    with pytest.raises(NotFittedError):
        Segmenter().predict(np.zeros(3), np.ones(3, dtype=bool))
    with pytest.raises(ModelInputError):
        Segmenter().fit(np.zeros((50, 3)), np.ones((50, 2), dtype=bool), ["a", "a", "b"])
    with pytest.raises(ModelInputError):
        Segmenter(k_range=(4, 10)).fit(np.zeros((10, 2)), np.ones((10, 2), dtype=bool), ["a", "b"])


# ---------------------------------------------------------------- cold start: placing thin behaviour


def organic_model() -> tuple[Segmenter, np.ndarray, list[str]]:
    x, available, truth = planted()
    model = Segmenter(k_range=(3, 3), min_size=10).fit(x, available, [f.block for f in VOCAB.features])
    labels = {t: int(model.labels_[truth.index(t)]) for t in ("organic", "teaware", "books")}
    return model, np.array([labels[t] for t in truth]), truth


def placed(model: Segmenter, rows: list[dict[str, Any]], *, weighted: bool = True) -> int:
    x = F.client_vector(rows, VOCAB, at=AT)
    blocks = [f.block for f in VOCAB.features]
    weight = reliability(F.block_evidence(rows, VOCAB, at=AT), blocks) if weighted else None
    return int(model.predict(x, np.ones(len(blocks), dtype=bool), reliability=weight)[0])


def test_block_evidence_counts_the_events_each_block_rests_on() -> None:
    rows = [view("T-1", AT - timedelta(hours=1)), view("W-0", AT - timedelta(hours=1)),
            page("farm_story", AT - timedelta(days=28)), opened(AT + timedelta(hours=1))]
    evidence = F.block_evidence(rows, VOCAB, at=AT)
    assert evidence[F.BROWSING] == pytest.approx(2 * 0.5 ** (1 / 24 / F.HALF_LIFE_DAYS))
    assert evidence[F.CONTENT] == pytest.approx(0.5)  # one visit, a half-life ago
    assert evidence[F.EMAIL] == 0.0 and evidence[F.PURCHASES] == 0.0  # the open is after the instant


def saved(pid: str, at: datetime) -> dict[str, Any]:
    return {"type": "track", "event": "Product Added to Wishlist", "data_category": F.BROWSING,
            "timestamp": at.isoformat(), "properties": {"product_id": pid}}


def ordered(pid: str, at: datetime) -> dict[str, Any]:
    return {"type": "track", "event": "Order Completed", "data_category": F.PURCHASES, "timestamp": at.isoformat(),
            "properties": {"products": [{"product_id": pid, "quantity": 1}]}}


@pytest.mark.parametrize("seed", range(12))
def test_the_blocks_without_evidence_add_nothing_to_the_vector(seed: int) -> None:
    """A placement uses the vector of all a client's rows with only the blocks that have evidence
    (`vector_and_evidence`): rows of a block with none (saves without views, orders of unknown
    pieces, opens after the instant) must leave the vector as the other blocks' rows alone give it."""
    rng = random.Random(seed)
    makers = [lambda t: view(rng.choice(CATALOGUE).product_id, t), lambda t: saved("T-1", t),
              lambda t: page(rng.choice(["farm_story", "brewing_guide"]), t), lambda t: opened(t),
              lambda t: ordered(rng.choice([CATALOGUE[0].product_id, "unknown"]), t)]
    kinds = rng.sample(makers, rng.randint(1, len(makers)))
    rows = [rng.choice(kinds)(AT + timedelta(hours=rng.randint(-900, 5))) for _ in range(rng.randint(1, 20))]

    x, evidence = F.vector_and_evidence(rows, VOCAB, at=AT)
    with_evidence = [r for r in rows if evidence[r["data_category"]] > 0]
    assert np.array_equal(x, F.client_vector(with_evidence, VOCAB, at=AT))
    assert evidence == F.block_evidence(rows, VOCAB, at=AT)


@pytest.mark.parametrize("seed", range(12))
def test_a_fit_tallies_rows_as_stored_as_a_placement_tallies_them_as_read(seed: int) -> None:
    """The fit reads every pooled client's rows as stored (instant, category, message: no copy of the
    message, no timestamp parsed again); a placement reads the messages with their category added.
    Both must give the same vector, or clients would be placed in segments fitted on other numbers."""
    rng = random.Random(seed)
    makers = [lambda t: view(rng.choice(CATALOGUE).product_id, t, rng.randint(0, 300)), lambda t: saved("T-1", t),
              lambda t: page(rng.choice(["farm_story", "brewing_guide", "unlisted"]), t), lambda t: opened(t),
              lambda t: ordered(rng.choice([CATALOGUE[0].product_id, "unknown"]), t)]
    rows = [rng.choice(makers)(AT + timedelta(hours=rng.randint(-900, 5), minutes=rng.randint(0, 59)))
            for _ in range(rng.randint(1, 40))]
    rows.sort(key=lambda r: r["timestamp"])
    stored = [(datetime.fromisoformat(r["timestamp"]), r["data_category"],
               {k: v for k, v in r.items() if k != "data_category"}) for r in rows]
    assert np.array_equal(F.stored_vector(stored, VOCAB, at=AT), F.client_vector(rows, VOCAB, at=AT))
    assert F.content_types_seen(stored) == {r["properties"]["content_type"] for r in rows if r["type"] == "page"}


def test_reliability_grows_with_evidence_and_is_zero_without() -> None:
    weight = reliability({F.BROWSING: 9.0, F.CONTENT: 1.0}, [F.BROWSING, F.CONTENT, F.EMAIL], prior_events=1.0)
    assert weight.tolist() == pytest.approx([0.9, 0.5, 0.0])
    with pytest.raises(ModelInputError, match="prior_events"):
        reliability({}, [F.BROWSING], prior_events=0)


def test_a_client_with_evidence_in_one_block_only_is_placed_by_that_block() -> None:
    model, labels, truth = organic_model()
    mornings = [opened((AT - timedelta(days=d)).replace(hour=8)) for d in range(1, 7)]
    assert placed(model, mornings) == labels[truth.index("organic")]
    evenings = [opened((AT - timedelta(days=d)).replace(hour=20)) for d in range(1, 7)]
    assert placed(model, evenings) == labels[truth.index("teaware")]


def test_a_block_resting_on_one_event_yields_to_one_with_many() -> None:
    model, labels, truth = organic_model()
    # Ten morning opens (organic tea drinkers) and one long look at a teapot: the single view says
    # "100 % teaware, long visits", which alone would outweigh the opens; weighed by evidence it does
    # not. (Six opens did it while the email block was four parts of day; its fifth column, the
    # open rate, takes a fifth of the block's weight from them, and six is now a near tie.)
    rows = [*(opened((AT - timedelta(days=d)).replace(hour=8)) for d in range(1, 11)),
            view("W-2", AT - timedelta(days=1), dwell=150)]
    assert placed(model, rows, weighted=False) == labels[truth.index("teaware")]
    assert placed(model, rows) == labels[truth.index("organic")]


def test_a_value_beyond_every_fitted_clients_does_not_decide_alone() -> None:
    """Two groups apart in their first column, a hair apart in the second: a client sitting in the
    first group by the first column, but a thousand times beyond anyone in the second, stays there.
    Unclipped, the outlier's squared distance would turn the hair into the whole decision."""
    rng = np.random.default_rng(5)
    group = np.repeat([0, 1], 60)
    x = np.column_stack([group + rng.normal(0, 0.1, 120), 0.2 * group + rng.normal(0, 1.0, 120)])
    model = Segmenter(k_range=(2, 2), min_size=10).fit(x, np.ones_like(x, dtype=bool), ["b", "b"])
    first = int(model.labels_[0])
    client = np.array([[0.0, 1000.0]])
    assert model.predict(client, np.ones_like(client, dtype=bool))[0] == first
    assert model.high_[1] == pytest.approx((x[:, 1].max() - model.mean_[1]) / model.scale_[1])
    model.low_, model.high_ = np.full(2, -np.inf), np.full(2, np.inf)  # as before the clip
    assert model.predict(client, np.ones_like(client, dtype=bool))[0] != first


def test_a_client_with_no_evidence_gets_no_segment() -> None:
    model, _, _ = organic_model()
    saves_only = [{"type": "track", "event": "Product Reviewed", "data_category": F.PURCHASES,
                   "timestamp": (AT - timedelta(days=1)).isoformat(), "properties": {"product_id": "T-1"}}]
    assert placed(model, []) == -1
    assert placed(model, saves_only) == -1  # an event, but none the features rest on
