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
from alex.domain.sentences import without_bullet
from alex.research.analysis import (
    MAX_POINT_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    SUMMARY_POINTS,
    AnalysisDraft,
    CitedPoint,
    SourceRef,
)
from alex.research.evidence import Evidence, Sentence, content_words
from alex.research.injection import instruction_like, reproduces

Reason = Literal[
    "no-valid-citation",
    "figure-not-in-cited-sentence",
    "figures-dropped",
    "not-in-cited-sentence",
    "page-instruction",
    "url",
    "cut-off",
    "repeated",
]

# A point must share at least this share of its words with the sentences it cites: a
# point whose figures are in a sentence that is about something else is not stated there.
MIN_GROUNDING = 0.5
_ENDING = re.compile(r"(?<=\w\w\w)(?:es|s|ed|ing|ly)$")
# A scheme, "www.", any domain with a path ("bit.ly/x", "evil.ru/q2"), an e-mail address, or
# a listed top-level domain ending the text (before the stop clean() adds) or followed by a
# path: "Amazon.com Inc." is a name, "details at evil.invalid." an address.
_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S|"
    r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|co|info|biz|xyz|invalid|example|local|"
    r"internal|test)\b(?=/|[.!?,;:)\]\"'\u201d\u2019]*$))",
    re.I,
)
_EMPHASIS = re.compile(r"\*\*|__|`")


@dataclass(frozen=True)
class CheckedPoint:
    text: str
    sentences: tuple[Sentence, ...]
    recited: bool = False  # the code found the sentence that states it


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
    text = _EMPHASIS.sub("", without_bullet(" ".join(text.split()))).strip()
    return text if not text or text.endswith((".", "!", "?", '"', "”")) else text + "."


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def grounding(text: str, sentences: Sequence[Sentence]) -> float:
    """The share of ``text``'s words (less a plural or tense ending: "margins" is "margin",
    "compared" is "compar", not "company") that the sentences use too; 1.0 for no words."""
    return _share(text, [sentence.text for sentence in sentences])


def _share(text: str, texts: Sequence[str]) -> float:
    words = _stems(text)
    if not words:
        return 1.0
    known = set().union(*(_stems(said) for said in texts))
    return len(words & known) / len(words)


def _stems(text: str) -> set[str]:
    return {
        _ENDING.sub("", word) for word in content_words(text) if word.isalpha() and len(word) > 2
    }


def _planted(evidence: Evidence) -> set[str]:
    """Words that only the withheld passages use ("guaranteed", "canary", "exfil"): a point
    that uses one took it from an instruction, not from the pages' text."""
    said = set().union(*(_marks(s.text) for page in evidence.pages for s in page.sentences))
    return set().union(*(_marks(passage) for passage in evidence.withheld())) - said


def _marks(text: str) -> set[str]:
    """The words of ``text`` and its codes of letters and digits ("xk7qz9"), which are
    neither words nor figures."""
    codes = {
        word
        for word in content_words(text)
        if any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
    }
    return _stems(text) | codes


def holds_url(text: str) -> bool:
    """Whether ``text`` holds a web or e-mail address (a scheme, "www.", "bit.ly/x", ...)."""
    return bool(_URL.search(text))


def _unsafe(text: str, evidence: Evidence) -> RejectedPoint | None:
    """A URL or words from a page's instructions: wrong whatever the point cites."""
    if holds_url(text):
        return RejectedPoint(text, "url")
    if instruction_like(text) or reproduces(text, evidence.withheld()):
        return RejectedPoint(text, "page-instruction")
    planted = _marks(text) & _planted(evidence)
    if planted:
        return RejectedPoint(text, "page-instruction", ", ".join(sorted(planted)))
    return None


def _unsupported(text: str, sentences: Sequence[Sentence]) -> RejectedPoint | None:
    """Why ``sentences`` do not state ``text``: a figure they lack, or too few of its words."""
    missing = unsupported(text, [sentence.text for sentence in sentences])
    if missing:
        detail = ", ".join(figure.text for figure in missing)
        return RejectedPoint(text, "figure-not-in-cited-sentence", detail)
    if grounding(text, sentences) < MIN_GROUNDING:
        return RejectedPoint(text, "not-in-cited-sentence", f"{grounding(text, sentences):.2f}")
    return None


def _stating(text: str, evidence: Evidence) -> Sentence | None:
    """The shown sentence that states ``text`` best (all its figures, most of its words)."""
    best: tuple[float, Sentence] | None = None
    for sentence in evidence.shown_sentences():
        if _unsupported(text, [sentence]) is None:
            share = grounding(text, [sentence])
            if best is None or share > best[0]:
                best = (share, sentence)
    return best[1] if best else None


def check_point(point: CitedPoint, evidence: Evidence) -> CheckedPoint | RejectedPoint:
    text = clean(point.text)
    cited = [evidence.shown_sentence(number) for number in dict.fromkeys(point.cites)]
    sentences = tuple(sentence for sentence in cited if sentence is not None)
    # A page's own sentence (a phrasing gave way to it) may be longer than a model's point.
    whole = any(text == clean(sentence.text) for sentence in sentences)
    if len(point.text) >= MAX_POINT_CHARS and not whole:
        return RejectedPoint(point.text, "cut-off")
    unsafe = _unsafe(text, evidence)
    if unsafe is not None:
        return unsafe
    problem = _unsupported(text, sentences) if sentences else None
    if sentences and problem is None:
        return CheckedPoint(text, sentences)
    # Small models often copy a sentence and cite the wrong number for it: the point is
    # kept if one shown sentence states it, and that sentence becomes its citation.
    stating = _stating(text, evidence)
    if stating is not None:
        return CheckedPoint(text, (stating,), recited=True)
    if problem is None:
        detail = ", ".join(str(number) for number in point.cites)
        return RejectedPoint(text, "no-valid-citation", detail)
    return problem


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
    # A headline sums up the cited pages: its figures must be on one of them, and most of
    # its words (in their sentences, titles or headings), or it is a claim of its own.
    cited = [page for page in evidence.pages if page.page.final_url in cited_pages]
    headline_support = [sentence.text for page in cited for sentence in page.sentences]
    headline_words = [
        *headline_support,
        *(page.page.title or "" for page in cited),
        *(heading for page in cited for heading in page.headings),
    ]
    title = clean(draft.title).rstrip(".")
    problem = None
    if title:
        missing = unsupported(title, headline_support)
        share = _share(title, headline_words)
        problem = _unsafe(title, evidence)
        if problem is None and missing:
            detail = ", ".join(figure.text for figure in missing)
            problem = RejectedPoint(title, "figure-not-in-cited-sentence", detail)
        if problem is None and share < MIN_GROUNDING:
            problem = RejectedPoint(title, "not-in-cited-sentence", f"{share:.2f}")
    if problem is not None:
        rejected.append(problem)
    if problem is not None or not title:
        title = topic
    sources: dict[str, SourceRef] = {}
    for sentence in support:
        page = sentence.page
        # A page's <title> is the page's text too: a URL or a note to AI in it is not stored.
        served = page.title or ""
        named = "" if _unsafe(served, evidence) else served[:MAX_SOURCE_TITLE_CHARS]
        sources.setdefault(page.final_url, SourceRef(url=page.final_url, title=named))
    summary = " ".join(point.text for point in key_points[:SUMMARY_POINTS])
    return CheckedAnalysis(title, summary, key_points, risks, list(sources.values()), rejected)
