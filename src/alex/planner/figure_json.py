"""A :class:`~alex.planner.figures.FigureSet` as strict JSON and back, exactly.

A stored report keeps the figure set it was written from (``Report.figures``), so that its
numbers can be checked again later (:func:`alex.planner.number_check.check_text` on the
stored Markdown and :func:`figures_from_json` of the stored figures finds what it found when
the report was written) and the next report can say what changed
(:mod:`alex.planner.changes`). Every value is its exact decimal string (``"171235.915075"``;
a date as ``YYYY-MM-DD``): ``Decimal(text)`` gives the figure back, digit for digit. Each
figure also carries its display text, for readers of the JSON that do not format numbers.

``notes`` (optional): the texts of the recalled notes whose figures the check accepted, so a
second check accepts the same.

Public API: :func:`figures_to_json`, :func:`figures_from_json`, :func:`stored_notes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from alex.domain.errors import InvalidInputError
from alex.planner.figures import Figure, FigureSet, Unit

FORMAT = 1


def figures_to_json(figures: FigureSet, notes: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "as_of": figures.as_of.isoformat(),
        "currency": figures.currency,
        "figures": {
            key: {
                "label": figure.label,
                "value": figure.value.isoformat()
                if isinstance(figure.value, date)
                else format(figure.value, "f"),
                "unit": figure.unit.value,
                "places": figure.places,
                "currency": figure.currency,
                "text": figure.text,
            }
            for key, figure in figures.figures.items()
        },
        "holdings": list(figures.holdings),
        "instruments": dict(figures.instruments),
        "accounts": dict(figures.accounts),
        "buckets": {dimension: list(names) for dimension, names in figures.buckets.items()},
        "fired": list(figures.fired),
        "findings": [list(finding) for finding in figures.findings],
        "notes": list(notes),
    }


def _figure(key: str, raw: Mapping[str, Any]) -> Figure:
    unit = Unit(raw["unit"])
    text = str(raw["value"])
    value: Decimal | date = date.fromisoformat(text) if unit is Unit.DATE else Decimal(text)
    return Figure(key, str(raw["label"]), value, unit, int(raw["places"]), str(raw["currency"]))


def figures_from_json(stored: Mapping[str, Any]) -> FigureSet:
    """The figure set :func:`figures_to_json` wrote (InvalidInputError if it is not one)."""
    try:
        return FigureSet(
            as_of=date.fromisoformat(stored["as_of"]),
            currency=str(stored["currency"]),
            figures={key: _figure(key, raw) for key, raw in stored["figures"].items()},
            holdings=tuple(stored.get("holdings", ())),
            instruments=dict(stored.get("instruments", {})),
            accounts=dict(stored.get("accounts", {})),
            buckets={d: tuple(names) for d, names in stored.get("buckets", {}).items()},
            fired=tuple(stored.get("fired", ())),
            findings=tuple(
                (str(rule), str(severity), str(message))
                for rule, severity, message in stored.get("findings", ())
            ),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise InvalidInputError(f"not a stored figure set: {error!r}") from None


def stored_notes(stored: Mapping[str, Any]) -> list[str]:
    """The note texts a stored figure set carries (see the module's docstring)."""
    return [str(note) for note in stored.get("notes", ())]
