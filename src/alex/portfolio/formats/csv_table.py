"""Reading and writing a CSV with one exact header, shared by Alex's CSV formats.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2,
a blank line still takes a row number (and is skipped), a quoted value spanning lines is one
row.

Formula guard (OWASP, "CSV Injection"): a spreadsheet opening the file runs a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula
(``=HYPERLINK(...)`` sends data away when clicked). So a user's text (a note, a name) that
starts so is written after an apostrophe, which spreadsheets take as "text" and hide; the
columns of numbers, dates, codes and ids are written as they are (none can start so). The
guard is undone on reading, exactly: text that starts with apostrophes and then a formula
character gets one more apostrophe, and reading removes one from such text only, so any note
reads back as it was written (``'=x`` -> ``''=x`` -> ``'=x``; ``'tis`` stays ``'tis``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from alex.portfolio.formats.fields import FieldError
from alex.portfolio.formats.problems import CellError, Problems

T = TypeVar("T")
# OWASP's list of the characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_GUARDED = re.compile(r"^'*[=+\-@\t\r]")


def guard(text: str) -> str:
    """``text`` as a cell no spreadsheet runs: ``'`` put before it if it starts with a
    formula character, or with apostrophes and then one."""
    return "'" + text if _GUARDED.match(text) else text


def unguard(text: str) -> str:
    """The text :func:`guard` was given: one apostrophe removed, and only from text it
    guards (an apostrophe before a formula character); any other text as it is."""
    return text[1:] if text.startswith("'") and _GUARDED.match(text[1:]) else text


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]

    def cell(self, column: str, check: Callable[[str], T]) -> T:
        """``check`` applied to the column's text; its :class:`FieldError` names the column."""
        try:
            return check(self.values[column])
        except FieldError as error:
            raise CellError(column, str(error)) from None


def rows(
    text: str, header: Sequence[str], problems: Problems, text_columns: Collection[str] = ()
) -> Iterator[Row]:
    """The file's records after the header; faults of shape (header, width, quoting) go to
    ``problems``, and a quoting fault ends the reading (nothing after it can be trusted).
    The cells of ``text_columns`` lose their formula guard (:func:`unguard`)."""
    reader = csv.reader(_lines(text.removeprefix("\ufeff")), strict=True)
    expected = ",".join(header)
    number = 0
    try:
        for number, fields in enumerate(reader, start=1):
            if number == 1:
                if [name.strip() for name in fields] != list(header):
                    problems.add(
                        "row 1",
                        None,
                        f"expected the header {expected!r} (got {','.join(fields)!r})",
                    )
                    return
                continue
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                problems.add(
                    f"row {number}",
                    None,
                    f"{len(fields)} fields, expected {len(header)} ({expected})",
                )
                continue
            values = dict(zip(header, fields, strict=True))
            for column in text_columns:
                values[column] = unguard(values[column])
            yield Row(number, values)
    except csv.Error as error:
        problems.add(f"row {number + 1}", None, f"malformed CSV ({error})")
        return
    if number == 0:
        problems.add("row 1", None, f"empty file; expected the header {expected!r}")


def _lines(text: str) -> Iterator[str]:
    """Lines split at ``\n`` only (``splitlines`` would also split at U+2028 and friends,
    which a note may hold)."""
    parts = text.split("\n")
    for part in parts[:-1]:
        yield part + "\n"
    if parts[-1]:
        yield parts[-1]


def records(
    text: str,
    header: Sequence[str],
    build: Callable[[Row], T],
    problems: Problems,
    text_columns: Collection[str] = (),
) -> list[T]:
    """``build`` applied to every record; each row's first fault is collected and none of the
    records is returned if any row is at fault (the caller raises ``problems``).
    ``text_columns`` are the user's text, read without their formula guard."""
    built = []
    for row in rows(text, header, problems, text_columns):
        try:
            built.append(build(row))
        except CellError as error:
            problems.add(f"row {row.number}", error.field, error.message)
    return [] if problems else built


class _Lines:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def write(
    header: Sequence[str], lines: Iterable[Sequence[str]], text_columns: Collection[str] = ()
) -> str:
    """A CSV text: the header, then one line per record, ``\\n`` line ends; the cells of
    ``text_columns`` (the user's text) formula-guarded (:func:`guard`)."""
    out = _Lines()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    guarded = [index for index, name in enumerate(header) if name in text_columns]
    for line in lines:
        cells = list(line)
        for index in guarded:
            cells[index] = guard(cells[index])
        writer.writerow(cells)
    return "".join(out.parts)
