"""The real server-side Segment clients (Segment's and RudderStack's) against a live Maison.

Each SDK talks HTTP to uvicorn exactly as in production: `/v1/batch`, write key as the Basic
user, gzip where the SDK compresses. The same story is told through each: an anonymous visit
with consent, an identify that joins it, a page, a second anonymous visit and an alias that
merges it in. The profile endpoint must then show one client holding all of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from e2e.e2e_live import LiveApi

pytestmark = pytest.mark.e2e

# What a visitor states on the consent banner (the scenario's `Consent Updated` shape): without
# it, Maison keeps no observed behaviour (page views, product views, cart activity).
CONSENT: dict[str, Any] = {
    "personalization_level": "L2",
    "purposes": {
        "declared_categories": True,
        "purchase_history": True,
        "demographics": True,
        "browsing_behaviour": True,
        "search_history": True,
        "cart_activity": True,
        "email_engagement": True,
        "content_engagement": True,
        "similar_customer_signals": True,
        "taste_trajectory": False,
        "values_inference": False,
        "exploratory_recommendations": False,
    },
    "source": "consent_banner",
    "policy_version": "2026-01",
}


@dataclass(frozen=True)
class Sdk:
    """How to build one SDK client, and what its uploads must look like on the wire."""

    build: Callable[..., Any]
    gzipped: bool
    synchronous: bool


def _segment(**kwargs: Any) -> Any:
    from segment.analytics import Client  # type: ignore[import-untyped]

    return Client(**kwargs)


def _rudder(**kwargs: Any) -> Any:
    from rudderstack.analytics import Client  # type: ignore[import-untyped]

    return Client(**kwargs)


SDKS = {
    # One request per call, plain JSON: the SDK's sync mode.
    "segment-sync": Sdk(lambda **kw: _segment(sync_mode=True, **kw), gzipped=False, synchronous=True),
    # Queued and sent as one batch by the consumer thread, gzipped on request.
    "segment-batched-gzip": Sdk(lambda **kw: _segment(gzip=True, **kw), gzipped=True, synchronous=False),
    # RudderStack's fork queues and gzips by default: nothing is asked of it here.
    "rudder-default": Sdk(_rudder, gzipped=True, synchronous=False),
}


def _tell_the_story(client: Any) -> list[dict[str, Any]]:
    """Send the story's seven messages; return them as the SDK built them."""
    calls = [
        client.track(anonymous_id="anon-visit-1", event="Consent Updated", properties=CONSENT),
        client.track(anonymous_id="anon-visit-1", event="Product Viewed", properties={"product_id": "P-1"}),
        client.identify(user_id="u-sdk", anonymous_id="anon-visit-1", traits={"email": "sdk-user@example.com"}),
        client.page(user_id="u-sdk", name="Home", properties={"path": "/"}),
        client.track(anonymous_id="anon-visit-2", event="Consent Updated", properties=CONSENT),
        client.track(anonymous_id="anon-visit-2", event="Product Viewed", properties={"product_id": "P-2"}),
        client.alias(previous_id="anon-visit-2", user_id="u-sdk"),
    ]
    assert all(queued for queued, _ in calls)
    return [message for _, message in calls]


@pytest.mark.parametrize("sdk_name", list(SDKS))
def test_python_sdk_story_lands_on_one_client(live_api: LiveApi, sdk_name: str) -> None:
    sdk = SDKS[sdk_name]
    errors: list[object] = []
    client = sdk.build(
        write_key=live_api.create_key(origins=[]),
        host=live_api.url,
        max_retries=1,
        on_error=lambda exc, batch: errors.append(exc),
    )

    sent = _tell_the_story(client)
    if not sdk.synchronous:
        client.flush()
        client.join()

    assert errors == []
    stored = live_api.wait_for_events(len(sent))
    assert {e["message_id"]: (e["type"], e["event"]) for e in stored} == {
        m["messageId"]: (m["type"], m.get("event", m.get("name"))) for m in sent
    }
    assert {e["raw"]["context"]["library"]["name"] for e in stored} == {"analytics-python"}

    profile = live_api.profile("u-sdk")
    assert {e["client_id"] for e in stored} == {profile["client_id"]}
    assert live_api.profile("anon-visit-2")["client_id"] == profile["client_id"]
    assert profile["event_count"] == len(sent)
    assert {(i["kind"], i["value"]) for i in profile["identifiers"]} >= {
        ("user", "u-sdk"),
        ("anon", "anon-visit-1"),
        ("anon", "anon-visit-2"),
        ("email", "sdk-user@example.com"),
    }
    assert sorted(v["product_id"] for v in profile["viewed_products"]) == ["P-1", "P-2"]

    uploads = live_api.log.to("/v1/batch")
    assert uploads and {u.status for u in uploads} == {200}
    # Sync mode posts each call; the queue sends them together (one batch unless very slow).
    assert len(uploads) == len(sent) if sdk.synchronous else len(uploads) < len(sent)
    assert all(u.headers.get("authorization", "").startswith("Basic ") for u in uploads)
    if sdk.gzipped:
        assert {u.headers.get("content-encoding") for u in uploads} == {"gzip"}
        assert {u.body_head for u in uploads} == {b"\x1f\x8b"}  # the gzip magic: truly compressed
    else:
        assert {u.headers.get("content-encoding") for u in uploads} == {None}
        assert {u.body_head for u in uploads} == {b'{"'}
