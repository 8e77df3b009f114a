"""`content_new_arrivals`: long reading about how things are made leads to new pieces made that way."""

from __future__ import annotations

from datetime import UTC, date, datetime

from maison.catalog.catalogue import Catalogue
from maison.personalize.sections import content_new_arrivals
from maison.personalize.sections.common import is_new_arrival, offerable
from personalize_factory import content_page, inputs, page, product, track

SEND = datetime(2026, 3, 10, 18, tzinfo=UTC)
SOURCING = content_page("/sourcing", "sourcing", ["materials", "certifications", "sourcing"], name="How We Source")
MAKERS = content_page("/makers", "impact", ["artisan partnerships", "cooperatives"], name="Our Makers")
GUIDE = content_page("/styling/x", "styling_guide", ["certifications"], name="A Styling Guide")
NEW = date(2026, 3, 1)
CATALOGUE = [
    product("A1", "Knitwear", certifications=("GOTS",), collections=("Earth Line",), launched=NEW),
    product("A2", "Dresses", certifications=("Fair Trade",), collections=("Earth Line",), launched=date(2026, 2, 10)),
    product("A3", "Knitwear", certifications=("GRS",), collections=("Earth Line",), launched=NEW,
            online={"one_size": 0}),
    product("A4", "Knitwear", certifications=("GRS",), collections=("Earth Line",), launched=date(2025, 9, 1)),
    product("B1", "Jewellery", tags=("artisan",), collections=("Studio",), launched=NEW),
    product("B2", "Jewellery", tags=("artisan",), collections=("Studio",), launched=NEW),
    product("C1", "Knitwear", launched=NEW),
    *(product(f"Z{n}", "Home") for n in range(20)),  # the rest of the catalogue: no certifications, no artisan tag
]


def test_sourcing_reading_leads_to_the_certified_new_arrivals_of_one_collection() -> None:
    rows = [page("/sourcing", datetime(2026, 3, 3, 19, tzinfo=UTC), dwell=250, content_type="sourcing"),
            page("/sourcing", datetime(2026, 3, 8, 19, tzinfo=UTC), dwell=150, content_type="sourcing")]
    [section] = content_new_arrivals.build(inputs(rows, CATALOGUE, at=SEND, pages=[SOURCING, MAKERS]))
    assert [i.product_id for i in section.items] == ["A1", "A2"]  # not sold out, not older than 30 days
    assert "Earth Line" in section.title and "6 minutes 40 seconds" in section.text and "How We Source" in section.text
    first = section.items[0].reason
    assert first.data_categories == ("content_engagement",) and "GOTS certified" in first.text
    assert set(first.attributes_cited) == {"GOTS", "Earth Line"}
    assert [e.message_id for e in first.evidence] == [r["messageId"] for r in rows]


def test_a_paris_client_reading_about_makers_gets_artisan_pieces() -> None:
    rows = [page("/makers", datetime(2026, 3, 4, 8, tzinfo=UTC), dwell=400, content_type="impact")]
    [section] = content_new_arrivals.build(inputs(rows, CATALOGUE, at=SEND, zone="Europe/Paris", pages=[MAKERS]))
    assert [i.product_id for i in section.items] == ["B1", "B2"]
    assert all("tagged artisan" in i.reason.text for i in section.items)
    assert section.items[0].reason.evidence[0].to_dict()["part_of_day"] == "morning"


def test_short_reading_styling_guides_and_l3_say_nothing_here() -> None:
    short = [page("/sourcing", datetime(2026, 3, 3, 19, tzinfo=UTC), dwell=60, content_type="sourcing")]
    styling = [page("/styling/x", datetime(2026, 3, 3, 19, tzinfo=UTC), dwell=900, content_type="styling_guide")]
    long = [page("/sourcing", datetime(2026, 3, 3, 19, tzinfo=UTC), dwell=600, content_type="sourcing")]
    pages = [SOURCING, GUIDE]
    assert content_new_arrivals.build(inputs(short, CATALOGUE, at=SEND, pages=pages)) == []
    assert content_new_arrivals.build(inputs(styling, CATALOGUE, at=SEND, pages=pages)) == []
    assert content_new_arrivals.build(inputs(long, CATALOGUE, at=SEND, pages=pages, level="L3")) == []
    assert content_new_arrivals.build(inputs(long, CATALOGUE, at=SEND, pages=pages)) != []


def test_a_catalogue_remembers_per_day_exactly_what_a_plain_list_recomputes() -> None:
    """The weekly job hands every client one `Catalogue`: its remembered facets and each day's new
    arrivals must give the sections a plain list gives, day after day on the same catalogue."""
    rows = [page("/sourcing", datetime(2026, 3, 3, 19, tzinfo=UTC), dwell=250, content_type="sourcing"),
            page("/makers", datetime(2026, 3, 4, 8, tzinfo=UTC), dwell=200, content_type="impact"),
            track("Order Completed", datetime(2026, 3, 5, 9, tzinfo=UTC), order_id="o1",
                  products=[{"product_id": "B2", "quantity": 1}])]
    pages = [SOURCING, MAKERS]
    shared = Catalogue(CATALOGUE)
    days = [SEND,  # A2 (launched 10 Feb) is new until 12 March inclusive
            datetime(2026, 3, 12, 23, tzinfo=UTC), datetime(2026, 3, 13, 1, tzinfo=UTC),
            datetime(2026, 3, 10, 7, tzinfo=UTC),  # back to a day already remembered
            datetime(2026, 4, 1, 12, tzinfo=UTC)]  # nothing of the catalogue is new any more
    chosen = []
    for at in days:
        remembered = content_new_arrivals.build(inputs(rows, shared, at=at, pages=pages))
        assert remembered == content_new_arrivals.build(inputs(rows, list(CATALOGUE), at=at, pages=pages))
        chosen.append([i.product_id for s in remembered for i in s.items])
        # the rule as written before anything was remembered: every product, both conditions
        history = inputs(rows, CATALOGUE, at=at, pages=pages).history
        assert history is not None and history.bought() == {"B2"}
        reads = content_new_arrivals.readings(history, pages)
        reference = content_new_arrivals.choose(
            [p for p in CATALOGUE if is_new_arrival(p, history.at) and offerable(p, history.bought())],
            content_new_arrivals.topic_weights(reads), content_new_arrivals.rarity(CATALOGUE))
        assert chosen[-1] == [p.product_id for p in reference]
    # the days differ, so a catalogue that remembered one day's new arrivals for all would fail above
    assert chosen == [["A1", "A2"], ["A1", "A2"], ["B1"], ["A1", "A2"], []]  # B2 was bought


def test_remembered_facets_and_rarity_are_those_of_every_product() -> None:
    shared = Catalogue(CATALOGUE)
    known = content_new_arrivals.facet_stems(shared)
    assert known == {p.product_id: tuple(content_new_arrivals.facets(p)) for p in CATALOGUE}
    assert content_new_arrivals.facet_stems(shared) is known  # worked out once
    assert content_new_arrivals.rarity(shared) == content_new_arrivals.rarity(list(CATALOGUE))
    assert known["A1"] and set(known["A1"]) >= {"got", "certification", "earth", "line", "collection"}
