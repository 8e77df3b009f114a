"""Recommendation errors: stable codes, rendered as `{code, message, details}` by the one handler."""

from __future__ import annotations

from maison.core.errors import BadRequest


class InvalidSurface(BadRequest):
    code = "invalid_surface"


class MissingProduct(BadRequest):
    """`surface=product_page` needs the `product_id` of the page."""

    code = "missing_product"
