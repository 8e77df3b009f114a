"""Catalog errors: stable codes, rendered as `{code, message, details}` by the one handler."""

from __future__ import annotations

from collections.abc import Sequence

from maison.catalog.entities import RowError
from maison.core.errors import InvalidFile, NotFound


class UnknownProduct(NotFound):
    code = "unknown_product"


class UnknownContentPage(NotFound):
    code = "unknown_content_page"


class InvalidCatalogFile(InvalidFile):
    """An import file with errors; nothing from it was written. Keeps the errors for display."""

    def __init__(self, file: str, errors: Sequence[RowError]) -> None:
        lines = len({e.line for e in errors})
        super().__init__(
            f"{file} has {len(errors)} error(s) on {lines} line(s); nothing was imported",
            details={"file": file, "errors": [e.to_dict() for e in errors]},
        )
        self.errors = list(errors)
