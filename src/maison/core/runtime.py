"""What a command-line run needs: settings, a migrated store, and MaisonError as exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine

from maison.core.db import make_engine, upgrade
from maison.core.errors import MaisonError
from maison.core.settings import Settings, get_settings

err = Console(stderr=True)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])


def open_store(settings: Settings | None = None) -> Engine:
    """The configured store, migrated to the newest schema."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    return engine


def cli_errors(fn: F) -> F:
    """Turn a MaisonError into a one-line message on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MaisonError as exc:
            err.print(f"[bold red]error[/] ({exc.code}): {exc.message}")
            for key, value in exc.details.items():
                err.print(f"  {key}: {value}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
