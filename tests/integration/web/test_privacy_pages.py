"""The privacy dashboard's pages and forms, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import jsonschema
import pytest
from sqlalchemy import select

from helpers import ALL_PURPOSES, consent_message
from l3_factory import ARCHIVE, CATALOGUE, SEND, ZONE, identity, noor_rows
from maison.access.auth import issue_token
from maison.consent import service as consent
from maison.consent.purposes import DESCRIPTIONS
from maison.core.schema import consent_ledger, privacy_requests
from maison.core.settings import IngestSettings
from maison.identity.exceptions import UnknownClient
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.personalize import derived
from maison.personalize.collection_access import Access
from maison.personalize.wording import has_discount_language
from maison.privacy import decisions
from maison.privacy import service as privacy
from maison.privacy.rules import LEVEL_TEXT
from maison.web.rules import sign_form
from personalize_factory import inputs

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
FORM = re.compile(r'name="form" value="([^"]+)"')


def seed(engine, *, level: str = "L2", off: tuple[str, ...] = ()) -> str:  # type: ignore[no-untyped-def]
    messages = [
        {
            "type": "identify",
            "userId": "u1",
            "messageId": "i1",
            "timestamp": "2026-02-01T10:00:00Z",
            "traits": {
                "email": "jo.doe@example.org",
                "first_name": "Jo",
                "declared_categories": ["Knitwear"],
            },
        },
        consent_message(at="2026-02-01T10:00:00Z", level=level, off=off, userId="u1"),
    ]
    with engine.begin() as conn:
        ingest(
            conn,
            messages,
            source="web",
            received_at=NOW,
            limits=IngestSettings(),
            suppression_key=b"k",
        )
        return find_client(conn, "u1")


def token_for(settings, client_id: str, **kw) -> str:  # type: ignore[no-untyped-def]
    return issue_token(settings.token_secret(), client_id, **kw)


def form_of(client, token: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/privacy", params={"token": token})
    assert page.status_code == 200, page.text
    return FORM.search(page.text).group(1)  # type: ignore[union-attr]


def state(engine, client_id: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return consent.state(conn, client_id)


def ledger_rows(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return len(conn.execute(select(consent_ledger.c.id)).all())


def post(client, path: str, token: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, params={"token": token}, data=fields, follow_redirects=False)


def test_the_dashboard_shows_each_depth_its_purposes_and_the_current_choice(
    client, engine, settings
):  # type: ignore[no-untyped-def]
    client_id = seed(engine, level="L2", off=("search_history",))
    page = client.get("/privacy", params={"token": token_for(settings, client_id)})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert re.findall(r'data-purpose="([a-z_]+)"', html) == list(
        ALL_PURPOSES
    )  # twelve, grouped L1, L2, L3
    assert 'class="current-level">L2 · Attentive' in html
    for level, text in LEVEL_TEXT.items():
        assert f'id="level-{level}"' in html and text in html
    for description in DESCRIPTIONS.values():
        assert description.replace("'", "&#39;") in html
    search = html.split('id="purpose-search_history"')[1].split("</li>")[0]
    assert (
        'aria-checked="false"' in search
        and 'name="granted" value="true"' in search
        and "Last changed 1 February 2026" in search
    )
    values = html.split('id="purpose-values_inference"')[1].split("</li>")[0]
    assert "Off: not used." in values
    assert "No automated decisions have been made about you yet." in html
    assert "<script" not in html


def test_recorded_decisions_show_with_their_reasons_and_data_categories(client, engine, settings):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    with engine.begin() as conn:
        decisions.record(
            conn,
            client_id=client_id,
            kind="recommendations",
            model_version="rec-7",
            data_categories=["declared_categories", "browsing_behaviour"],
            reasons=[{"text": "You declared Knitwear."}, "You viewed KN-1 twice this week."],
            output={"items": ["KN-1"]},
            at=NOW,
        )
    html = client.get("/privacy", params={"token": token_for(settings, client_id)}).text
    section = html.split('id="decisions"')[1].split("</section>")[0]
    assert (
        "Recommendations" in section and "1 March 2026, 09:30 UTC" in section and "rec-7" in section
    )
    assert "You declared Knitwear." in section and "You viewed KN-1 twice this week." in section
    assert "Data used: Browsing, Interests you declared" in section
    assert "No automated decisions" not in section


def grant_from_a_turning_taste(engine, client_id: str) -> Access:  # type: ignore[no-untyped-def]
    """A collection grant as the L3 digest job records it, opened by a real trajectory (Noor's, whose
    browsing deepened and turned towards vintage-inspired pieces: the Archive Collection's character)."""
    history = inputs(noor_rows(), CATALOGUE, at=SEND, zone=ZONE, level="L3", allowed=sorted(ALL_PURPOSES)).history
    assert history is not None
    [grant] = identity(history).access
    with engine.begin() as conn:
        derived.record(conn, client_id, kind=derived.COLLECTION_ACCESS, as_of=SEND, model_version="l3-test",
                       payload=grant.to_payload(), data_categories=grant.data_categories)
    return grant


def test_the_collections_her_engagement_opened_are_shown_in_words_with_no_price_benefit(
    client, engine, settings
):  # type: ignore[no-untyped-def]
    client_id = seed(engine, level="L3")
    token = token_for(settings, client_id)
    before = client.get("/privacy", params={"token": token}).text.split('id="collections"')[1].split("</section>")[0]
    assert "No collection has been opened to you." in before and "never from what you spend" in before

    grant = grant_from_a_turning_taste(engine, client_id)
    html = client.get("/privacy", params={"token": token}).text
    section = html.split('id="collections"')[1].split("</section>")[0]
    with engine.connect() as conn:
        opened = privacy.settings(conn, client_id)["collection_access"]
    assert opened == [ARCHIVE] and re.findall(r'data-collection="([^"]+)"', section) == opened
    assert "Pieces from the Archive Collection may now be suggested to you." in section
    assert "opened 3 March 2026, 14:00 UTC" in section
    assert f"turned towards {grant.signature_tag} pieces, the character of this collection" in section
    assert "Opened from your taste trajectory" in section and "month 1" in section and "month 2" in section
    assert section.count("price benefit") == 1 and "No price benefit" in section  # said once, plainly
    assert "Data used: " in section and "How your taste evolves" in section and "Browsing" in section
    text = re.sub(r"<[^>]+>", " ", section)
    assert not has_discount_language(text)
    assert "No collection has been opened" not in section


@pytest.mark.parametrize(
    "token, says",
    [
        (None, "personal link"),
        ("not-a-token", "incomplete or has been altered"),
        ("cl_x.9999999999.forged", "incomplete or has been altered"),
        ("expired", "has expired"),
    ],
)
def test_a_missing_forged_or_expired_link_gets_a_401_page(client, engine, settings, token, says):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    if token == "expired":
        token = token_for(settings, client_id, ttl_seconds=60, now=time.time() - 3600)
    page = client.get("/privacy", params={"token": token} if token else {})
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "This link cannot open your privacy page" in page.text and says in page.text
    assert client_id not in page.text


def test_a_staff_key_does_not_open_the_client_page(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    page = client.get("/privacy", params={"token": admin_key})
    assert page.status_code == 401 and "personal link" in page.text


def test_withdrawing_is_one_post_exactly_like_granting(client, engine, settings):  # type: ignore[no-untyped-def]
    client_id = seed(engine, level="L2", off=("browsing_behaviour",))
    token = token_for(settings, client_id)
    grant = post(
        client,
        "/privacy/consent",
        token,
        form=form_of(client, token),
        purpose="browsing_behaviour",
        granted="true",
    )
    assert grant.status_code == 303
    assert grant.headers["location"].endswith(
        "&saved=browsing_behaviour#purpose-browsing_behaviour"
    )
    assert state(engine, client_id).granted("browsing_behaviour") is True

    withdraw = post(
        client,
        "/privacy/consent",
        token,
        form=form_of(client, token),
        purpose="browsing_behaviour",
        granted="false",
    )
    assert withdraw.status_code == 303 and withdraw.headers["location"] == grant.headers["location"]
    assert state(engine, client_id).granted("browsing_behaviour") is False

    with engine.connect() as conn:
        rows = conn.execute(
            select(consent_ledger.c.granted, consent_ledger.c.method)
            .where(consent_ledger.c.purpose == "browsing_behaviour")
            .order_by(consent_ledger.c.id)
        ).all()
    assert [tuple(r) for r in rows][-2:] == [(True, "dashboard"), (False, "dashboard")]
    page = client.get(withdraw.headers["location"])
    assert "Saved. Browsing: off." in page.text


def test_the_page_offers_one_button_per_purpose_that_posts_the_opposite_state(
    client, engine, settings
):  # type: ignore[no-untyped-def]
    client_id = seed(engine, level="L2")
    html = client.get("/privacy", params={"token": token_for(settings, client_id)}).text
    for purpose in ALL_PURPOSES:
        row = html.split(f'id="purpose-{purpose}"')[1].split("</li>")[0]
        on = state(engine, client_id).granted(purpose)
        assert row.count("<form") == 1 and row.count("<button") == 1
        assert f'name="granted" value="{"false" if on else "true"}"' in row


@pytest.mark.parametrize(
    "fields, check",
    [
        ({"level": "L3"}, lambda s: s.level == "L3"),
        ({"restriction": "true"}, lambda s: s.restricted),
        ({"object_marketing": "true"}, lambda s: s.objects_to_marketing),
        ({"object_profiling": "true"}, lambda s: s.objects_to_profiling),
    ],
)
def test_depth_pause_and_objections_each_change_with_one_post(
    client, engine, settings, fields, check
):  # type: ignore[no-untyped-def]
    client_id = seed(engine, level="L2")
    token = token_for(settings, client_id)
    response = post(client, "/privacy/consent", token, form=form_of(client, token), **fields)
    assert response.status_code == 303, response.text
    assert check(state(engine, client_id))


def test_a_form_needs_a_field_signed_for_this_link_and_recent(client, engine, settings):  # type: ignore[no-untyped-def]
    client_id = seed(engine, level="L2")
    token = token_for(settings, client_id)
    other = token_for(settings, client_id, ttl_seconds=7200)
    secret = settings.token_secret()
    before = ledger_rows(engine)
    change = {"purpose": "browsing_behaviour", "granted": "false"}
    for bad in (
        None,
        "",
        "123.forged",
        sign_form(secret, other, now=time.time()),
        sign_form(secret, token, now=time.time() - 3 * 3600),
        sign_form(b"another secret", token, now=time.time()),
    ):
        fields = change if bad is None else {**change, "form": bad}
        response = post(client, "/privacy/consent", token, **fields)
        assert response.status_code == 403, bad
        assert (
            "This form could not be accepted" in response.text
            and "reload the page" in response.text
        )
    cross_site = client.post(
        "/privacy/consent",
        params={"token": token},
        data={**change, "form": form_of(client, token)},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    for path in ("/privacy/export", "/privacy/erase"):
        assert post(client, path, token, confirm="erase").status_code == 403
    assert ledger_rows(engine) == before
    assert state(engine, client_id).granted("browsing_behaviour") is True


@pytest.mark.parametrize(
    "fields, says",
    [
        ({"purpose": "mind_reading", "granted": "true"}, "purpose must be one of"),
        ({"purpose": "browsing_behaviour"}, "granted is required"),
        ({"purpose": "browsing_behaviour", "granted": "maybe"}, "granted must be true or false"),
        ({"level": "L9"}, "level must be one of l1, l2, l3"),
        ({}, "nothing to change"),
    ],
)
def test_an_invalid_change_is_refused_and_names_what_is_allowed(
    client, engine, settings, fields, says
):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    token = token_for(settings, client_id)
    before = ledger_rows(engine)
    response = post(client, "/privacy/consent", token, form=form_of(client, token), **fields)
    assert response.status_code == 400 and says in response.text.lower()
    assert ledger_rows(engine) == before


def test_download_returns_the_export_as_a_json_attachment(client, engine, settings):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    token = token_for(settings, client_id)
    response = post(client, "/privacy/export", token, form=form_of(client, token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert re.fullmatch(
        r"attachment; filename=maison-export-\d{8}-\d{6}\.json",
        response.headers["content-disposition"],
    )
    doc = json.loads(response.content)
    jsonschema.validate(doc, client.get("/v1/privacy/export.schema.json").json())
    assert doc["client_id"] == client_id
    assert {"kind": "email", "value": "jo.doe@example.org"} in doc["identifiers"]
    with engine.connect() as conn:
        kinds = conn.execute(
            select(privacy_requests.c.kind, privacy_requests.c.channel, privacy_requests.c.status)
        ).all()
    assert [tuple(k) for k in kinds] == [("export", "dashboard", "done")]


def test_erasure_takes_a_confirmation_step_and_removes_the_client(client, engine, settings):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    token = token_for(settings, client_id)
    confirm = client.get("/privacy/erase", params={"token": token})
    assert confirm.status_code == 200 and "Yes, delete my data" in confirm.text
    form = FORM.search(confirm.text).group(1)  # type: ignore[union-attr]
    assert (
        post(client, "/privacy/erase", token, form=form).status_code == 400
    )  # no confirmation: nothing erased
    with engine.connect() as conn:
        assert find_client(conn, "u1") == client_id

    done = post(client, "/privacy/erase", token, form=form, confirm="erase")
    assert done.status_code == 200 and "Your data has been deleted" in done.text
    for personal in (client_id, "u1", "jo.doe", "Knitwear"):
        assert personal not in done.text
    with engine.connect() as conn, pytest.raises(UnknownClient):
        find_client(conn, "u1")
    gone = client.get("/privacy", params={"token": token})
    assert gone.status_code == 404 and "We hold no data for this link" in gone.text


def test_no_page_sets_a_cookie_and_every_answer_carries_the_privacy_headers(
    client, engine, settings
):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    token = token_for(settings, client_id)
    answers = [
        client.get("/privacy", params={"token": token}),
        client.get("/privacy"),
        client.get("/privacy", params={"token": "bad"}),
        client.get("/privacy/assets/dashboard.css"),
        client.get("/privacy/assets/favicon.svg"),
        client.get("/privacy/assets/unknown.js"),
        client.get("/privacy/erase", params={"token": token}),
        post(
            client,
            "/privacy/consent",
            token,
            form=form_of(client, token),
            purpose="search_history",
            granted="false",
        ),
        post(client, "/privacy/consent", token, purpose="search_history", granted="false"),
        post(client, "/privacy/export", token, form=form_of(client, token)),
        post(client, "/privacy/erase", token, form=form_of(client, token), confirm="erase"),
        client.get("/privacy", params={"token": token}),
    ]
    assert [a.status_code for a in answers] == [
        200,
        401,
        401,
        200,
        200,
        404,
        200,
        303,
        403,
        200,
        200,
        404,
    ]
    for answer in answers:
        assert "set-cookie" not in answer.headers, answer.url
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        csp = answer.headers["content-security-policy"]
        assert (
            csp.startswith("default-src 'self'")
            and "script-src 'none'" in csp
            and "http" not in csp
        )
    assert not client.cookies


def test_the_page_refers_to_nothing_outside_its_own_origin(client, engine, settings):  # type: ignore[no-untyped-def]
    client_id = seed(engine)
    html = client.get("/privacy", params={"token": token_for(settings, client_id)}).text
    references = re.findall(r'(?:src|href|action)="([^"]*)"', html)
    assert references and all(ref.startswith("/privacy") for ref in references), references
    assert not re.search(r"<(script|img|iframe)\b", html)
    css = client.get("/privacy/assets/dashboard.css").text
    assert "url(" not in css and "@import" not in css
