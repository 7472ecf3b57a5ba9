"""`alex status` says whether the offline model is installed, without loading it."""

from __future__ import annotations

import importlib.metadata
import importlib.util

import pytest
from typer.testing import CliRunner

from alex import cli
from alex.cli import app
from alex.research import offline_model
from alex.research.offline_model import DEFAULT_MODEL, offline_model_installed


def test_the_model_installed_by_the_dev_group_is_seen() -> None:
    # `uv run` syncs the dev group, which holds the local-llm extra.
    assert offline_model_installed()


def test_a_missing_part_or_server_means_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    version = importlib.metadata.version
    missing = DEFAULT_MODEL.parts[3].distribution

    def without_one_part(name: str) -> str:
        if name == missing:
            raise importlib.metadata.PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr(importlib.metadata, "version", without_one_part)
    assert not offline_model_installed()
    monkeypatch.undo()

    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "0.1" if name == missing else version(name)
    )
    assert not offline_model_installed(), "another version of a part is not the pinned model"
    monkeypatch.undo()

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "xllamacpp" else find_spec(name)
    )
    assert not offline_model_installed()


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        (True, "the embedded offline model (Qwen2.5 Coder 0.5B, installed)"),
        (
            False,
            "the embedded offline model (Qwen2.5 Coder 0.5B, not installed: "
            "uv sync --extra local-llm)",
        ),
    ],
)
def test_status_says_whether_the_offline_model_is_installed(
    monkeypatch: pytest.MonkeyPatch, installed: bool, expected: str
) -> None:
    monkeypatch.setenv("ALEX_OFFLINE_MODEL", "qwen2.5-coder-0.5b")
    monkeypatch.setattr(offline_model, "offline_model_installed", lambda spec: installed)
    # The console's width was fixed when alex.cli was imported: widen it, so no row wraps.
    monkeypatch.setattr(cli.console, "width", 200)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "research model" in line)
    assert expected in row, row
