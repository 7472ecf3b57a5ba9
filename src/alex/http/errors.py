"""Domain errors to HTTP status codes: the one place every door uses."""

from __future__ import annotations

from http import HTTPStatus

from alex.domain.errors import (
    AlexError,
    ConfigError,
    EmbedderUnavailableError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    StoreUnavailableError,
)

# Most specific first: PayloadTooLargeError is an InvalidInputError.
_STATUS: tuple[tuple[type[AlexError], HTTPStatus], ...] = (
    (PayloadTooLargeError, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (InvalidInputError, HTTPStatus.UNPROCESSABLE_ENTITY),
    (NotFoundError, HTTPStatus.NOT_FOUND),
    (StoreUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (EmbedderUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (ConfigError, HTTPStatus.INTERNAL_SERVER_ERROR),
)


def status_for(error: AlexError) -> HTTPStatus:
    for error_type, status in _STATUS:
        if isinstance(error, error_type):
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def error_body(message: str, **extra: object) -> dict[str, object]:
    """Every error answer has a ``message``, as API Gateway's own answers do."""
    return {"message": message, **extra}
