"""Generate the Unicode tables of ``alex.adapters.wordpiece`` by probing ``tokenizers``.

The pure-Python tokenizer must treat every character as the Rust ``tokenizers`` library
does, whose crates freeze older Unicode versions than Python's :mod:`unicodedata`. So the
tables are not taken from any Unicode database: each is what ``tokenizers`` itself does to
every code point (surrogates aside), asked through its public normalizers and
pre-tokenizer:

* ``_CONTROL``: removed by ``BertNormalizer(clean_text=True)`` from ``"a" + c + "b"``
  (U+FFFD is removed by its own rule, so it is left out);
* ``_WHITESPACE``: ``BertPreTokenizer`` splits ``"a" + c + "b"`` into ``a``, ``b``;
* ``_PUNCTUATION``: ``BertPreTokenizer`` isolates ``c`` between ``a`` and ``b``;
* ``_CHINESE``: ``BertNormalizer(handle_chinese_chars=True)`` pads ``c`` with spaces;
* ``_DECOMPOSABLE``: ``NFD`` changes ``c``;
* ``_NON_STARTER`` (characters NFD leaves alone): ``NFD`` moves U+0334 (combining class 1)
  before U+0301 (230) across ``c`` in ``"\\u0301" + c + "\\u0334"``, which it only does when
  ``c`` is not a starter;
* ``_NONSPACING_MARK`` (characters NFD leaves alone): ``strip_accents`` removes ``c`` from
  ``"a" + c``;
* ``_LOWERCASE_EXTRA``: ``BertNormalizer(lowercase=True)`` maps ``c`` to one character other
  than Python's ``str.lower``.

Decomposable characters never reach the last two tests in Alex (it decomposes first), so
they are left out of those tables. ``tests/unit/test_wordpiece_tables.py`` runs this against
the committed ``src/alex/adapters/wordpiece_tables.py``; after a ``tokenizers`` upgrade::

    uv run python scripts/make_wordpiece_tables.py

rewrites that file (``tests/unit/test_wordpiece.py`` then checks the tokenizer against the
new version on every code point).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import normalizers, pre_tokenizers

TABLES = Path(__file__).resolve().parents[1] / "src" / "alex" / "adapters" / "wordpiece_tables.py"
SURROGATES = range(0xD800, 0xE000)
CODE_POINTS = [cp for cp in range(0x110000) if cp not in SURROGATES]


def _bert(**options: bool) -> normalizers.Normalizer:
    settings = {
        "clean_text": False,
        "handle_chinese_chars": False,
        "strip_accents": False,
        "lowercase": False,
    }
    settings.update(options)
    return normalizers.BertNormalizer(**settings)


SETS = (
    "_CONTROL",
    "_WHITESPACE",
    "_PUNCTUATION",
    "_CHINESE",
    "_DECOMPOSABLE",
    "_NON_STARTER",
    "_NONSPACING_MARK",
)


def probe() -> tuple[dict[str, list[int]], list[tuple[int, int]]]:
    """Each set table's code points, and the (code point, lowercase) pairs, as ``tokenizers``
    behaves."""
    clean = _bert(clean_text=True).normalize_str
    chinese = _bert(handle_chinese_chars=True).normalize_str
    strip = _bert(strip_accents=True).normalize_str
    lower = _bert(lowercase=True).normalize_str
    nfd = normalizers.NFD().normalize_str
    split = pre_tokenizers.BertPreTokenizer().pre_tokenize_str
    sets: dict[str, list[int]] = {name: [] for name in SETS}
    lowercase: list[tuple[int, int]] = []
    for cp in CODE_POINTS:
        c = chr(cp)
        if clean(f"a{c}b") == "ab" and c != "\ufffd":
            sets["_CONTROL"].append(cp)
        words = [word for word, _ in split(f"a{c}b")]
        if words == ["a", "b"]:
            sets["_WHITESPACE"].append(cp)
        elif words == ["a", c, "b"]:
            sets["_PUNCTUATION"].append(cp)
        if chinese(c) == f" {c} ":
            sets["_CHINESE"].append(cp)
        if nfd(c) != c:
            sets["_DECOMPOSABLE"].append(cp)
        else:
            reordered = nfd(f"\u0301{c}\u0334")
            if reordered.index("\u0334") < reordered.index("\u0301"):
                sets["_NON_STARTER"].append(cp)
            if strip(f"a{c}") == "a":
                sets["_NONSPACING_MARK"].append(cp)
        lowered = lower(c)
        if len(lowered) == 1 and lowered != c.lower():
            lowercase.append((cp, ord(lowered)))
    return sets, lowercase


def ranges(points: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive code points merged into inclusive (first, last) spans."""
    spans: list[tuple[int, int]] = []
    for cp in sorted(points):
        if spans and spans[-1][1] == cp - 1:
            spans[-1] = (spans[-1][0], cp)
        else:
            spans.append((cp, cp))
    return spans


def mapping_runs(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(first, last, target): first..last map to target.. in order."""
    runs: list[tuple[int, int, int]] = []
    for cp, target in sorted(pairs):
        if runs and runs[-1][1] == cp - 1 and runs[-1][2] + (cp - runs[-1][0]) == target:
            runs[-1] = (runs[-1][0], cp, runs[-1][2])
        else:
            runs.append((cp, cp, target))
    return runs


def _span(first: int, last: int) -> str:
    return f"{first:X}" if first == last else f"{first:X}-{last:X}"


def as_source(name: str, items: list[str]) -> str:
    """``name = ("...")`` in wordpiece.py's style: space-separated items, lines under 100."""
    lines: list[str] = []
    line = ""
    for item in items:
        if len(line) + len(item) + 1 > 90:
            lines.append(line)
            line = ""
        line += item + " "
    lines.append(line)
    if len(lines) == 1 and len(name) + len(lines[0]) < 90:
        return f'{name} = "{lines[0]}"'
    body = "\n".join(f'    "{text}"' for text in lines)
    return f"{name} = (\n{body}\n)"


HEADER = '''"""The tables of ``alex.adapters.wordpiece``: what ``tokenizers`` does per code point.

Generated by ``scripts/make_wordpiece_tables.py`` (do not edit by hand); the script's
docstring says how each table is probed. Code point ranges are hex and inclusive;
``LOWERCASE_EXTRA``'s "first-last:target" maps first..last to target.. in order.
"""

# Generated from tokenizers {version}.
'''


def module_source() -> str:
    """The whole ``wordpiece_tables.py``, as this script writes it."""
    import tokenizers

    sets, lowercase = probe()
    parts = [HEADER.format(version=tokenizers.__version__)]
    for name, points in sets.items():
        parts.append(as_source(name.lstrip("_"), [_span(a, b) for a, b in ranges(points)]))
    runs = mapping_runs(lowercase)
    parts.append(as_source("LOWERCASE_EXTRA", [f"{_span(a, b)}:{t:X}" for a, b, t in runs]))
    return "\n".join(parts) + "\n"


def main() -> None:
    TABLES.write_text(module_source(), "utf-8")
    print(f"wrote {TABLES}")


if __name__ == "__main__":
    main()
