"""A weekly job's chunk reads what earlier digests recorded once (`personalize.recorded`), and
answers only what it read: another client, an instant past it or picks before it go to the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from maison.personalize import derived
from maison.personalize import repository as repo
from maison.personalize.recorded import Recorded
from maison.privacy import decisions as audit

MONDAY = datetime(2026, 3, 9, tzinfo=UTC)
SECTION = "identity_predictive"


def sent(client: str, at: datetime, *picks: str) -> dict[str, object]:
    reasons = [{"section": SECTION, "product_id": p} for p in picks] + [{"section": "top_sellers", "product_id": "X"}]
    return repo.digest_row(client_id=client, model_version="t", data_categories=[], reasons=reasons, output={}, at=at)


def granted(client: str, at: datetime, collection: str) -> dict[str, object]:
    return derived.row(client, kind=derived.COLLECTION_ACCESS, as_of=at, payload={"collection": collection},
                       data_categories=["taste_trajectory"], model_version="t")


def test_a_chunk_answers_as_the_store_does_within_what_it_read_and_nothing_beyond(engine: Engine) -> None:
    until, since = MONDAY + timedelta(days=3), MONDAY - timedelta(weeks=6)
    with engine.begin() as conn:
        audit.record_all(conn, [
            sent("a", MONDAY - timedelta(weeks=1), "P1"), sent("a", MONDAY - timedelta(weeks=8), "P0"),
            sent("b", MONDAY - timedelta(weeks=2), "P2"), sent("a", MONDAY + timedelta(days=1), "P3"),
        ])
        derived.record_all(conn, [granted("a", MONDAY - timedelta(days=3), "Atelier"),
                                  granted("a", MONDAY + timedelta(days=1), "Later"), granted("b", MONDAY, "Other")])
    with engine.connect() as conn:
        read = Recorded(conn, ["a"], until=until, picks_since=since, section=SECTION)
        start, end = MONDAY - timedelta(weeks=5), MONDAY + timedelta(days=2)
        assert read.sent_picks("a", section=SECTION, start=start, end=end) == repo.sent_picks(
            conn, "a", section=SECTION, start=start, end=end)
        assert read.collections("a", at=MONDAY) == frozenset(derived.collections(conn, "a", at=MONDAY))
        assert [p.product_id for p in read.sent_picks("a", section=SECTION, start=start, end=end) or []] == ["P1", "P3"]
        assert read.collections("a", at=MONDAY) == {"Atelier"}
        # beyond what was read: the caller asks the store
        assert read.sent_picks("b", section=SECTION, start=start, end=end) is None  # a client not given
        assert read.collections("b", at=MONDAY) is None
        assert read.sent_picks("a", section=SECTION, start=since - timedelta(days=1), end=end) is None
        assert read.sent_picks("a", section=SECTION, start=start, end=until + timedelta(days=1)) is None
        assert read.collections("a", at=until + timedelta(days=1)) is None
        assert read.sent_picks("a", section="top_sellers", start=start, end=end) is None
