"""An app's `screen` call of a content page reads as the web's `page` call of it, everywhere the
client's reading counts: content visits, the taste trajectory, values inference, segments."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from l3_factory import PAGES, PRODUCTS, SEND, VOCABULARY, ZONE, noor_rows
from maison.models.segments import features as F
from maison.personalize.history import from_rows
from maison.personalize.values import scores

NY = ZoneInfo(ZONE)


def on_the_app(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "type": "screen"} if r.get("type") == "page" else r for r in rows]


def test_her_reading_in_the_app_counts_as_her_reading_on_the_web() -> None:
    web, app = noor_rows(), on_the_app(noor_rows())
    assert sum(r.get("type") == "screen" for r in app) > 0  # there is reading to move to the app
    on_web, in_app = from_rows(web, at=SEND, zone=NY), from_rows(app, at=SEND, zone=NY)
    assert len(in_app.content_visits()) == len(on_web.content_visits()) > 0
    assert {e.event for m in in_app.content_visits() for e in [m.evidence()]} == {"Screen Viewed"}

    def values(history):  # type: ignore[no-untyped-def]
        return [(v.tag, round(v.confidence, 9)) for v in scores(history, products=PRODUCTS, pages=PAGES,
                                                                 vocabulary=VOCABULARY)]
    assert values(in_app) == values(on_web)


def test_segments_read_an_app_screen_of_a_content_page_as_a_page() -> None:
    kinds = sorted({r["properties"]["content_type"] for r in noor_rows() if r.get("type") == "page"})
    vocab = F.vocabulary(PRODUCTS.values(), kinds)
    web = F.client_vector(noor_rows(), vocab, at=SEND)
    app = F.client_vector(on_the_app(noor_rows()), vocab, at=SEND)
    assert np.allclose(app, web)
    assert web[[vocab.columns_by_key()["content_type", k] for k in kinds]].sum() > 0
