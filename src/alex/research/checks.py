"""Every point of an analysis checked by code before anything is stored.

A point the model wrote is kept only if:

1. it cites at least one numbered sentence the model was shown (:mod:`alex.research.evidence`);
2. every figure in it is stated in the sentences it cites, as a whole number with its unit
   (:func:`alex.domain.figures.unsupported`: "7" is not "7.3", "$1.2bn" is not "$1.24bn");
3. it holds no URL (the sources are the cited pages, listed by the code);
4. it is not instruction-like and repeats no run of words from a passage written to an AI
   (:mod:`alex.research.injection`), which the model was never shown but may have met in
   a note or guessed from a title;
5. it was not cut off by the output's length bound, and says something no kept point says.

What fails is left out and reported (:class:`RejectedPoint`), never stored. The summary is
the first checked key points; the sources are the pages they cite; a title that fails the
same checks is replaced by the topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from alex.domain.errors import ResearchFailedError
from alex.domain.figures import unsupported
from alex.research.analysis import (
    MAX_POINT_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    SUMMARY_POINTS,
    AnalysisDraft,
    CitedPoint,
    SourceRef,
)
from alex.research.evidence import Evidence, Sentence
from alex.research.injection import instruction_like, reproduces

Reason = Literal[
    "no-valid-citation",
    "figure-not-in-cited-sentence",
    "page-instruction",
    "url",
    "cut-off",
    "repeated",
]

_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|co|info|"
    r"biz|xyz|invalid|example|local|internal|test)\b(?:/|$))",
    re.I,
)
_MARKUP = re.compile(r"^\s*(?:[-*\u2022\u00b7>]|#{1,6}|\d{1,2}[.)])\s+|\*\*|__|`")


@dataclass(frozen=True)
class CheckedPoint:
    text: str
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class RejectedPoint:
    """A point (or title) left out of the stored analysis, and why."""

    text: str
    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class CheckedAnalysis:
    title: str
    summary: str
    key_points: list[CheckedPoint]
    risks: list[CheckedPoint]
    sources: list[SourceRef]
    rejected: list[RejectedPoint]


def clean(text: str) -> str:
    """One line, no bullet, heading or emphasis marks, ending as a sentence ends."""
    text = _MARKUP.sub("", " ".join(text.split())).strip()
    return text if not text or text.endswith((".", "!", "?", '"', "”")) else text + "."


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _problem(text: str, sentences: Sequence[Sentence], evidence: Evidence) -> RejectedPoint | None:
    """Why ``text`` may not be stored with ``sentences`` as its support, if it may not."""
    if _URL.search(text):
        return RejectedPoint(text, "url")
    if instruction_like(text) or reproduces(text, evidence.withheld()):
        return RejectedPoint(text, "page-instruction")
    missing = unsupported(text, [sentence.text for sentence in sentences])
    if missing:
        detail = ", ".join(figure.text for figure in missing)
        return RejectedPoint(text, "figure-not-in-cited-sentence", detail)
    return None


def check_point(point: CitedPoint, evidence: Evidence) -> CheckedPoint | RejectedPoint:
    if len(point.text) >= MAX_POINT_CHARS:
        return RejectedPoint(point.text, "cut-off")
    text = clean(point.text)
    cited = [evidence.shown_sentence(number) for number in dict.fromkeys(point.cites)]
    sentences = tuple(sentence for sentence in cited if sentence is not None)
    if not sentences:
        detail = ", ".join(str(number) for number in point.cites)
        return RejectedPoint(text, "no-valid-citation", detail)
    return _problem(text, sentences, evidence) or CheckedPoint(text, sentences)


def _checked_points(
    points: Sequence[CitedPoint], evidence: Evidence, said: set[str]
) -> tuple[list[CheckedPoint], list[RejectedPoint]]:
    kept: list[CheckedPoint] = []
    rejected: list[RejectedPoint] = []
    for point in points:
        outcome = check_point(point, evidence)
        if isinstance(outcome, RejectedPoint):
            rejected.append(outcome)
        elif _fold(outcome.text) in said:  # small models repeat themselves
            rejected.append(RejectedPoint(outcome.text, "repeated"))
        else:
            said.add(_fold(outcome.text))
            kept.append(outcome)
    return kept, rejected


def check_analysis(draft: AnalysisDraft, evidence: Evidence, topic: str) -> CheckedAnalysis:
    """The draft's points that pass every check, and what was left out; no key point
    passing fails the run (nothing is stored)."""
    said: set[str] = set()
    key_points, rejected = _checked_points(draft.key_points, evidence, said)
    risks, rejected_risks = _checked_points(draft.risks, evidence, said)
    rejected += rejected_risks
    if not key_points:
        reasons = ", ".join(sorted({point.reason for point in rejected})) or "none written"
        raise ResearchFailedError(f"No key point passed the checks ({reasons}): nothing stored")
    support = [sentence for point in key_points + risks for sentence in point.sentences]
    cited_pages = {sentence.page.final_url for sentence in support}
    # A headline sums up the cited pages: its figures must be on one of them.
    headline_support = [
        sentence
        for page in evidence.pages
        if page.page.final_url in cited_pages
        for sentence in page.sentences
    ]
    title = clean(draft.title).rstrip(".")
    problem = _problem(title, headline_support, evidence) if title else None
    if problem is not None:
        rejected.append(problem)
    if problem is not None or not title:
        title = topic
    sources: dict[str, SourceRef] = {}
    for sentence in support:
        page = sentence.page
        named = (page.title or "")[:MAX_SOURCE_TITLE_CHARS]
        sources.setdefault(page.final_url, SourceRef(url=page.final_url, title=named))
    summary = " ".join(point.text for point in key_points[:SUMMARY_POINTS])
    return CheckedAnalysis(title, summary, key_points, risks, list(sources.values()), rejected)
