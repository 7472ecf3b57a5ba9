"""Shared by the deploy tests: where things are, and loading the Lambda handlers in process."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
COMMON = SERVICES / "common"
LAMBDA_SERVICES = ("ingest", "search", "portfolio")
# Lambda functions from a container image (no zip): the researcher.
IMAGE_SERVICES = ("researcher",)
ALL_SERVICES = ("infrastructure", *LAMBDA_SERVICES, *IMAGE_SERVICES)


def service_dir(name: str) -> Path:
    return ROOT / "infrastructure" if name == "infrastructure" else SERVICES / name


def load_handler(name: str) -> ModuleType:
    """``services/<name>/handler.py`` with the shared door from ``services/common``.

    The handler imports ``lambda_http`` as a top-level module (in the zip it sits next to
    it); here it comes from ``services/common``, never from a build copy.
    """
    if str(COMMON) not in sys.path:
        sys.path.insert(0, str(COMMON))
    module_name = f"alex_lambda_{name}_handler"
    spec = importlib.util.spec_from_file_location(module_name, SERVICES / name / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


# package.json's "engines": ^20.19.0 || ^22.13.0 || >=24.
NODE_RANGES = (((20, 19), (21, 0)), ((22, 13), (23, 0)), ((24, 0), (10_000, 0)))


@functools.cache
def node_tools_missing() -> str | None:
    """Why the Serverless tests cannot run on this machine (no suitable Node.js), or None.

    A missing ``node_modules`` is not a reason: :func:`ensure_node_tools` installs it.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None or shutil.which("npx") is None:
        return "Node.js 20.19+ with npm is not installed (needed for osls; see docs/deploy.md)"
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+\s*", found.stdout)
    version = (int(match[1]), int(match[2])) if match else (0, 0)
    if not any(low <= version < high for low, high in NODE_RANGES):
        return f"Node.js {found.stdout.strip()} is not one osls supports (^20.19, ^22.13, >=24)"
    if shutil.which("uv") is None and not os.environ.get("UV"):
        return "uv is not on PATH (the Lambda build runs `uv export`)"
    return None


def ensure_node_tools() -> None:
    """Node.js tools ready for a test: skipped without a suitable Node.js (an OS capability);
    on a fresh clone (no ``node_modules/.bin/osls``) ``npm ci`` runs first, once."""
    reason = node_tools_missing()
    if reason is not None:
        pytest.skip(reason)
    if not (ROOT / "node_modules" / ".bin" / "osls").exists():
        failure = _npm_ci()
        if failure is not None:
            pytest.fail(failure)


@functools.cache
def _npm_ci() -> str | None:
    """Runs ``npm ci`` in the project; why it failed, or None."""
    npm = shutil.which("npm")
    assert npm is not None
    command = [npm, "ci", "--no-audit", "--no-fund"]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=False
    )
    if result.returncode == 0:
        return None
    return f"npm ci failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def npx() -> str:
    found = shutil.which("npx")
    assert found is not None
    return found


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for osls: this test's Python first on PATH (invoke local runs python3)."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = sys.prefix
    env["SLS_TELEMETRY_DISABLED"] = "1"
    env["SLS_NOTIFICATIONS_MODE"] = "off"
    env.update(extra or {})
    return env
