"""One root error with a stable code and HTTP status; one handler renders `{code, message, details}`.

Messages say what was wrong and what is allowed; they never carry personal data.
"""

from __future__ import annotations

from typing import Any


class MaisonError(Exception):
    """Root of every error Maison raises on purpose."""

    code: str = "maison_error"
    status: int = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class BadRequest(MaisonError):
    code = "bad_request"
    status = 400


class InvalidMessage(BadRequest):
    code = "invalid_message"


class MalformedBody(BadRequest):
    code = "malformed_body"


class PayloadTooLarge(MaisonError):
    code = "payload_too_large"
    status = 413


class Unauthorized(MaisonError):
    code = "unauthorized"
    status = 401


class Forbidden(MaisonError):
    code = "forbidden"
    status = 403


class NotFound(MaisonError):
    code = "not_found"
    status = 404


class Conflict(MaisonError):
    code = "conflict"
    status = 409


class InvalidFile(MaisonError):
    """A file given to an import command has errors; nothing from it was written."""

    code = "invalid_file"
    status = 400
