"""Declared interests in placement: a block the segments are not fitted on, whose centres are
members' mean declarations, used for a client only while the gateway lets it be read.

The tea merchant of `test_segments.py`: three planted tastes whose members declared the category
of their taste; a client whose thin behaviour sits between two segments is placed by what they
declared.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from maison.consent import gateway
from maison.models.exceptions import ModelInputError, NotFittedError
from maison.models.segments import features as F
from maison.models.segments import service
from maison.models.segments.estimator import Segmenter

AT = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Tea:
    product_id: str
    category: str
    tags: tuple[str, ...]
    price: Decimal


CATALOGUE = [
    *(Tea(f"T-{i}", "Loose Tea", ("organic",), Decimal(12 + i)) for i in range(6)),
    *(Tea(f"W-{i}", "Teaware", ("handmade",), Decimal(80 + 10 * i)) for i in range(6)),
    *(Tea(f"B-{i}", "Books", ("gift",), Decimal(30 + i)) for i in range(6)),
]
VOCAB = F.vocabulary(CATALOGUE, ["farm_story"])
TASTE_CATEGORY = {"organic": "Loose Tea", "teaware": "Teaware", "books": "Books"}


def view(pid: str, at: datetime) -> dict[str, Any]:
    return {"type": "track", "event": "Product Viewed", "data_category": F.BROWSING, "timestamp": at.isoformat(),
            "properties": {"product_id": pid, "dwell_seconds": 40}}


def opened(at: datetime) -> dict[str, Any]:
    return {"type": "track", "event": "Email Opened", "data_category": F.EMAIL, "timestamp": at.isoformat(),
            "properties": {}}


def planted(seed: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """120 tea clients of three tastes, each viewing its own category and opening at its own hour:
    loose tea at 8:00, teaware at 20:00, books at 14:00."""
    rng = random.Random(seed)
    prefix, hours = {"organic": "T", "teaware": "W", "books": "B"}, {"organic": 8, "teaware": 20, "books": 14}
    vectors, truth = [], []
    for n in range(120):
        taste = list(prefix)[n % 3]
        rows = [view(f"{prefix[taste]}-{rng.randrange(6)}", AT - timedelta(days=rng.uniform(1, 60)))
                for _ in range(rng.randint(6, 14))]
        rows += [opened((AT - timedelta(days=rng.randint(1, 50))).replace(hour=hours[taste])) for _ in range(3)]
        vectors.append(F.client_vector(rows, VOCAB, at=AT))
        truth.append(taste)
    return np.vstack(vectors), np.ones((120, len(VOCAB.features)), dtype=bool), truth


def declaration(categories: object, at: datetime = AT - timedelta(days=30)) -> dict[str, Any]:
    return {"type": "identify", "data_category": F.DECLARED, "timestamp": at.isoformat(),
            "traits": {"declared_categories": categories}}


def declared_model() -> tuple[service.SegmentModel, dict[str, int]]:
    """Fitted on behaviour only; then each member's declared category (their taste's) added."""
    x, available, truth = planted()
    blocks = [f.block for f in VOCAB.features]
    model = Segmenter(k_range=(3, 3), min_size=10).fit(x, available, blocks)
    stated = {t: F.declared_vector([declaration([c])], VOCAB.categories, at=AT) for t, c in TASTE_CATEGORY.items()}
    shares = np.vstack([v for t in truth if (v := stated[t]) is not None])
    model.add_block(shares, np.ones_like(shares, dtype=bool), F.DECLARED)
    labels = {t: int(model.labels_[truth.index(t)]) for t in TASTE_CATEGORY}
    segments = tuple(service.Segment(s, int(n), f"segment {s}", ()) for s, n in enumerate(model.sizes_))
    blocks += [F.DECLARED] * len(VOCAB.categories)
    return service.SegmentModel(AT, "v", VOCAB, model, segments, len(truth), tuple(blocks)), labels


def undecided() -> list[dict[str, Any]]:
    """Thin behaviour between the organic (8:00) and teaware (20:00) drinkers: three opens at each hour."""
    return [opened((AT - timedelta(days=d)).replace(hour=hour)) for d in range(1, 4) for hour in (8, 20)]


def serve(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]], *, granted: Iterable[str]) -> None:
    """The gateway as the consent policy answers it: only rows of the granted categories."""
    allowed = set(granted)

    def read(conn: object, reader: Any, client_ids: Iterable[str], *, at: datetime,
             **_: object) -> Mapping[str, list[dict[str, Any]]]:
        found = [r for r in rows if r["data_category"] in allowed and r["data_category"] in reader.categories]
        return {c: found for c in client_ids} if found else {}

    monkeypatch.setattr(gateway, "read", read)


def test_declared_categories_are_shares_of_the_latest_declaration() -> None:
    rows = [declaration(["Books"], AT - timedelta(days=60)),
            declaration(["Teaware", " Loose Tea", "Knitwear"], AT - timedelta(days=9)),  # not this catalogue's
            declaration(["Books"], AT + timedelta(hours=1))]  # after the instant
    found = F.declared_vector(rows, VOCAB.categories, at=AT)
    assert found is not None
    assert dict(zip(VOCAB.categories, found.tolist(), strict=True)) == {"Books": 0.0, "Loose Tea": 0.5, "Teaware": 0.5}
    assert F.declared_vector([*rows[:2], declaration(None, AT - timedelta(days=1))], VOCAB.categories, at=AT) is None
    assert F.declared_vector([declaration(["Knitwear"])], VOCAB.categories, at=AT) is None
    assert F.declared_vector([], VOCAB.categories, at=AT) is None


def test_an_added_block_gets_members_means_and_leaves_the_segments_as_fitted() -> None:
    x, available, truth = planted()
    blocks = [f.block for f in VOCAB.features]
    model = Segmenter(k_range=(3, 3), min_size=10).fit(x, available, blocks)
    labels, centres, profiles = model.labels_.copy(), model.centers_.copy(), model.profiles_.copy()
    teaware = int(model.labels_[truth.index("teaware")])
    shares = np.array([[1.0, 0.0] if t == "teaware" else [0.0, 1.0] for t in truth])
    stated = np.array([[t != "books"] * 2 for t in truth])  # book lovers declared nothing
    model.add_block(shares, stated, F.DECLARED)
    assert model.added_ == (F.DECLARED,) and model.centers_.shape == (3, len(blocks) + 2)
    assert (model.labels_ == labels).all() and np.array_equal(model.centers_[:, : len(blocks)], centres)
    assert np.array_equal(model.profiles_, profiles)
    assert model.centers_[teaware, -2] > 0 > model.centers_[teaware, -1]
    books = int(model.labels_[truth.index("books")])
    assert model.centers_[books, -2:].tolist() == [0.0, 0.0]  # no member declared: no pull either way
    with pytest.raises(ModelInputError, match="one row per fitted client"):
        model.add_block(shares[:10], stated[:10], F.DECLARED)
    with pytest.raises(NotFittedError):
        Segmenter().add_block(shares, stated, F.DECLARED)


@pytest.mark.parametrize("taste", ["organic", "teaware"])
def test_a_thin_client_is_placed_by_what_they_declared(monkeypatch: pytest.MonkeyPatch, taste: str) -> None:
    model, labels = declared_model()
    serve(monkeypatch, [*undecided(), declaration([TASTE_CATEGORY[taste]])],
          granted=(F.EMAIL, F.DECLARED))
    placed = service.place(None, model, "c", at=AT)  # type: ignore[arg-type]
    assert placed is not None
    assert placed.segment.segment_id == labels[taste]
    assert placed.data_categories == (F.EMAIL, F.DECLARED)


def test_without_declared_categories_consent_a_client_is_placed_by_behaviour_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = declared_model()
    rows = [*undecided(), declaration(["Teaware"])]
    behaviour_only = model.segmenter.predict(
        np.concatenate([F.client_vector(undecided(), VOCAB, at=AT), np.zeros(len(VOCAB.categories))]),
        np.array([b == F.EMAIL for b in model.blocks]))[0]
    serve(monkeypatch, rows, granted=(F.EMAIL,))  # declared_categories may not be used: the gateway holds it back
    placed = service.place(None, model, "c", at=AT)  # type: ignore[arg-type]
    assert placed is not None and placed.data_categories == (F.EMAIL,)
    assert placed.segment.segment_id == behaviour_only
    serve(monkeypatch, rows, granted=(F.EMAIL, F.DECLARED))  # a caller may still leave the block out
    unasked = service.place(None, model, "c", at=AT, categories=F.BLOCKS)  # type: ignore[arg-type]
    assert unasked is not None and unasked.data_categories == (F.EMAIL,)
    assert unasked.segment.segment_id == behaviour_only


def test_a_declaration_alone_places_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = declared_model()
    serve(monkeypatch, [*undecided()[:4], declaration(["Teaware"])], granted=(F.EMAIL, F.DECLARED))
    assert service.place(None, model, "c", at=AT) is None  # type: ignore[arg-type]  # 4 < MIN_EVENTS events


def test_rich_behaviour_outweighs_a_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    model, labels = declared_model()
    evenings = [opened((AT - timedelta(days=d)).replace(hour=20)) for d in range(1, 15)]
    teapots = [view(f"W-{d % 6}", AT - timedelta(days=d)) for d in range(1, 15)]
    serve(monkeypatch, [*evenings, *teapots, declaration(["Loose Tea"])], granted=(F.BROWSING, F.EMAIL, F.DECLARED))
    placed = service.place(None, model, "c", at=AT)  # type: ignore[arg-type]
    assert placed is not None and placed.segment.segment_id == labels["teaware"]
    assert placed.data_categories == (F.BROWSING, F.EMAIL, F.DECLARED)
