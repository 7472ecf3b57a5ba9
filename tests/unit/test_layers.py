"""Layers point one way: every import under src/alex, read with ast, against the rules.

Every import counts, wherever it is written: at the top, inside a function (the lazy
imports that keep the Lambda light) or under ``TYPE_CHECKING`` (still a dependency of the
code's meaning). The rules (docs/architecture.md):

* ``alex.domain`` imports nothing of Alex outside ``alex.domain``, and from outside Alex
  only the standard library, none of its I/O modules;
* the core (domain, ports, use cases, research, settings, loaders) never imports a door
  (``alex.http``, ``alex.cli``, ``alex.remote``, ``alex.web``), the composition root
  (``alex.services``) or an adapter (``alex.adapters``): the root hands adapters in;
* adapters never import a door or the composition root.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "alex"

CORE = (
    "alex.domain",
    "alex.ports",
    "alex.ingest",
    "alex.search",
    "alex.documents",
    "alex.research",
    "alex.planner",
    "alex.portfolio",
    "alex.planner",
    "alex.config",
    "alex.loaders",
)
DOORS = ("alex.http", "alex.cli", "alex.remote", "alex.web")
ROOT = "alex.services"
ADAPTERS = "alex.adapters"
# The standard library's ways out of the process: the domain computes, it does not reach out.
STDLIB_IO = frozenset(
    {
        "asyncio",
        "http",
        "io",
        "os",
        "pathlib",
        "shutil",
        "socket",
        "sqlite3",
        "ssl",
        "subprocess",
        "tempfile",
        "urllib",
    }
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


@cache
def imports() -> dict[str, frozenset[str]]:
    """Each module of src/alex and every module it imports (absolute names)."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the module's package upwards
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                # ``from alex.http import operations`` imports alex.http.operations.
                names.add(target)
                names.update(f"{target}.{alias.name}" for alias in node.names)
        found[name] = frozenset(names)
    return found


def broken(rule: str, modules: list[str], banned: tuple[str, ...]) -> list[str]:
    """``module imports target (rule)`` for each banned import (modules, not their names)."""
    problems = []
    for module in modules:
        targets = imports()[module]
        for target in sorted(targets):
            if within(target, *banned) and target.rpartition(".")[0] not in targets:
                problems.append(f"{module} imports {target} ({rule})")
    return problems


def test_the_scanner_sees_every_kind_of_import() -> None:
    """Not vacuous: function-level, TYPE_CHECKING and package-relative imports are found."""
    found = imports()
    assert len(found) > 40
    assert "alex.adapters.sqlite_store" in found["alex.services"]  # inside a function
    assert "alex.research.llm" in found["alex.services"]  # under TYPE_CHECKING
    assert "alex.http.operations" in found["alex.http.app"]  # from alex.http import operations


def test_the_domain_depends_on_nothing_but_itself_and_the_standard_library() -> None:
    problems = []
    for module, targets in imports().items():
        if not within(module, "alex.domain"):
            continue
        for target in sorted(targets):
            top = target.split(".")[0]
            if top == "alex":
                if not within(target, "alex.domain"):
                    problems.append(f"{module} imports {target}: outside the domain")
            elif top == "__future__":
                continue
            elif top not in sys.stdlib_module_names:
                problems.append(f"{module} imports {target}: not the standard library")
            elif top in STDLIB_IO:
                problems.append(f"{module} imports {target}: I/O")
    assert problems == []


def test_the_core_never_imports_a_door_the_root_or_an_adapter() -> None:
    core = [module for module in imports() if within(module, *CORE)]
    assert {"alex.research.service", "alex.ports", "alex.domain.models"} <= set(core)
    assert broken("core -> door, root or adapter", core, (*DOORS, ROOT, ADAPTERS)) == []


def test_adapters_never_import_a_door_or_the_root() -> None:
    adapters = [module for module in imports() if within(module, ADAPTERS)]
    assert "alex.adapters.sqlite_store" in adapters
    assert broken("adapter -> door or root", adapters, (*DOORS, ROOT)) == []


@pytest.mark.parametrize("door", DOORS)
def test_doors_exist(door: str) -> None:
    """The rules name real modules (a rename must update them)."""
    assert any(within(module, door) for module in imports())
