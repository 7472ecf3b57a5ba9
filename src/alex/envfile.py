"""Set variables in a ``.env`` file without disturbing its other lines."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def set_env_values(path: Path, values: Mapping[str, str]) -> None:
    """Replace each variable's line (or append it), keeping comments and other lines.

    Written to a temporary file and renamed, so a crash never leaves a half-written .env.
    """
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    remaining = dict(values)
    updated: list[str] = []
    for line in lines:
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) in values:
            name = match.group(1)
            if name in remaining:
                updated.append(f"{name}={remaining.pop(name)}")
            continue  # a duplicate assignment of a variable we set: drop it
        updated.append(line)
    updated.extend(f"{name}={value}" for name, value in remaining.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(updated) + "\n", encoding="utf-8")
    temporary.replace(path)
