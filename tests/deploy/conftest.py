"""The deploy tests' marker: `uv run pytest -m "not deploy"` skips the ~80 s Serverless run."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "deploy: packages the Serverless services with osls (Node.js, ~80 s)"
    )
