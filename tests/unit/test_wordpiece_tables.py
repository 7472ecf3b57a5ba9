"""The Unicode tables of ``alex.adapters.wordpiece`` (``wordpiece_tables.py``) are what their
committed generator (``scripts/make_wordpiece_tables.py``) finds by probing the installed
``tokenizers``: table by table, and the file as a whole."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from alex.adapters import wordpiece, wordpiece_tables

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_wordpiece_tables.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_wordpiece_tables", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def probed() -> tuple[dict[str, list[int]], list[tuple[int, int]]]:
    result: tuple[dict[str, list[int]], list[tuple[int, int]]] = load_generator().probe()
    return result


def points(table: str) -> set[int]:
    return {cp for first, last in wordpiece._ranges(table) for cp in range(first, last + 1)}


@pytest.mark.parametrize("name", load_generator().SETS)
def test_each_set_table_is_the_generators(
    name: str, probed: tuple[dict[str, list[int]], list[tuple[int, int]]]
) -> None:
    sets, _ = probed
    committed = points(getattr(wordpiece, name))
    generated = set(sets[name])
    assert sorted(committed - generated)[:20] == [] and sorted(generated - committed)[:20] == []


def test_the_lowercase_table_is_the_generators(
    probed: tuple[dict[str, list[int]], list[tuple[int, int]]],
) -> None:
    _, lowercase = probed
    committed = {(ord(a), ord(b)) for a, b in wordpiece._LOWER_EXTRA.items()}
    assert committed == set(lowercase)


def test_the_committed_file_is_the_generators_output() -> None:
    committed = Path(wordpiece_tables.__file__).read_text("utf-8")
    assert committed == load_generator().module_source()


def test_printed_tables_parse_back_to_the_same_code_points() -> None:
    generator = load_generator()
    source = generator.as_source(
        "_T", [generator._span(a, b) for a, b in [(0x41, 0x5A), (0xAD, 0xAD)]]
    )
    namespace: dict[str, str] = {}
    exec(source, namespace)  # the generator's own output, not outside input
    assert points(namespace["_T"]) == set(range(0x41, 0x5B)) | {0xAD}
