"""Text into sentences, and list marks off a line: shared by the researcher's evidence (page
text) and the planner's number check (a report's Markdown).

A sentence ends at . ! or ? (and any closing quote or bracket) before a space and a capital,
digit, currency sign or opening quote; "Inc. reported" and "U.S. stocks" are not ends (a
known abbreviation or a single letter before the stop).
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9$\u00a3\u20ac\u00a5])"
)
_ABBREVIATIONS = frozenset(
    {
        "inc", "corp", "co", "ltd", "plc", "llc", "mr", "mrs", "ms", "dr", "st", "no", "vs",
        "etc", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "est", "u.s", "u.k", "e.g", "i.e", "p.m", "a.m", "fig", "ft", "jr", "sr",
    }
)  # fmt: skip
# A bullet, a quote mark, a Markdown heading's hashes or a list number ("1." or "2)").
BULLET = re.compile(r"^\s*(?:[-*•·▪◦▲▼►▶■□✓✔>]|#{1,6}|\d{1,2}[.)](?=\s))\s+")


def without_bullet(line: str) -> str:
    """``"- Revenue rose"``, ``"## Outlook"``, ``"1. First"`` without their marks."""
    return BULLET.sub("", line)


def split_sentences(block: str) -> list[str]:
    """The sentences of one block of text (a paragraph or a line), whitespace collapsed."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(block):
        previous = pieces[-1].rstrip(".!?\"'\u201d\u2019)]") if pieces else ""
        last_word = previous.rsplit(None, 1)[-1].lower() if previous else ""
        if pieces and (
            last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
        ):
            pieces[-1] = f"{pieces[-1]} {piece}"  # "Corvane Instruments, Inc. (NASDAQ..."
        else:
            pieces.append(piece)
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]
