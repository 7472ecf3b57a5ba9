"""Serving the app with uvicorn, as ``alex serve`` and the researcher's container do."""

from __future__ import annotations

import copy
import logging
from typing import Any


class PathWithoutQuery(logging.Filter):
    """Logs uvicorn's access lines with the path only, never the query string.

    The app reads the key only from the ``x-api-key`` header, but a client may still send
    it as ``?api_key=...``; query strings of a personal API are not worth logging anyway.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access logs '%s - "%s %s HTTP/%s" %d' with (client, method, path?query,
        # HTTP version, status); its formatter reads the same tuple.
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].partition("?")[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with :class:`PathWithoutQuery` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_without_query"] = {"()": PathWithoutQuery}
    config["loggers"]["uvicorn.access"]["filters"] = ["path_without_query"]
    return config


def options(host: str, port: int) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` for ``host:port``."""
    return {"host": host, "port": port, "log_level": "info", "log_config": log_config()}


def run(app: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, **options(host, port))
