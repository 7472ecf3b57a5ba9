"""Which Chromium Playwright starts: Debian's ``/usr/bin/chromium`` when present (``.ci/run``
installs it on Linux CI; ``--no-sandbox`` only as root, where Chromium's sandbox cannot
start), else Playwright's own (``uv run playwright install chromium``). Shared by the browser
tests and ``scripts/make_screenshots.py``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def chromium_options() -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch``."""
    options: dict[str, Any] = {}
    if DEBIAN_CHROMIUM.exists():
        options["executable_path"] = str(DEBIAN_CHROMIUM)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            options["args"] = ["--no-sandbox"]
    return options
