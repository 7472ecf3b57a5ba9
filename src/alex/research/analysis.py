"""What a research run produces: the analysis the model must fill, and how it is stored.

The model only fills :class:`AnalysisDraft`: a title and points, each citing the numbered
page sentences it states. The code checks every point against its sentences, keeps the ones
that pass, builds the summary and the sources from them, and turns the result into one
knowledge-base document with a deterministic id per topic and day (a retried run replaces,
never duplicates).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from alex.domain.models import Metadata
from alex.domain.validation import MAX_RESEARCH_TOPIC_CHARS, MAX_RESEARCH_URLS, MAX_URL_CHARS

# The metadata value that marks an analysis whose figures the code checked.
CHECKED = "checked"

# Bounds keep a small model from looping (llama.cpp enforces them while decoding) and keep
# a stored analysis readable.
MAX_KEY_POINTS = 6
MAX_RISKS = 3
# Every page a run may read (its URLs, or more read through a tool up to the page limit).
MAX_SOURCES = MAX_RESEARCH_URLS
MAX_SOURCE_TITLE_CHARS = 300
# The summary: the first checked key points, which the instructions ask to be the most
# important.
SUMMARY_POINTS = 3
MAX_CITES = 3
# A point is one sentence of under 25 words (the instructions ask for that). The bound is
# well above what such a sentence needs, so a point that reaches it was cut off by the
# grammar, not finished: the checks drop it (alex.research.checks).
MAX_POINT_CHARS = 280


class CitedPoint(BaseModel):
    """One point as the model writes it: the sentences it used first, then the point."""

    model_config = ConfigDict(extra="forbid")

    # Citations come first so that a model writes the point after choosing its sentences.
    cites: list[int] = Field(
        min_length=1,
        max_length=MAX_CITES,
        description="The numbers of the page sentences this point states, e.g. [3] or [3, 7].",
    )
    text: str = Field(
        min_length=3,
        max_length=MAX_POINT_CHARS,
        description="One short sentence stating the fact, with its figure and unit exactly "
        "as the cited sentence gives them.",
    )


class AnalysisDraft(BaseModel):
    """The model's answer (its JSON schema is the output schema the model is held to)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=120, description="A specific, factual headline.")
    key_points: list[CitedPoint] = Field(
        min_length=1,
        max_length=MAX_KEY_POINTS,
        description="The most important facts about the topic, most important first.",
    )
    risks: list[CitedPoint] = Field(
        max_length=MAX_RISKS, description="Risks or open questions the pages report."
    )


class SourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL_CHARS)
    title: str = Field(max_length=MAX_SOURCE_TITLE_CHARS)


# What the code stores: a point as the model phrased it (plus a final full stop), or the
# page sentence it gave way to (alex.research.phraser).
MAX_STORED_POINT_CHARS = 500
StoredPoint = Annotated[str, Field(max_length=MAX_STORED_POINT_CHARS)]


class Analysis(BaseModel):
    """A stored analysis: only points whose every figure is in the page sentences they cite.

    The summary is built by the code from the first checked points, and the sources are the
    pages those points cite: neither is the model's free text. The bounds follow from what
    the code builds (they keep a job record small).
    """

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=MAX_RESEARCH_TOPIC_CHARS)  # the topic, if the title fails
    summary: str = Field(max_length=SUMMARY_POINTS * (MAX_STORED_POINT_CHARS + 1))
    key_points: list[StoredPoint] = Field(max_length=MAX_KEY_POINTS)
    risks: list[StoredPoint] = Field(max_length=MAX_RISKS)
    sources: list[SourceRef] = Field(max_length=MAX_SOURCES)
    as_of: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    topic: str = Field(max_length=MAX_RESEARCH_TOPIC_CHARS)
    model: str


def slug(text: str, limit: int = 60) -> str:
    """``"Northwind Q3 results!"`` -> ``"northwind-q3-results"``: ASCII, stable, bounded."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:limit].strip("-") or "topic"


def source_id_for(topic: str, day: date) -> str:
    """One document per topic and day: a retried or repeated run replaces it."""
    return f"research/{slug(topic)}/{day.isoformat()}"


def render(analysis: Analysis) -> str:
    """The analysis as the Markdown text that is stored, chunked and searched."""
    lines = [
        f"# {analysis.title}",
        "",
        f"Topic: {analysis.topic}. As of {analysis.as_of}.",
        "",
        analysis.summary,
        "",
        "## Key points",
        *(f"- {point}" for point in analysis.key_points),
    ]
    if analysis.risks:
        lines += ["", "## Risks", *(f"- {risk}" for risk in analysis.risks)]
    lines += ["", "## Sources"]
    lines += [f"{n}. {s.title} <{s.url}>" for n, s in enumerate(analysis.sources, start=1)]
    return "\n".join(lines) + "\n"


def metadata_for(analysis: Analysis) -> Metadata:
    return {
        "kind": "research",
        "topic": analysis.topic,
        "as_of": analysis.as_of,
        "sources": [source.url for source in analysis.sources],
        "model": analysis.model,
        # Recalled later as a note: every figure of this text was matched to the page
        # sentence its point cites (alex.research.checks).
        "verification": CHECKED,
    }
