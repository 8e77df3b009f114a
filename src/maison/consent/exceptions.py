from maison.core.errors import BadRequest


class InvalidConsent(BadRequest):
    code = "invalid_consent"
