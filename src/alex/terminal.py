"""Text that came from outside (stored documents, fetched pages, file names, user input),
made safe to print on a terminal.

Two dangers: Rich reads ``[...]`` as markup (``[/x]`` raises MarkupError, ``[link=...]``
makes a hyperlink), and the terminal obeys control characters (``\\x1b[2J`` clears the
screen, OSC 8 writes links, ``\\r`` overwrites a line, bidi overrides reorder it). Controls
are shown as Python escapes (``\\x1b``, ``\\r``, ``\\u202e``): visible, unambiguous, ASCII.
"""

from __future__ import annotations

import json
import re

from rich.markup import escape

# C0 (tab and newline are handled apart), DEL, C1, and the invisible characters that
# reorder or break a line: bidi marks, embeddings, overrides and isolates ("Trojan Source"),
# the Unicode line and paragraph separators.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\t\n{_CONTROLS}]")
_MULTILINE = re.compile(f"[{_CONTROLS}]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def visible(value: object, *, multiline: bool = False) -> str:
    """``value`` as text with every control character shown as an escape (``\\x1b``).

    ``multiline`` keeps newlines and tabs (a document's text); a CRLF line end is kept as a
    line break. For text printed without markup (``markup=False``, ``rich.text.Text``).
    """
    text = str(value)
    if multiline:
        return _MULTILINE.sub(_escaped, text.replace("\r\n", "\n"))
    return _ONE_LINE.sub(_escaped, text)


def safe_text(value: object, *, multiline: bool = False) -> str:
    """``value`` ready to embed in Rich markup: controls visible, brackets escaped."""
    return escape(visible(value, multiline=multiline))


def safe_json(value: object) -> str:
    """``value`` as indented JSON that is also safe on a terminal; the same JSON value.

    ``json.dumps`` escapes C0 controls itself but writes DEL, C1 and the bidi characters
    raw; outside strings JSON is ASCII, so escaping them as ``\\uXXXX`` changes nothing else.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _MULTILINE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
