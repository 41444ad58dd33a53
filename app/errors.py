"""Errors that carry their HTTP status.  Services raise these; the API renders them as
RFC 9457 problem+json, the CLI prints them as messages."""

from __future__ import annotations

from typing import Any


class ChanjiaoError(Exception):
    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, code: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}
        # What happened, for messages in the reader's language (app/web/messages.py): a stable
        # code and the values its sentence names.  ``extra`` goes into the problem body as well.
        self.code = code
        self.params = params or {}


class Unauthorized(ChanjiaoError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ChanjiaoError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(ChanjiaoError):
    status, title, type_slug = 404, "Not found", "not-found"

    @classmethod
    def of(cls, entity: str, entity_id: object) -> NotFound:
        return cls(f"{entity} {entity_id} not found", code="not_found", params={"entity": entity, "id": entity_id})


class Conflict(ChanjiaoError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PreconditionFailed(ChanjiaoError):
    status, title, type_slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(ChanjiaoError):
    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(ChanjiaoError):
    status, title, type_slug = 415, "Unsupported media type", "unsupported-media-type"


class Unprocessable(ChanjiaoError):
    """Input that parses but is wrong.  ``errors`` lists (location, message) pairs."""

    status, title, type_slug = 422, "Unprocessable content", "validation-error"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None, *, code: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(detail, extra={"errors": errors or []}, code=code, params=params)


class NotScorable(Unprocessable):
    """A profile with too little text to score: it gets no score and this reason, never a default."""


class PreconditionRequired(ChanjiaoError):
    status, title, type_slug = 428, "Precondition required", "precondition-required"


class TooManyRequests(ChanjiaoError):
    status, title, type_slug = 429, "Too many requests", "rate-limited"


class ServiceUnavailable(ChanjiaoError):
    status, title, type_slug = 503, "Service unavailable", "service-unavailable"


def field_error(field: str, message: str, *, location: str = "body") -> Unprocessable:
    return Unprocessable(message, [{"loc": [location, field], "msg": message}])
