"""What the planner's writers are given, as data elements: figures, changes and notes.

Everything a writer reads that came from the user's records (instrument and account names),
from the knowledge base (notes) or from code that quotes them goes inside an element the
instructions declare to be data, with ``&`` and ``<`` escaped the researcher's way
(:func:`alex.research.sources.fence`), so no name or note can close its element. Notes are
the researcher's (:func:`alex.research.sources.note_as_data`: marked checked or unchecked,
their instruction-like lines left out).

A small model reads slowly and has a small context: :func:`fitted_prompt` gives a writer the
whole prompt form of the figure set (:meth:`FigureSet.as_prompt`) when it fits the model's
budget, else only the figures a report leads with (``compact``, a pattern of keys).

Public API: :func:`fitted_prompt`, :func:`figures_element`, :func:`changes_element`,
:func:`notes_element`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from alex.domain.models import ChunkHit
from alex.planner.figures import FigureSet
from alex.research.sources import fence, note_as_data


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _figure_lines(prompt: Mapping[str, Any]) -> list[str]:
    lines = [f"as_of: {prompt['as_of']}; currency: {prompt['currency']}"]
    lines += [f"{item['label']}: {item['text']}" for item in prompt["figures"].values()]
    for name in ("largest_holding", "biggest_drift", "findings", "instruments", "accounts"):
        if name in prompt:
            lines.append(f"{name}: {_json(prompt[name])}")
    return lines


def fitted_prompt(
    figures: FigureSet, budget: int, *, only: Sequence[str] = (), compact: re.Pattern[str]
) -> dict[str, Any]:
    """The prompt form of ``figures`` (those under ``only``), or its ``compact`` keys only
    when the whole would take more than ``budget`` characters as :func:`figures_element`."""
    whole = figures.as_prompt(only)
    if len(figures_element(whole)) <= budget:
        return whole
    kept = {key: item for key, item in whole["figures"].items() if compact.match(key)}
    return {**whole, "figures": kept}


def figures_element(prompt: Mapping[str, Any]) -> str:
    """The figures, one "label: text" line each, then the lookups, as a data element."""
    return "<figures>\n" + fence("\n".join(_figure_lines(prompt))) + "\n</figures>"


def changes_element(changes: Mapping[str, Any] | None) -> str:
    if changes is None:
        return "<changes>\nnone: this is the first report\n</changes>"
    lines = [f"previous report: {changes['previous_report']}"]
    lines += [f"{item['label']}: {item['text']}" for item in changes["figures"].values()]
    for name in ("new_holdings", "no_longer_held", "new_findings", "resolved_findings"):
        if changes.get(name):
            lines.append(f"{name}: {', '.join(changes[name])}")
    return "<changes>\n" + fence("\n".join(lines)) + "\n</changes>"


def notes_element(notes: Sequence[ChunkHit]) -> str:
    return "\n".join(note_as_data(note) for note in notes) or "(no notes)"
