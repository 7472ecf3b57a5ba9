"""Running `alex` as its own process, as `uv run alex ...` does (the console script calls
the same `main()` as `python -m alex`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_alex(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`alex <args>` in the project folder, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "alex", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
