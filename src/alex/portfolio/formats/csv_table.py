"""Reading and writing a CSV with one exact header, shared by Alex's CSV formats.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2,
a blank line still takes a row number (and is skipped), a quoted value spanning lines is one
row."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from alex.portfolio.formats.fields import FieldError
from alex.portfolio.formats.problems import CellError, Problems

T = TypeVar("T")


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


def rows(text: str, header: Sequence[str], problems: Problems) -> Iterator[Row]:
    """The file's records after the header; faults of shape (header, width, quoting) go to
    ``problems``, and a quoting fault ends the reading (nothing after it can be trusted)."""
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
            yield Row(number, dict(zip(header, fields, strict=True)))
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
    text: str, header: Sequence[str], build: Callable[[Row], T], problems: Problems
) -> list[T]:
    """``build`` applied to every record; each row's first fault is collected and none of the
    records is returned if any row is at fault (the caller raises ``problems``)."""
    built = []
    for row in rows(text, header, problems):
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


def write(header: Sequence[str], lines: Iterable[Sequence[str]]) -> str:
    """A CSV text: the header, then one line per record, ``\\n`` line ends."""
    out = _Lines()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return "".join(out.parts)
