"""`alex serve` shows the API key in full only on the start that made it, masked after."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from alex.cli import app

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`alex serve` runs to where it would start uvicorn, and returns."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    return calls


def serve() -> str:
    result = runner.invoke(app, ["serve", "--no-samples"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def key_in(env_file: Path) -> str:
    found = re.search(r"^ALEX_API_KEY=(\S+)$", env_file.read_text("utf-8"), re.M)
    assert found, env_file.read_text("utf-8")
    return found.group(1)


def test_the_key_is_printed_once_when_made_then_masked(
    isolated_settings: Path, served: list[dict[str, Any]]
) -> None:
    first = serve()
    key = key_in(isolated_settings)
    assert first.count(key) == 1, first  # the panel; the commands read it from .env
    assert "$ALEX_API_KEY" in first and "$env:ALEX_API_KEY" in first

    second = serve()
    assert key_in(isolated_settings) == key
    assert key not in second, second
    assert f"****{key[-4:]}" in second
    assert str(isolated_settings) in second  # where to find it
    assert len(served) == 2


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_serve_makes_a_world_readable_env_file_owner_only(
    isolated_settings: Path, served: list[dict[str, Any]]
) -> None:
    isolated_settings.write_text("ALEX_API_KEY=an-older-alex-wrote-this-key\n")
    isolated_settings.chmod(0o644)
    output = serve()
    assert "an-older-alex-wrote-this-key" not in output
    assert stat.S_IMODE(isolated_settings.stat().st_mode) == 0o600


def test_a_key_from_the_environment_is_masked_and_the_commands_use_the_variable(
    isolated_settings: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "a-key-from-the-environment-0123456789"
    monkeypatch.setenv("ALEX_API_KEY", key)
    output = serve()
    assert key not in output
    assert f"****{key[-4:]}" in output and "ALEX_API_KEY from the environment" in output
    assert "sed -n" not in output  # no .env to read it from
    assert '-H "x-api-key: $ALEX_API_KEY"' in output
    assert not isolated_settings.exists()
