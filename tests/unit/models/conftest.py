"""CDNOW data comes with lifetimes (the `eval` extra): locally its tests skip with a loud reason
when lifetimes is missing; under CI=true, where `make test` installs the extra, they fail."""

from __future__ import annotations

import os

import pytest

from maison.models.exceptions import MissingExtra

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_extra(what: str) -> None:
    message = f"{what} is not installed: install maison[eval] (pip install -e '.[eval]')"
    if IN_CI:
        pytest.fail(f"{message}; CI must install the eval extra")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture
def cdnow_available() -> None:
    from maison.models.clv import cdnow

    try:
        if not cdnow.dataset_dir().is_dir():
            require_extra("lifetimes (CDNOW data)")
    except MissingExtra:
        require_extra("lifetimes (CDNOW data)")


@pytest.fixture
def matplotlib_available() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        require_extra("matplotlib")
