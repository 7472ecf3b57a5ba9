"""The deploy tests' marker (`uv run pytest -m "not deploy"` skips the ~80 s Serverless run)
and their Node.js tools."""

from __future__ import annotations

import pytest

from .helpers import ensure_node_tools


@pytest.fixture(scope="session")
def node_tools() -> None:
    """osls and compose installed (``npm ci`` on a fresh clone); skip only without Node.js."""
    ensure_node_tools()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "deploy: packages the Serverless services with osls (Node.js, ~80 s)"
    )
