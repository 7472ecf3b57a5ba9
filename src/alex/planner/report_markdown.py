"""The report as Markdown: the code's headline facts, the writers' prose around them. Pure.

What the code can state itself it states itself, from the figures, so it is right by
construction: the title and date, the headline (total, largest holding, biggest drift, the
chance the money lasts, the X-ray's findings as the X-ray wrote them), the deltas under
"What changed" (:mod:`alex.planner.changes`), each suggested action's facts (the share,
target and drift of what it is about) and the retirement section's leading line (the median
at retirement and its 10th-90th percentile range). The models' prose fills the summary, the
comment on what changed, strengths, risks, the actions' words and reasons, and the
retirement text; :func:`prose` keeps each to one line with no Markdown block syntax of its
own, so a model cannot add headings or sections.

The whole Markdown then goes through the number check; see docs/planner.md for the layout.

Public API: :func:`title`, :func:`headline`, :func:`compose`, :func:`prose`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alex.planner.changes import Changes
from alex.planner.figures import BucketRef, FigureSet
from alex.planner.reporter import ReportDraft, SuggestedAction
from alex.planner.retirement_writer import RetirementDraft

_BLOCK_MARKS = re.compile(r"^\s*(?:#+|>+|[-*+]|\d+[.)])\s+")


def prose(text: str) -> str:
    """A model's text as one line of Markdown: whitespace collapsed, no leading heading,
    quote or list mark (it would start a block of its own)."""
    line = " ".join(text.split())
    while (found := _BLOCK_MARKS.match(line)) is not None:
        line = line[found.end() :]
    return line


def _words(name: str) -> str:
    return name.replace("_", " ")


def title(figures: FigureSet) -> str:
    return f"Portfolio report, {figures.as_of.isoformat()}"


def _text(figures: FigureSet, key: str) -> str | None:
    figure = figures.get(key)
    return None if figure is None else figure.text


def _bucket_facts(figures: FigureSet, ref: BucketRef) -> str:
    share = _text(figures, ref.share_key)
    held = f"{share} of the portfolio" if share is not None else "not held"
    target, drift = _text(figures, ref.target_key), _text(figures, ref.drift_key)
    if target is None or drift is None:
        return held
    return f"{held} against a target of {target} ({drift})"


def headline(figures: FigureSet) -> list[str]:
    """The headline's bullet lines (Markdown), from the figures alone."""
    lines = []
    total = _text(figures, "total.value")
    if total is not None:
        line = f"- Total value: {total}"
        held, accounts = _text(figures, "holdings.count"), _text(figures, "accounts.count")
        if held is not None and accounts is not None:
            line += f", in {held} instruments across {accounts} accounts"
        unvalued = figures.number("total.unvalued")
        if unvalued:
            count = figures["total.unvalued"].text
            line += f" ({count} positions have no price or rate and are left out)"
        lines.append(line + ".")
    largest = figures.largest_holding
    if largest is not None:
        name = figures.instruments.get(largest, "")
        named = f"{largest} ({name})" if name and name != largest else largest
        value, share = (
            _text(figures, f"holding.{largest}.value"),
            _text(figures, f"holding.{largest}.share"),
        )
        facts = ", ".join(part for part in (value, share and f"{share} of the total") if part)
        lines.append(f"- Largest holding: {named}, {facts}.")
    drift = figures.biggest_drift
    if drift is not None:
        lines.append(
            f"- Biggest drift: {_words(drift.bucket)} ({_words(drift.dimension)}), "
            f"{_bucket_facts(figures, drift)}."
        )
    success, end_age = (
        _text(figures, "projection.success_probability"),
        _text(figures, "projection.end_age"),
    )
    if success is not None and end_age is not None:
        lines.append(f"- Chance the money lasts to {end_age}: {success}.")
    findings = _text(figures, "xray.findings")
    if findings is not None:
        lines.append(f"- Risk findings: {findings}.")
        lines += [
            f"  - {_words(rule).capitalize()} ({severity}): {' '.join(message.split())}"
            for rule, severity, message in figures.findings
        ]
    return lines


def _about(figures: FigureSet, subject: str) -> str:
    """The facts of what an action is about, from the figures."""
    if subject in figures.holdings:
        share = _text(figures, f"holding.{subject}.share")
        return f"{subject}: {share} of the portfolio" if share else subject
    dimension, _, bucket = subject.partition(".")
    if bucket:
        return f"{_words(bucket)}: {_bucket_facts(figures, BucketRef(dimension, bucket))}"
    if subject == "cash":
        cash = _text(figures, "cash.total")
        return f"cash: {cash} in all accounts" if cash else "cash"
    return _words(subject)


def _sentence(text: str) -> str:
    line = prose(text)
    if not line:
        return line
    line = line[0].upper() + line[1:]
    return line if line[-1] in ".!?" else line + "."


def _action(figures: FigureSet, action: SuggestedAction) -> str:
    return (
        f"- {_sentence(action.action)} {_sentence(action.reason)} "
        f"(About {_about(figures, action.about)}.)"
    )


def _retirement_lead(figures: FigureSet) -> str | None:
    age = figures.number("projection.retirement_age")
    if age is None:
        return None
    at = f"age_{age}"
    p10, p50, p90 = (_text(figures, f"projection.p{p}.{at}") for p in (10, 50, 90))
    real = _text(figures, f"projection.p50.{at}.real")
    if p50 is None:
        return None
    line = f"Median value at {figures['projection.retirement_age'].text}: {p50}"
    if real is not None:
        line += f" ({real} in today's money)"
    if p10 is not None and p90 is not None:
        line += f"; 10th to 90th percentile: {p10} to {p90}"
    return line + "."


def compose(
    figures: FigureSet,
    changes: Changes,
    draft: ReportDraft,
    actions: Sequence[SuggestedAction],
    retirement: RetirementDraft | None,
) -> str:
    """The report's Markdown (before the number check). ``actions``: the draft's actions
    that passed :func:`alex.planner.number_check.check_actions`."""
    parts = [f"# {title(figures)}", "", "## Headline", "", *headline(figures), ""]
    parts += ["## Summary", "", _sentence(draft.summary), ""]
    parts += ["## What changed", "", *(f"- {line}" for line in changes.lines)]
    if prose(draft.changes):
        parts += ["", _sentence(draft.changes)]
    parts.append("")
    for heading, points in (("Strengths", draft.strengths), ("Risks", draft.risks)):
        kept = [_sentence(point) for point in points if prose(point)]
        if kept:
            parts += [f"## {heading}", "", *(f"- {point}" for point in kept), ""]
    if actions:
        parts += ["## Suggested actions", "", *(_action(figures, a) for a in actions), ""]
    lead = _retirement_lead(figures)
    if retirement is not None or lead is not None:
        parts += ["## Retirement", ""]
        if lead is not None:
            parts += [lead, ""]
        if retirement is not None:
            parts += [_sentence(retirement.summary), ""]
            parts += [f"- {_sentence(point)}" for point in retirement.points if prose(point)]
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"
