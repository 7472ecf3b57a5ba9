"""What is wrong with an imported file, row by row, raised once for the whole file."""

from __future__ import annotations

from dataclasses import dataclass

from alex.domain.errors import InvalidInputError

# Enough to fix a file in one go without a 100,000-line message when every row is bad.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One fault: ``where`` is "row 5" (CSV, the header is row 1) or "activities[3]" (JSON);
    ``field`` the column or key, when one is to blame."""

    where: str
    field: str | None
    message: str

    def __str__(self) -> str:
        place = f"{self.where}, {self.field}" if self.field else self.where
        return f"{place}: {self.message}"


class CellError(Exception):
    """A check failed in ``field`` (a column or key): raised out of the builder of one record
    and collected by the format's reader."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class FormatError(InvalidInputError):
    """A file Alex cannot import; nothing of it was taken. ``problems`` lists the first
    :data:`MAX_PROBLEMS` faults; ``more`` counts the ones left out."""

    def __init__(self, what: str, problems: list[Problem], more: int = 0) -> None:
        lines = [str(problem) for problem in problems]
        if more:
            lines.append(f"... and {more} more")
        super().__init__(f"{what}: nothing imported. " + "; ".join(lines))
        self.what = what
        self.problems = tuple(problems)
        self.more = more


class Problems:
    """Collects the faults of one file; :meth:`raise_any` raises them together."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.found: list[Problem] = []
        self.more = 0

    def add(self, where: str, field: str | None, message: str) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(Problem(where, field, message))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_any(self) -> None:
        if self.found:
            raise FormatError(self.what, self.found, self.more)
