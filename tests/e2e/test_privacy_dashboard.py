"""The privacy dashboard in headless Chromium, against a live Maison on a loopback port.

The page is driven as a client would: open the personal link, switch a category off and on
(one click each), download the export, delete everything. Every request the browser makes is
recorded, on both sides: nothing may leave Maison's origin, nothing may reach a tracking
endpoint, and no cookie may be set.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from e2e.e2e_live import LiveApi
from helpers import consent_message
from l3_factory import ARCHIVE, CATALOGUE, SEND, ZONE, identity, noor_rows
from maison.access.auth import issue_token
from maison.consent import service as consent
from maison.consent.purposes import PURPOSES
from maison.core.settings import IngestSettings, Settings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.personalize import derived
from maison.privacy import decisions
from personalize_factory import inputs

pytestmark = pytest.mark.e2e

SCREENSHOT = Path("/tmp/privacy-dashboard.png")
TRACKING_PATHS = (
    "/v1/t",
    "/v1/p",
    "/v1/i",
    "/v1/b",
    "/v1/batch",
    "/v1/track",
    "/v1/page",
    "/v1/identify",
    "/v1/screen",
    "/v1/alias",
    "/v1/group",
    "/v1/import",
)
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def seed_client(api: LiveApi, settings: Settings) -> tuple[str, str]:
    """A client at L2 (L3 purposes off) with one recorded decision; returns (client id, token)."""
    messages = [
        {
            "type": "identify",
            "userId": "u-dash",
            "messageId": "i-dash",
            "timestamp": "2026-02-01T10:00:00Z",
            "traits": {"email": "dash.client@example.org", "declared_categories": ["Knitwear"]},
        },
        consent_message(at="2026-02-01T10:00:00Z", level="L2", userId="u-dash"),
    ]
    with api.engine.begin() as conn:
        ingest(
            conn,
            messages,
            source="web",
            received_at=NOW,
            limits=IngestSettings(),
            suppression_key=b"e2e",
        )
        client_id = find_client(conn, "u-dash")
        decisions.record(
            conn,
            client_id=client_id,
            kind="recommendations",
            model_version="rec-e2e-1",
            data_categories=["declared_categories", "browsing_behaviour"],
            reasons=[{"text": "You declared an interest in Knitwear."}],
            output={"items": ["KN-1"]},
            at=NOW,
        )
    return client_id, issue_token(settings.token_secret(), client_id, ttl_seconds=900)


class Visit:
    """A fresh browser context that records every request the page makes."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.requested: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requested.append((r.method, r.url)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def foreign(self, origin: str) -> list[str]:
        return [url for _, url in self.requested if not url.startswith(origin + "/")]

    def tracking(self) -> list[str]:
        return [url for _, url in self.requested if urlsplit(url).path.startswith(TRACKING_PATHS)]

    def close(self) -> None:
        self.context.close()


def granted(api: LiveApi, client_id: str, purpose: str) -> bool:
    with api.engine.connect() as conn:
        return consent.state(conn, client_id).granted(purpose)


def test_a_client_switches_a_category_and_downloads_the_export_without_any_tracking(
    live_api: LiveApi, settings: Settings, browser: Any
) -> None:
    from playwright.sync_api import expect

    client_id, token = seed_client(live_api, settings)
    visit = Visit(browser)
    page = visit.page
    try:
        page.goto(f"{live_api.url}/privacy?token={token}")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "What we know, why, and your choices"
        )
        expect(page.locator(".current-level")).to_have_text("L2 · Attentive")
        expect(page.locator("#decisions")).to_contain_text("You declared an interest in Knitwear.")
        # Before the client has touched anything: no tracking call, nothing from elsewhere.
        assert visit.tracking() == [] and visit.foreign(live_api.url) == []

        browsing = page.locator("#purpose-browsing_behaviour")
        browsing.get_by_role("switch", name="Turn off Browsing").click()
        expect(browsing.get_by_role("switch")).to_have_attribute("aria-checked", "false")
        expect(page.get_by_role("status")).to_have_text("Saved. Browsing: off.")
        assert granted(live_api, client_id, "browsing_behaviour") is False

        browsing.get_by_role("switch", name="Allow Browsing").click()  # the same single click back
        expect(browsing.get_by_role("switch")).to_have_attribute("aria-checked", "true")
        assert granted(live_api, client_id, "browsing_behaviour") is True

        page.locator("#purpose-search_history").get_by_role("switch").click()
        expect(page.locator("#purpose-search_history .state")).to_have_text("Off")
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        with page.expect_download() as info:
            page.get_by_role("button", name="Download my data").click()
        download = info.value
        doc = json.loads(Path(download.path()).read_text())
        cookies = visit.context.cookies()
    finally:
        visit.close()

    assert download.suggested_filename.startswith(
        "maison-export-"
    ) and download.suggested_filename.endswith(".json")
    assert doc["client_id"] == client_id
    assert {"kind": "user", "value": "u-dash"} in doc["identifiers"]
    assert [
        (h["purpose"], h["granted"]) for h in doc["consent_history"] if h["method"] == "dashboard"
    ] == [("browsing_behaviour", False), ("browsing_behaviour", True), ("search_history", False)]
    assert granted(live_api, client_id, "search_history") is False
    assert cookies == []
    assert visit.errors == []
    assert visit.tracking() == [] and visit.foreign(live_api.url) == []
    reached = live_api.log.seen
    assert reached and all(s.path.startswith("/privacy") for s in reached), [
        s.path for s in reached
    ]
    assert all("set-cookie" not in s.headers for s in reached)


def test_a_client_deletes_their_data_after_one_confirmation(
    live_api: LiveApi, settings: Settings, browser: Any
) -> None:
    from playwright.sync_api import expect

    client_id, token = seed_client(live_api, settings)
    visit = Visit(browser)
    page = visit.page
    try:
        page.goto(f"{live_api.url}/privacy?token={token}")
        page.get_by_role("link", name="Delete my data…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Delete everything we hold about you?"
        )
        page.get_by_role("button", name="Yes, delete my data").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your data has been deleted")
        body = page.locator("main").inner_text()
        page.goto(f"{live_api.url}/privacy?token={token}")
        expect(page.get_by_role("heading", level=1)).to_have_text("We hold no data for this link")
        cookies = visit.context.cookies()
    finally:
        visit.close()

    assert client_id not in body and "u-dash" not in body and "dash.client" not in body
    with live_api.engine.connect() as conn, pytest.raises(Exception, match="no client"):
        find_client(conn, "u-dash")
    assert cookies == [] and visit.tracking() == [] and visit.foreign(live_api.url) == []


def test_a_client_reads_which_collection_her_engagement_opened_and_that_it_changes_no_price(
    live_api: LiveApi, settings: Settings, browser: Any
) -> None:
    from playwright.sync_api import expect

    client_id, token = seed_client(live_api, settings)
    history = inputs(noor_rows(), CATALOGUE, at=SEND, zone=ZONE, level="L3", allowed=sorted(PURPOSES)).history
    assert history is not None
    [grant] = identity(history).access  # opened by a trajectory that deepened and turned vintage-inspired
    with live_api.engine.begin() as conn:
        derived.record(conn, client_id, kind=derived.COLLECTION_ACCESS, as_of=SEND, model_version="l3-e2e",
                       payload=grant.to_payload(), data_categories=grant.data_categories)
    visit = Visit(browser)
    page = visit.page
    try:
        page.goto(f"{live_api.url}/privacy?token={token}")
        collections = page.locator("#collections")
        expect(collections.get_by_role("heading", level=2)).to_have_text("Collections opened to you")
        opened = collections.locator(".collection")
        expect(opened).to_have_count(1)
        expect(opened.locator(".unlocks")).to_have_text(
            f"Pieces from the {ARCHIVE} may now be suggested to you."
        )
        expect(opened.locator(".direction")).to_contain_text(
            f"turned towards {grant.signature_tag} pieces, the character of this collection"
        )
        expect(opened.locator(".collection-reason")).to_contain_text("Opened from your taste trajectory")
        expect(opened.locator(".price-note")).to_have_text(
            "No price benefit: every piece of it is offered at its catalogue price, the same for everyone."
        )
        expect(opened).to_contain_text("How your taste evolves")
        assert opened.is_visible()
        cookies = visit.context.cookies()
    finally:
        visit.close()
    assert cookies == [] and visit.errors == []
    assert visit.tracking() == [] and visit.foreign(live_api.url) == []
