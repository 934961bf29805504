"""Errors that answer as ``{"error": {"code": ..., "message": ...}}``.

Hierarchy::

    ApiError (status, code)
      BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404,
      Conflict 409, PayloadTooLarge 413, Unprocessable 422, TooManyRequests 429

Services raise these; the edge turns them (and anything else) into JSON.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "Unprocessable",
    "TooManyRequests",
    "Unavailable",
    "NotSetUp",
]


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unprocessable(ApiError):
    status, code = 422, "invalid"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(ApiError):
    """A service this one depends on is down or refused (Rasa, on a publish)."""

    status, code = 503, "unavailable"


class NotSetUp(ApiError):
    """A part this deployment has not set up (the editors' writes, training):
    the request is fine, the service's state refuses it."""

    status, code = 409, "not_set_up"
