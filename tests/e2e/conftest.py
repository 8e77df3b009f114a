"""Fixtures for end-to-end tests: a live Maison API, a shop page on another origin, Chromium.

Browser tests skip locally with a loud reason when Debian's Chromium or the npm package is
missing, and fail under CI=true, where `make browser` must have installed both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import Engine

from e2e.e2e_live import (
    ANALYTICS_NEXT_UMD,
    CHROMIUM,
    CHROMIUM_ARGS,
    HERE,
    IN_CI,
    SHOP_PAGE,
    LiveApi,
    LiveServer,
    RequestLog,
)
from maison.core.settings import Settings


@pytest.fixture
def live_api(engine: Engine, settings: Settings) -> Iterator[LiveApi]:
    """The real Maison app on a free loopback port, over the test's SQLite or PostgreSQL store."""
    from maison.app import create_app

    log = RequestLog(create_app(settings, engine=engine, migrate=False))
    with LiveServer(log) as server:
        yield LiveApi(url=server.url, engine=engine, log=log)


def _missing(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run; `make browser` installs it)", pytrace=False)
    pytest.skip(f"SKIPPING BROWSER TEST - {reason}; run `make browser` to install it")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never `playwright install`)."""
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def analytics_next_umd() -> Path:
    """The analytics-next UMD bundle folder from tests/e2e/js/node_modules."""
    if not (ANALYTICS_NEXT_UMD / "index.js").exists():
        _missing(f"no analytics-next bundle at {ANALYTICS_NEXT_UMD.relative_to(HERE.parents[1])}")
    return ANALYTICS_NEXT_UMD


@pytest.fixture
def shop(analytics_next_umd: Path) -> Iterator[LiveServer]:
    """The shop page and analytics.js, served from an origin of its own (loopback, free port).

    The bundle's folder is served at `/analytics-next/bundles/`, where webpack looks for lazily
    loaded chunks once the page sets `window.analytics._cdn` to its own origin.
    """
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = Starlette(
        routes=[
            Mount("/analytics-next/bundles", StaticFiles(directory=analytics_next_umd)),
            Mount("/", StaticFiles(directory=SHOP_PAGE, html=True)),
        ]
    )
    with LiveServer(app) as server:
        yield server
