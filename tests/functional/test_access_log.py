"""The server's access log never holds a query string (a key sent as ?api_key=... stays out)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from alex.http import server

LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    """uvicorn configures logging globally: put its loggers back as they were afterwards."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in loggers]
    yield []
    for logger, (handlers, filters, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate = propagate


class Lines(logging.Handler):
    def __init__(self, lines: list[str], formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.lines = lines
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_the_access_log_has_the_path_without_the_query(access_lines: list[str]) -> None:
    api = FastAPI()

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # The options `alex serve` and the researcher's container pass to uvicorn.run.
    running = uvicorn.Server(uvicorn.Config(api, **server.options("127.0.0.1", 0)))
    access = logging.getLogger("uvicorn.access")
    # Formatted by the handler uvicorn writes the access log with.
    access.addHandler(Lines(access_lines, access.handlers[0].formatter))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not running.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = running.servers[0].sockets[0].getsockname()[1]
        answer = httpx.get(
            f"http://127.0.0.1:{port}/health?api_key=secret-key-in-the-query", trust_env=False
        )
        assert answer.status_code == 200
    finally:
        running.should_exit = True
        thread.join(timeout=30)
    assert any('"GET /health HTTP/1.1" 200' in line for line in access_lines), access_lines
    assert not any("secret-key-in-the-query" in line for line in access_lines), access_lines
