"""API Gateway REST events (Lambda proxy integration) in, JSON answers out.

The door every Alex Lambda handler shares: it parses the JSON body, runs one use case and
answers JSON. Domain errors become status codes through ``alex.http.errors``, the one mapping
every door uses, so a Lambda answers as ``alex serve`` does: 400 malformed JSON, 413 too
large, 422 invalid fields, 404, 503, each with a ``message``. API Gateway checks the API key
(``private: true``) before the function runs; a missing or wrong key never reaches this code.

The build (``services/common/build_lambda.py``) copies this file next to each ``handler.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from alex.domain.errors import AlexError
from alex.http.errors import error_body, status_for

logger = logging.getLogger("alex.lambda")
logger.setLevel(logging.INFO)

Event = Mapping[str, Any]
Response = dict[str, Any]
Body = dict[str, Any]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


class RequestError(Exception):
    """A request refused before any use case runs (bad JSON, unknown field, too large)."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def respond(status: int, payload: object) -> Response:
    """A proxy-integration answer; the JSON is written as FastAPI's JSONResponse writes it."""
    return {
        "statusCode": int(status),
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
    }


def parse_body(event: Event, fields: Collection[str], max_bytes: int) -> Body:
    """The request's JSON object; RequestError says what is wrong with it."""
    raw = event.get("body")
    data: bytes
    if raw is None:
        data = b""
    elif event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise RequestError(400, "Malformed JSON in the request body") from None
    else:
        data = str(raw).encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise RequestError(413, f"Request body is over the limit of {max_bytes:,} bytes")
    if not data.strip():
        raise _invalid("body", "Field required")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise RequestError(
            400,
            "Malformed JSON in the request body",
            errors=[{"field": "body", "problem": str(error)[:200]}],
        ) from None
    if not isinstance(value, dict):
        raise _invalid("body", "Input should be a JSON object")
    unknown = sorted(key for key in value if key not in fields)
    if unknown:
        raise _invalid(unknown[0], "Extra inputs are not permitted")
    return value


def _invalid(field: str, problem: str) -> RequestError:
    """422 worded as the HTTP app words its request-validation errors."""
    return RequestError(
        422, f"Invalid request: {field}: {problem}", errors=[{"field": field, "problem": problem}]
    )


class LambdaDoor:
    """One per container: the services are built once, at import, and reused by every call.

    A configuration error while building them is kept and answered (500, naming the
    variable) on each request rather than crashing the container's start.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self.services: Any = None
        self.startup_error: AlexError | None = None
        try:
            self.services = build()
        except AlexError as error:
            logger.error("Alex could not start: %s", error.message)
            self.startup_error = error

    def handle(
        self, event: Event, fields: Collection[str], action: Callable[[Any, Body], object]
    ) -> Response:
        """Parse the body, run ``action(services, body)``, answer its result as JSON."""
        if self.startup_error is not None:
            return _domain_error(self.startup_error)
        try:
            settings = getattr(self.services, "settings", None)
            max_bytes = getattr(settings, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
            body = parse_body(event, fields, max_bytes)
            return respond(200, action(self.services, body))
        except RequestError as error:
            return respond(error.status, error_body(error.message, **error.extra))
        except AlexError as error:
            return _domain_error(error)
        except Exception:
            logger.exception("Unhandled error")
            return respond(500, error_body("Internal server error"))


def _domain_error(error: AlexError) -> Response:
    status = status_for(error)
    if status >= 500:
        logger.error("%s: %s", type(error).__name__, error.message)
    return respond(status, error_body(error.message))
