"""What a research run produces: the analysis the model must fill, and how it is stored.

The model only fills :class:`AnalysisDraft`; the code adds the topic, checks every cited
source against the pages that were really read, and turns the result into one knowledge-base
document with a deterministic id per topic and day (a retried run replaces, never
duplicates).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from alex.domain.models import Metadata

# Bounds keep a small model from looping (llama.cpp enforces them while decoding) and keep
# a stored analysis readable.
MAX_KEY_POINTS = 6
MAX_RISKS = 4
MAX_SOURCES = 8

# One key point or risk: a sentence or two. Bounding each string also bounds the grammar a
# small model decodes under, which stops it repeating itself.
Point = Annotated[str, Field(min_length=3, max_length=240)]


class SourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000, description="The URL of a page you were given, exactly as given."
    )
    title: str = Field(max_length=150, description="The page's title.")


class AnalysisDraft(BaseModel):
    """The model's answer (its JSON schema is the output schema the model is held to)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=120, description="A specific, factual headline.")
    summary: str = Field(
        max_length=900,
        description="Three to five sentences: what happened, with numbers and dates.",
    )
    key_points: list[Point] = Field(
        min_length=1,
        max_length=MAX_KEY_POINTS,
        description="Facts from the pages, each with its number or date where there is one.",
    )
    risks: list[Point] = Field(
        max_length=MAX_RISKS, description="Risks or open questions the pages mention."
    )
    sources: list[SourceRef] = Field(
        min_length=1, max_length=MAX_SOURCES, description="The pages the analysis used."
    )
    as_of: str = Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",  # [0-9]: llama.cpp's grammar has no \d
        description="The date (YYYY-MM-DD) of the newest information used.",
    )


class Analysis(AnalysisDraft):
    """A validated analysis: the draft, its topic, and the model that wrote it."""

    topic: str
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
    }
