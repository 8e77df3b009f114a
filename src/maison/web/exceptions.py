"""Errors of the web pages; the pages render them as HTML, never as JSON."""

from __future__ import annotations

from maison.core.errors import BadRequest, Forbidden, NotFound


class InvalidForm(BadRequest):
    """A submitted form is malformed or asks for a change that does not exist."""

    code = "invalid_form"


class FormRejected(Forbidden):
    """A form's signed field is missing, forged, for another link, or too old."""

    code = "form_rejected"


class NoDataForLink(NotFound):
    """The link is genuine but its client no longer exists (erased)."""

    code = "no_data_for_link"
