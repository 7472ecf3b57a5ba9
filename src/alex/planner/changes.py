"""What changed since the last report, computed by code: the deltas are figures too. Pure.

:func:`compare` takes this analysis's figure set and the one the previous stored report was
written from (:mod:`alex.planner.figure_json`) and gives a :class:`Changes`: new figures
(added to the set the number check matches against, so the writers may state them) and the
lines the report prints under "What changed", written by code from those figures.

Delta keys (each signed, current - previous):

* ``previous.as_of`` (date) and ``previous.total.value`` (money);
* ``change.total.value`` (money) and ``change.total.pct`` (per cent of the previous total);
* ``change.holding.<S>.value`` (money) and ``change.holding.<S>.share`` (percentage points)
  for every symbol held in both;
* ``change.allocation.<dim>.<bucket>`` (percentage points; a bucket absent on one side is
  0 there), accounts left out;
* ``change.projection.success_probability`` (percentage points) when both have one.

Money deltas need the same base currency on both sides: after a change of base currency
only the shares are compared. Keys already starting with ``change.`` or ``previous.`` (a
stored set carries its own deltas) are never compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from alex.planner.figures import Figure, FigureSet, Unit
from alex.portfolio.model import minor_units

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
# How many of the largest moves a line names.
TOP_MOVES = 3
_OWN = ("change.", "previous.")


@dataclass(frozen=True)
class Changes:
    """The deltas as figures, the lines code writes from them, and what a writer is told."""

    previous_as_of: date | None
    figures: dict[str, Figure] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
    new_holdings: tuple[str, ...] = ()
    sold: tuple[str, ...] = ()
    new_findings: tuple[str, ...] = ()
    resolved_findings: tuple[str, ...] = ()

    def applied_to(self, figures: FigureSet) -> FigureSet:
        """``figures`` with the deltas added: the set the report is checked against."""
        return replace(figures, figures={**figures.figures, **self.figures})

    def as_prompt(self) -> dict[str, Any] | None:
        """What a writer is given (JSON-able); None for a first report."""
        if self.previous_as_of is None:
            return None
        return {
            "previous_report": self.previous_as_of.isoformat(),
            "figures": {k: {"label": f.label, "text": f.text} for k, f in self.figures.items()},
            "new_holdings": list(self.new_holdings),
            "no_longer_held": list(self.sold),
            "new_findings": list(self.new_findings),
            "resolved_findings": list(self.resolved_findings),
        }


def _number(figures: FigureSet, key: str) -> Decimal | None:
    figure = figures.get(key)
    return None if figure is None or isinstance(figure.value, date) else figure.number


def _signed(figure: Figure) -> str:
    """ "up 1,234.00 USD", "down 0.52 pp", "unchanged"."""
    value = figure.number
    if value == 0:
        return "unchanged"
    return ("up " if value > 0 else "down ") + figure.text.lstrip("+-")


def _names(items: Iterable[str]) -> str:
    return ", ".join(items)


def compare(current: FigureSet, previous: FigureSet | None) -> Changes:
    """The deltas of ``current`` against ``previous`` (None: a first report, no deltas)."""
    if previous is None:
        return Changes(None, lines=("This is the first report: there is nothing to compare.",))
    out: dict[str, Figure] = {}

    def add(key: str, label: str, value: Decimal, unit: Unit, places: int = 2) -> Figure:
        currency = current.currency if unit is Unit.MONEY else ""
        figure = Figure(key, label, value, unit, places, currency)
        out[key] = figure
        return figure

    same_currency = previous.currency == current.currency
    out["previous.as_of"] = Figure(
        "previous.as_of", "Date of the previous report", previous.as_of, Unit.DATE
    )
    lines: list[str] = []
    places = minor_units(current.currency)
    total_now, total_then = (_number(s, "total.value") for s in (current, previous))
    if same_currency and total_now is not None and total_then is not None:
        then = add("previous.total.value", "Total value at the previous report", total_then,
                   Unit.MONEY, places)  # fmt: skip
        delta = add(
            "change.total.value", "Change of the total value", total_now - total_then,
            Unit.MONEY, places,
        )  # fmt: skip
        since = previous.as_of.isoformat()
        line = f"Total value: {_signed(delta)} since {since} (then {then.text})"
        if total_then > 0:
            pct = add(
                "change.total.pct",
                "Change of the total value, % of the previous total",
                (total_now - total_then) * _HUNDRED / total_then,
                Unit.PERCENT,
            )
            line += f", {_signed(pct)}"
        lines.append(line + ".")

    held_now, held_then = set(current.holdings), set(previous.holdings)
    moves: list[tuple[Decimal, str]] = []
    for symbol in current.holdings:
        if symbol not in held_then:
            continue
        key = f"holding.{symbol}"
        value_now, value_then = _number(current, f"{key}.value"), _number(previous, f"{key}.value")
        if same_currency and value_now is not None and value_then is not None:
            delta = add(f"change.{key}.value", f"{symbol}: change of value", value_now - value_then,
                        Unit.MONEY, places)  # fmt: skip
            moves.append((abs(delta.number), symbol))
        share_now, share_then = _number(current, f"{key}.share"), _number(previous, f"{key}.share")
        if share_now is not None and share_then is not None:
            add(f"change.{key}.share", f"{symbol}: change of share of the total",
                share_now - share_then, Unit.POINTS)  # fmt: skip
    largest = [symbol for size, symbol in sorted(moves, key=lambda m: (-m[0], m[1])) if size][
        :TOP_MOVES
    ]
    if largest:
        said = "; ".join(
            f"{symbol} {_signed(out[f'change.holding.{symbol}.value'])}" for symbol in largest
        )
        lines.append(f"Largest moves in value: {said}.")

    shifts: list[tuple[Decimal, str, str]] = []
    for dimension, buckets in current.buckets.items():
        if dimension == "account":
            continue
        before = previous.buckets.get(dimension, ())
        for bucket in dict.fromkeys([*buckets, *before]):
            key = f"allocation.{dimension}.{bucket}"
            if key not in current and key not in previous:
                continue
            share_now = _number(current, key) or _ZERO
            share_then = _number(previous, key) or _ZERO
            label = f"Change of the share of {dimension.replace('_', ' ')} {bucket}"
            delta = add(f"change.{key}", label, share_now - share_then, Unit.POINTS)
            if delta.number:
                shifts.append((abs(delta.number), dimension, bucket))
    if shifts:
        shifts.sort(key=lambda shift: (-shift[0], shift[1], shift[2]))
        said = "; ".join(
            f"{bucket.replace('_', ' ')} ({dimension.replace('_', ' ')}) "
            f"{_signed(out[f'change.allocation.{dimension}.{bucket}'])}"
            for _, dimension, bucket in shifts[:TOP_MOVES]
        )
        lines.append(f"Largest shifts in allocation: {said}.")

    success_now = _number(current, "projection.success_probability")
    success_then = _number(previous, "projection.success_probability")
    if success_now is not None and success_then is not None:
        delta = add(
            "change.projection.success_probability",
            "Change of the chance the money lasts",
            success_now - success_then,
            Unit.POINTS,
            1,
        )
        now_text = current["projection.success_probability"].text
        lines.append(f"Chance the money lasts: {now_text}, {_signed(delta)}.")

    new = tuple(symbol for symbol in current.holdings if symbol not in held_then)
    sold = tuple(sorted(held_then - held_now))
    if new:
        lines.append(f"New holdings: {_names(new)}.")
    if sold:
        lines.append(f"No longer held: {_names(sold)}.")
    fired_now, fired_then = set(current.fired), set(previous.fired)
    new_findings = tuple(rule for rule in current.fired if rule not in fired_then)
    resolved = tuple(rule for rule in previous.fired if rule not in fired_now)
    if new_findings:
        lines.append(f"New risk findings: {_names(r.replace('_', ' ') for r in new_findings)}.")
    if resolved:
        lines.append(f"Resolved: {_names(r.replace('_', ' ') for r in resolved)}.")
    return Changes(
        previous.as_of,
        out,
        tuple(lines),
        new,
        sold,
        new_findings,
        resolved,
    )


def comparable(figures: FigureSet) -> FigureSet:
    """A stored set without its own deltas: what the next report compares with."""
    kept = {key: f for key, f in figures.figures.items() if not key.startswith(_OWN)}
    return replace(figures, figures=kept)
