"""Set variables in a ``.env`` file without disturbing its other lines.

python-dotenv's parser finds the assignments (the lines pydantic-settings reads), but its
``set_key`` is not used to write: it also deletes the blank lines before the assignment it
replaces (python-dotenv PR #704), rewrites every repeated assignment, and renames the file
once per variable.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dotenv.parser import parse_stream

# Values written without quotes, as a person would (keys, URLs, names); any other value is
# single-quoted as set_key quotes it, which python-dotenv reads back verbatim (no ${VAR}
# expansion, no `# comment`, spaces and newlines kept).
_PLAIN = re.compile(r"[A-Za-z0-9_\-.:/@+,=%~]*")


def _assignment(name: str, value: str) -> str:
    if _PLAIN.fullmatch(value):
        return f"{name}={value}\n"
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"{name}='{escaped}'\n"


def _updated(text: str, values: Mapping[str, str]) -> str:
    remaining = dict(values)
    parts: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        if binding.key is None or binding.key not in values:
            parts.append(original)
            continue
        # The parser counts the blank lines before an assignment as part of it: keep them.
        leading = original[: len(original) - len(original.lstrip())]
        parts.append(leading[: leading.rfind("\n") + 1])
        if binding.key in remaining:
            parts.append(_assignment(binding.key, remaining.pop(binding.key)))
        # else: a repeated assignment of a variable set here, dropped
    kept = "".join(parts)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    return kept + "".join(_assignment(name, value) for name, value in remaining.items())


def set_env_values(path: Path, values: Mapping[str, str]) -> None:
    """Replace each variable's line (or append it), keeping comments and other lines.

    Written to a temporary file and renamed, so a crash never leaves a half-written .env.
    The temporary file is created owner-only (``mkstemp``: 0600 on POSIX whatever the
    umask), so the .env it replaces ends owner-only too, also one an older Alex wrote 0644.
    """
    text = ""
    if path.exists():
        with path.open(encoding="utf-8", newline="") as stream:
            text = stream.read()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(_updated(text, values))
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
