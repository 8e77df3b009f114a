"""The privacy dashboard's pages: `/privacy?token=…` and its forms.

Every page works without JavaScript (each toggle is a one-button form; withdrawing is the same
single click as granting), sets no cookie, loads nothing from another origin, and is answered
with `no-store`, `no-referrer` and a CSP that allows this origin only and no script at all.
The link's token is the credential; each form also carries a field signed for that token, and
cross-site submissions are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from maison.access.auth import verify_token
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.errors import MaisonError, Unauthorized
from maison.core.responses import dumps
from maison.web import service
from maison.web.exceptions import FormRejected, InvalidForm
from maison.web.rules import (
    FORM_FIELD,
    export_filename,
    parse_change,
    saved_message,
    sign_form,
    verify_form,
)

HERE = Path(__file__).resolve().parent
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
ASSETS: Final = {"dashboard.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
MAX_FORM_BYTES: Final = 4096
PROBLEMS: Final = {  # status -> (title, what the client can do)
    400: ("That change is not possible", ""),
    401: (
        "This link cannot open your privacy page",
        "Personal links expire after a while to protect you. "
        "Your advisor or our client service can send you a new one.",
    ),
    403: ("This form could not be accepted", ""),
    404: (
        "We hold no data for this link",
        "If you asked us to delete your data, this is expected: there is nothing left to show.",
    ),
}

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    base = request.scope.get("root_path", "")
    return HTMLResponse(
        templates.get_template(name).render(base=base, **context), status_code=status
    )


def _problem(request: Request, exc: MaisonError) -> HTMLResponse:
    """A MaisonError as a page: what went wrong and what to do, never personal data."""
    title, hint = PROBLEMS.get(exc.status, ("Something went wrong", ""))
    back = getattr(request.state, "link", None) if exc.status in (400, 403) else None
    return _render(
        request,
        "problem.html",
        status=exc.status,
        title=title,
        message=exc.message,
        hint=hint,
        link=back,
    )


class PageRoute(APIRoute):
    """Adds the page headers to every answer and renders Maison errors as HTML pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handler(request)
            except MaisonError as exc:
                response = _problem(request, exc)
            response.headers.update(PAGE_HEADERS)
            return response

        return page


router = APIRouter(prefix="/privacy", route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class Link:
    """The self-service link the client opened: its token and the client it was issued for."""

    token: str
    client_id: str

    @property
    def query(self) -> str:
        return "token=" + quote(self.token, safe="")


def link(request: Request) -> Link:
    token = request.query_params.get("token", "").strip()
    if not token:
        raise Unauthorized(
            "this page opens from the personal link we sent you; ask us for a new one"
        )
    if token.startswith("mk_"):
        raise Unauthorized(
            "staff keys do not open the client's page; use the client's personal link"
        )
    try:
        client_id = verify_token(request.app.state.maison.settings.token_secret(), token)
    except (
        Unauthorized
    ) as exc:  # the API's wording is for developers; this page speaks to the client
        expired = "expired" in exc.message
        raise Unauthorized(
            "this link has expired" if expired else "this link is incomplete or has been altered"
        ) from None
    found = Link(token=token, client_id=client_id)
    request.state.link = found
    return found


async def form_fields(request: Request) -> dict[str, str]:
    """A small url-encoded form, each field once; refuses cross-site submissions."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise FormRejected("forms on this page can only be sent from this page")
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise InvalidForm("send the form as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidForm(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        parsed = parse_qs(
            body.decode(), keep_blank_values=True, strict_parsing=False, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidForm("the form is not valid url-encoded text") from None
    if any(len(values) != 1 for values in parsed.values()):
        raise InvalidForm("each form field may appear once")
    return {name: values[0] for name, values in parsed.items()}


ClientLink = Annotated[Link, Depends(link)]
Fields = Annotated[dict[str, str], Depends(form_fields)]


def _checked(request: Request, client: Link, fields: dict[str, str]) -> None:
    secret = request.app.state.maison.settings.token_secret()
    verify_form(secret, client.token, fields.get(FORM_FIELD), now=time.time())


def _form(request: Request, client: Link) -> str:
    return sign_form(
        request.app.state.maison.settings.token_secret(), client.token, now=time.time()
    )


@router.get("")
def dashboard_page(request: Request, client: ClientLink) -> Response:
    """The dashboard: depth, purposes by depth, pause and objections, decisions, export, erase."""
    with reading(request.app.state.maison.engine) as conn:
        client_id = service.client_of(conn, client.client_id)
        board = service.load(conn, client_id)
    return _render(
        request,
        "dashboard.html",
        board=board,
        link=client,
        form=_form(request, client),
        saved=saved_message(request.query_params.get("saved"), board),
    )


@router.post("/consent")
def change_consent(request: Request, client: ClientLink, fields: Fields) -> Response:
    """One change per click, then back to the same place on the page (303: POST/redirect/GET)."""
    _checked(request, client, fields)
    change = parse_change(fields)
    with request.app.state.maison.engine.begin() as conn:
        service.apply(conn, service.client_of(conn, client.client_id), change, now=utcnow())
    base = request.scope.get("root_path", "")
    return RedirectResponse(
        f"{base}/privacy?{client.query}&saved={change.key}#{change.anchor}", status_code=303
    )


@router.post("/export")
def download_export(request: Request, client: ClientLink, fields: Fields) -> Response:
    """Art. 15/20: the export document as a JSON attachment."""
    _checked(request, client, fields)
    now = utcnow()
    with request.app.state.maison.engine.begin() as conn:
        doc = service.export(conn, service.client_of(conn, client.client_id), now=now)
    return Response(
        dumps(doc),
        media_type="application/json",
        headers={"Content-Disposition": f"attachment; filename={export_filename(now)}"},
    )


@router.get("/erase")
def confirm_erasure(request: Request, client: ClientLink) -> Response:
    """The confirmation step before erasure (reading it changes nothing)."""
    with reading(request.app.state.maison.engine) as conn:
        service.client_of(conn, client.client_id)
    return _render(request, "erase.html", link=client, form=_form(request, client))


@router.post("/erase")
def erase(request: Request, client: ClientLink, fields: Fields) -> Response:
    """Art. 17: erase everything now; the answer names only the request reference."""
    _checked(request, client, fields)
    if fields.get("confirm") != "erase":
        raise InvalidForm("confirm the erasure on the confirmation page")
    with request.app.state.maison.engine.begin() as conn:
        reference = service.erase(
            conn, service.client_of(conn, client.client_id), now=utcnow(),
            suppression_key=request.app.state.maison.suppression_key,
        )
    return _render(request, "erased.html", reference=reference)


@router.get("/assets/{name}")
def asset(name: str) -> Response:
    """The page's stylesheet and icon, from this origin (nothing is loaded from elsewhere)."""
    if name not in ASSETS:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response((HERE / "static" / name).read_bytes(), media_type=ASSETS[name])
