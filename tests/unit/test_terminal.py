"""alex.terminal: outside text printed literally, with no control character reaching the
terminal and no markup read from it."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from alex.terminal import safe_json, safe_text, visible

OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = f"[/x] [bold red]red[/bold red] \x1b[2J {OSC8} a\rb \x07\x00\x7f\x9b\u202etxt"


def rendered(markup: str) -> str:
    """What the CLI's consoles print for ``markup`` (markup on, emoji codes off)."""
    out = io.StringIO()
    Console(file=out, width=10_000, emoji=False).print(markup, highlight=False, soft_wrap=True)
    return out.getvalue().removesuffix("\n")


def test_controls_become_visible_escapes() -> None:
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible(OSC8) == "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\"
    assert visible("a\rb\x00\x7f\x85\x9b") == "a\\rb\\x00\\x7f\\x85\\x9b"
    assert visible("\u202eevil\u2066\u2028") == "\\u202eevil\\u2066\\u2028"
    assert visible(42) == "42"


def test_one_line_text_shows_newlines_and_tabs_multiline_keeps_them() -> None:
    assert visible("a\nb\tc") == "a\\nb\\tc"
    assert visible("a\nb\tc\r\nd\re", multiline=True) == "a\nb\tc\nd\\re"


def test_ordinary_text_is_unchanged() -> None:
    text = "Corvane Q3: €5.1bn, 北京 (+3.2%) — C:\\reports\\ [x] 🚀 :smile:"
    assert visible(text) == text
    assert rendered(safe_text(text)) == text


def test_hostile_text_prints_literally_and_emits_no_escape_byte() -> None:
    shown = rendered(f"[bold]{safe_text(HOSTILE)}[/bold] after")
    assert shown == visible(HOSTILE) + " after"
    assert "[/x] [bold red]red[/bold red]" in shown
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown)


@given(st.text())
def test_any_text_in_markup_renders_as_its_visible_form(text: str) -> None:
    # Followed by a tag, as in the CLI's f-strings (Rich's escape doubles a final
    # backslash so that it cannot escape the next tag).
    assert rendered(f"[dim]{safe_text(text)}[/dim]") == visible(text)
    lines = text.replace("\t", " ")  # Rich expands tabs to spaces
    assert rendered(f"[dim]{safe_text(lines, multiline=True)}[/dim]") == visible(
        lines, multiline=True
    )


@given(st.recursive(st.text() | st.integers() | st.none(), lambda inner: st.lists(inner)))
def test_safe_json_is_the_same_json_with_no_raw_controls(value: object) -> None:
    text = safe_json({"value": value})
    assert json.loads(text) == {"value": value}
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text)
    assert "\u202e" not in text and "\u2028" not in text
