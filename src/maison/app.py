"""The FastAPI application: one factory, state on `app.state.maison`, one error handler."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from maison import __version__
from maison.access.keys import KeyRing
from maison.core.db import make_engine, upgrade
from maison.core.errors import MaisonError
from maison.core.responses import JSONResponse
from maison.core.settings import Settings, get_settings


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    keys: KeyRing
    suppression_key: bytes


def create_app(settings: Settings | None = None, *, engine: Engine | None = None, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    app = FastAPI(title="Maison", version=__version__)
    app.state.maison = AppState(
        settings=settings, engine=engine, keys=KeyRing(engine), suppression_key=settings.suppression_key()
    )

    @app.exception_handler(MaisonError)
    async def _maison_error(request: Request, exc: MaisonError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return JSONResponse(
            {"code": codes.get(exc.status_code, "http_error"), "message": str(exc.detail), "details": {}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        return JSONResponse(
            {
                "code": "invalid_request",
                "message": "the request parameters are not valid",
                "details": {"errors": details},
            },
            status_code=422,
        )

    from maison.catalog.routes import router as catalog_router
    from maison.consent.routes import router as consent_router
    from maison.ingest.routes import router as ingest_router
    from maison.models.routes import router as models_router
    from maison.personalize.routes import router as personalize_router
    from maison.privacy.routes import router as privacy_router
    from maison.profiles.routes import router as profiles_router
    from maison.recommend.routes import router as recommend_router
    from maison.web.pages import router as web_router

    app.include_router(ingest_router)
    app.include_router(profiles_router)
    app.include_router(catalog_router)
    app.include_router(consent_router)
    app.include_router(privacy_router)
    app.include_router(models_router)
    app.include_router(personalize_router)
    app.include_router(recommend_router)
    app.include_router(web_router)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str | int]:
        # `worker`: which server process answered, so a supervisor (or the benchmark) can tell
        # that every worker is up before it opens long-lived connections.
        return {"status": "ok", "worker": os.getpid()}

    return app

