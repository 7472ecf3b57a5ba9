"""API Gateway REST events (Lambda proxy integration) in, JSON answers out.

The door every Alex Lambda handler shares. A handler maps each of its routes, API Gateway's
``(httpMethod, resource)``, to a function of the services and the request; the door finds
the route, lets the function validate its input with the API's own pydantic models
(``LambdaRequest.body``/``.query``/``.path``), runs it and answers its result as JSON.
Errors become status codes in one place, the table the FastAPI app uses too
(``alex.http.errors``), so a Lambda answers as ``alex serve`` does: 400 malformed JSON, 413
too large, 422 invalid fields, 404, 503, each with a ``message``. API Gateway checks the
API key (``private: true``) before the function runs; a missing or wrong key never reaches
this code.

The build (``services/common/build_lambda.py``) copies this file next to each ``handler.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alex.domain.errors import AlexError
from alex.http.errors import error_body, status_for, validation_error_body

logger = logging.getLogger("alex.lambda")
logger.setLevel(logging.INFO)

Event = Mapping[str, Any]
Response = dict[str, Any]
Model = TypeVar("Model", bound=BaseModel)

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


class RequestError(Exception):
    """A body refused before it is parsed: not base64 as declared (400), too large (413)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def respond(status: int, payload: object) -> Response:
    """A proxy-integration answer; the JSON is written as FastAPI's JSONResponse writes it."""
    return {
        "statusCode": int(status),
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
    }


def read_body(event: Event, max_bytes: int) -> bytes:
    """The request body's bytes; RequestError if it is not base64 as declared, or too large."""
    raw = event.get("body")
    if raw is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise RequestError(400, "Malformed JSON in the request body") from None
    else:
        data = str(raw).encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise RequestError(413, f"Request body is over the limit of {max_bytes:,} bytes")
    return data


class LambdaRequest:
    """One API Gateway event, read the way the FastAPI app reads its requests."""

    def __init__(self, event: Event, max_body_bytes: int) -> None:
        self.event = event
        self.max_body_bytes = max_body_bytes

    def body(self, model: type[Model]) -> Model:
        """The JSON body, validated by ``model`` (extra fields are refused by the model)."""
        data = read_body(self.event, self.max_body_bytes)
        if not data.strip():
            raise ValidationFailed([{"loc": ("body",), "msg": "Field required"}])
        try:
            value = json.loads(data)
        except (ValueError, RecursionError) as error:  # bad JSON and bad UTF-8 are ValueErrors
            raise ValidationFailed(
                [{"type": "json_invalid", "loc": ("body",), "msg": str(error)[:200]}]
            ) from None
        if not isinstance(value, dict):
            raise ValidationFailed([{"loc": ("body",), "msg": "Input should be a JSON object"}])
        return _validate(model, value)

    def query(self, model: type[Model]) -> Model:
        """The query string, validated by ``model``; repeated parameters become lists."""
        multi = self.event.get("multiValueQueryStringParameters") or {}
        single = self.event.get("queryStringParameters") or {}
        fields = model.model_fields
        values: dict[str, object] = {}
        for name in {*multi, *single}:
            given = list(multi.get(name) or [single[name]])
            annotation = fields[name].annotation if name in fields else None
            is_list = getattr(annotation, "__origin__", None) is list
            values[name] = given if is_list else given[-1]
        return _validate(model, values)

    def path(self, name: str) -> str:
        value = (self.event.get("pathParameters") or {}).get(name)
        if not isinstance(value, str):
            raise ValidationFailed([{"loc": ("path", name), "msg": "Field required"}])
        return value


def _validate(model: type[Model], value: dict[str, Any]) -> Model:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise ValidationFailed(error.errors()) from None


class ValidationFailed(Exception):
    """The request's input did not validate; answered as the FastAPI app answers it."""

    def __init__(self, errors: list[Any]) -> None:
        super().__init__("invalid request")
        self.errors = errors


Action = Callable[[Any, LambdaRequest], BaseModel]
Routes = Mapping[tuple[str, str], Action]


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

    def handle(self, event: Event, routes: Routes) -> Response:
        """Run the route ``event`` is for and answer its result as JSON."""
        action = routes.get((str(event.get("httpMethod")), str(event.get("resource"))))
        if action is None:
            return respond(404, error_body("Not Found"))
        if self.startup_error is not None:
            return _domain_error(self.startup_error)
        try:
            settings = getattr(self.services, "settings", None)
            max_bytes = getattr(settings, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
            answer = action(self.services, LambdaRequest(event, max_bytes))
            return respond(200, answer.model_dump(mode="json"))
        except RequestError as error:
            return respond(error.status, error_body(error.message))
        except ValidationFailed as error:
            return respond(*validation_error_body(error.errors))
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
