"""Hostile input to the privacy and consent endpoints: never a 5xx, never another client's data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import consent_message
from maison.access.auth import issue_token
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest

VICTIM_EMAIL = "victim.secret@example.org"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
identifiers = st.one_of(
    st.text(min_size=1, max_size=40).filter(lambda s: s not in (".", "..")),
    st.sampled_from(["attacker", "victim", VICTIM_EMAIL, "cl_' OR 1=1 --", "%", "_", "*", "victim\\x00", "ATTACKER"]),
)
methods = st.sampled_from([
    ("GET", "/v1/privacy/{id}/settings"), ("GET", "/v1/privacy/{id}/export"), ("GET", "/v1/privacy/{id}/decisions"),
    ("PATCH", "/v1/privacy/{id}/declared"), ("PUT", "/v1/consent/{id}"), ("GET", "/v1/consent/{id}/history"),
    ("POST", "/v1/privacy/{id}/token"), ("GET", "/v1/profiles/{id}"),
])


def _seed(engine) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        ingest(conn, [
            consent_message(at="2026-01-05T10:00:00Z", userId="attacker"),
            consent_message(at="2026-01-05T10:00:00Z", userId="victim"),
            {"type": "identify", "userId": "victim", "messageId": "iv", "timestamp": "2026-01-05T10:01:00Z",
             "traits": {"email": VICTIM_EMAIL, "last_name": "Secretworth"}},
            {"type": "identify", "userId": "attacker", "messageId": "ia", "timestamp": "2026-01-05T10:01:00Z",
             "traits": {"email": "attacker@example.org"}},
        ], source="web", received_at=datetime(2026, 2, 1, tzinfo=UTC), limits=IngestSettings(), suppression_key=b"k")
        return find_client(conn, "attacker"), find_client(conn, "victim")


def test_hostile_requests_with_a_client_token_never_fail_or_leak(client, engine, app):  # type: ignore[no-untyped-def]
    attacker, victim = _seed(engine)
    token = issue_token(app.state.maison.settings.token_secret(), attacker)

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        method=methods,
        identifier=identifiers,
        body=json_values,
        query=st.dictionaries(
            st.sampled_from(["at", "limit", "token", "ttl_seconds"]), st.text(max_size=30), max_size=2
        ),
    )
    def probe(method, identifier, body, query):  # type: ignore[no-untyped-def]
        verb, template = method
        url = template.replace("{id}", quote(identifier, safe=""))
        kwargs = {"headers": {"Authorization": f"Bearer {token}"}, "params": query}
        if verb in ("PUT", "PATCH", "POST"):
            kwargs["content"] = json.dumps(body)
            kwargs["headers"]["Content-Type"] = "application/json"
        response = client.request(verb, url, **kwargs)
        assert response.status_code < 500, (verb, url, response.text)
        text = response.text
        assert VICTIM_EMAIL not in text and "Secretworth" not in text and victim not in text, (verb, url)
        if response.status_code >= 400:
            payload = response.json()
            assert {"code", "message"} <= set(payload), payload

    probe()


def test_malformed_tokens_and_keys_are_401_not_500(client, engine):  # type: ignore[no-untyped-def]
    _seed(engine)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(token=st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t))
    def probe(token):  # type: ignore[no-untyped-def]
        try:
            response = client.get("/v1/privacy/victim/export", headers={"Authorization": f"Bearer {token}"})
        except Exception:  # noqa: BLE001 - header values the HTTP client itself refuses never reach us
            return
        assert response.status_code in (401, 403), response.text

    probe()
