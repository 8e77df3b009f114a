"""Personalisation errors: stable codes, rendered as `{code, message, details}` by the one handler."""

from __future__ import annotations

from maison.core.errors import BadRequest, NotFound


class NoDigest(NotFound):
    """Nothing to send that week: no usable declared category, an objection, or a restriction."""

    code = "no_digest"


class InvalidWeek(BadRequest):
    code = "invalid_week"
