"""analytics.js (npm @segment/analytics-next) in headless Chromium, against a live Maison.

The shop page is served from its own origin (http://localhost:PORT2) and sends to the API on
another (http://127.0.0.1:PORT1), so every call crosses origins for real: the browser sends a
CORS preflight (analytics.js adds an Authorization header) that Maison itself must answer.
No Playwright request routing is used on purpose: with routing on, Playwright answers CORS
preflights itself and would hide a server that gets CORS wrong.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from e2e.e2e_live import LiveApi, LiveServer

pytestmark = pytest.mark.e2e

LOOPBACK = {"localhost", "127.0.0.1"}


class Visit:
    """One page visit in a fresh browser context, recording requests and errors.

    Errors are uncaught exceptions and console errors (where Chromium reports CORS refusals).
    """

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requested.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def run_shop(self, origin: str, *, key: str, api: LiveApi) -> dict[str, Any]:
        """Open the shop page and wait for its identify/track/page calls to settle."""
        api_host = f"{urlsplit(api.url).netloc}/v1"
        self.page.goto(f"{origin}/#key={key}&api={api_host}")
        result: dict[str, Any] = self.page.evaluate("() => window.maisonE2E")
        return result

    def left_loopback(self) -> list[str]:
        return [u for u in self.requested if urlsplit(u).hostname not in LOOPBACK]

    def close(self) -> None:
        self.context.close()


def test_analytics_js_on_an_allowed_origin_reaches_the_store(live_api: LiveApi, shop: LiveServer, browser: Any) -> None:
    origin = f"http://localhost:{shop.port}"
    key = live_api.create_key(origins=[origin])
    visit = Visit(browser)
    try:
        result = visit.run_shop(origin, key=key, api=live_api)
    finally:
        visit.close()

    assert "error" not in result, result
    assert result["failed"] == [] and visit.errors == []
    assert visit.left_loopback() == []  # no CDN settings, no remote metrics, no chunk from a CDN
    stored = live_api.wait_for_events(5)
    assert [(e["type"], e["event"]) for e in stored] == [
        ("track", "Consent Updated"),
        ("page", "Home"),
        ("track", "Product Viewed"),
        ("identify", None),
        ("track", "Product Added"),
    ]
    anonymous_id = result["anonymousId"]
    assert [e["user_id"] for e in stored] == [None, None, None, "u-browser", "u-browser"]
    assert {e["anonymous_id"] for e in stored} == {anonymous_id}
    assert {e["raw"]["context"]["library"]["name"] for e in stored} == {"analytics.js"}
    assert stored[1]["raw"]["context"]["page"]["url"] == f"{origin}/"

    # identify joined the anonymous browsing to the user: one client, whichever id is asked.
    profile = live_api.profile("u-browser")
    assert live_api.profile(anonymous_id)["client_id"] == profile["client_id"]
    assert {e["client_id"] for e in stored} == {profile["client_id"]}
    assert profile["event_count"] == len(stored)
    assert [v["product_id"] for v in profile["viewed_products"]] == ["P-BROWSER-1"]
    assert {("anon", anonymous_id), ("user", "u-browser")} <= {(i["kind"], i["value"]) for i in profile["identifiers"]}

    preflights = live_api.log.to("/v1/", method="OPTIONS")
    assert preflights, "the browser sent no CORS preflight: the test no longer crosses origins"
    assert {(p.headers["origin"], p.status) for p in preflights} == {(origin, 204)}
    posts = live_api.log.to("/v1/")
    assert sorted({p.path for p in posts}) == ["/v1/i", "/v1/p", "/v1/t"]
    assert {(p.headers["origin"], p.status) for p in posts} == {(origin, 200)}


def test_api_refuses_an_origin_the_write_key_does_not_list(live_api: LiveApi, shop: LiveServer, browser: Any) -> None:
    allowed = f"http://localhost:{shop.port}"
    refused = f"http://127.0.0.1:{shop.port}"  # the same page under another origin
    key = live_api.create_key(origins=[allowed])
    visit = Visit(browser)
    try:
        visit.run_shop(refused, key=key, api=live_api)
        # A "simple" request needs no preflight, so it reaches the endpoint: Maison must refuse
        # it. (An identify without traits is always kept when accepted: consent is not why.)
        outcome = visit.page.evaluate(
            """([url, key]) => fetch(url, {
                method: "POST",
                headers: {"Content-Type": "text/plain"},
                body: JSON.stringify({writeKey: key, userId: "u-elsewhere"}),
            }).then((r) => "read " + r.status, (e) => "blocked: " + e.name)""",
            [f"{live_api.url}/v1/i", key],
        )
    finally:
        visit.close()

    assert outcome == "blocked: TypeError"  # the browser may not read a refused response
    preflights = live_api.log.to("/v1/", method="OPTIONS")
    assert preflights and {(p.headers["origin"], p.status) for p in preflights} == {(refused, 403)}
    posts = live_api.log.to("/v1/")
    assert [(p.path, p.headers["origin"], p.status) for p in posts] == [("/v1/i", refused, 403)]
    assert live_api.events() == []
