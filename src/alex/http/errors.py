"""Domain errors to HTTP status codes: the one place every door uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from alex.domain import errors as domain_errors
from alex.domain.errors import (
    AlexError,
    AnalysisFailedError,
    ChatModelUnavailableError,
    ConfigError,
    EmbedderUnavailableError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    ResearchFailedError,
    SourceUnavailableError,
    StoreUnavailableError,
)

# Most specific first: PayloadTooLargeError is an InvalidInputError.
_STATUS: tuple[tuple[type[AlexError], HTTPStatus], ...] = (
    (PayloadTooLargeError, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (InvalidInputError, HTTPStatus.UNPROCESSABLE_ENTITY),
    (NotFoundError, HTTPStatus.NOT_FOUND),
    (StoreUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (EmbedderUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    (ChatModelUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
    # The model (an upstream service) gave no usable answer.
    (ResearchFailedError, HTTPStatus.BAD_GATEWAY),
    (AnalysisFailedError, HTTPStatus.BAD_GATEWAY),
    (SourceUnavailableError, HTTPStatus.BAD_GATEWAY),
    (ConfigError, HTTPStatus.INTERNAL_SERVER_ERROR),
)


def status_for(error: AlexError | type[AlexError]) -> HTTPStatus:
    error_class = error if isinstance(error, type) else type(error)
    for error_type, status in _STATUS:
        if issubclass(error_class, error_type):
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def status_for_kind(kind: str) -> HTTPStatus:
    """The status of an error kept by its kind, a class name of ``alex.domain.errors`` (as a
    research job keeps its error); 500 for any other name."""
    error_type = getattr(domain_errors, kind, None)
    if isinstance(error_type, type) and issubclass(error_type, AlexError):
        return status_for(error_type)
    return HTTPStatus.INTERNAL_SERVER_ERROR


def error_body(message: str, **extra: object) -> dict[str, object]:
    """Every error answer has a ``message``, as API Gateway's own answers do."""
    return {"message": message, **extra}


def validation_error_body(
    errors: Iterable[Mapping[str, Any]],
) -> tuple[HTTPStatus, dict[str, object]]:
    """Pydantic's validation errors as an answer: 400 for a body that is not JSON, 422 naming
    each invalid field otherwise. The FastAPI app and the Lambda door both answer with this."""
    errors = list(errors)
    details: list[dict[str, object]] = []
    for error in errors:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in _LOCATIONS)
        details.append({"field": location or "body", "problem": str(error.get("msg", ""))})
    if any(error.get("type") == "json_invalid" for error in errors):
        return HTTPStatus.BAD_REQUEST, error_body(
            "Malformed JSON in the request body", errors=details
        )
    summary = "; ".join(f"{item['field']}: {item['problem']}" for item in details[:5])
    return HTTPStatus.UNPROCESSABLE_ENTITY, error_body(
        f"Invalid request: {summary}", errors=details
    )


# Where FastAPI says a field came from; the field's own name is what a client needs.
_LOCATIONS = frozenset({"body", "query", "path"})
