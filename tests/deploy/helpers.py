"""Shared by the deploy tests: where things are, and loading the Lambda handlers in process."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
COMMON = SERVICES / "common"
LAMBDA_SERVICES = ("ingest", "search")
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


def node_tools_missing() -> str | None:
    """Why the Serverless tests cannot run here, or None."""
    if shutil.which("npx") is None:
        return "Node.js/npx is not installed (needed for osls; see docs/deploy.md)"
    if not (ROOT / "node_modules" / "osls").is_dir():
        return "node_modules is missing: run `npm ci` in the project folder"
    if shutil.which("uv") is None and not os.environ.get("UV"):
        return "uv is not on PATH (the Lambda build runs `uv export`)"
    return None


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
