"""The researcher's tools: read a web page, search the knowledge base. Nothing else.

No tool reaches the filesystem, the environment, secrets or an arbitrary host: fetching
goes through the SSRF-guarded fetcher (public http/https pages only, or the allow-list),
bounded per run by the :class:`PageReader`. A tool's error (a refused URL, a page that
cannot be read) is returned to the model as text by the Agents SDK, so a run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents import FunctionTool, RunContextWrapper, function_tool

from alex.domain.errors import AlexError
from alex.domain.models import ChunkHit
from alex.research.evidence import Evidence, as_data
from alex.research.sources import PageReader, note_as_data

KnowledgeSearch = Callable[[str], list[ChunkHit]]


@dataclass
class ResearchContext:
    """What the tools of one run may use (the SDK's run context; never sent to the model)."""

    reader: PageReader
    search_knowledge: KnowledgeSearch
    evidence: Evidence
    topic: str
    page_chars: int


def _tool_error(context: RunContextWrapper[Any], error: Exception) -> str:
    """What the model is told when a tool fails: Alex's own reason, never a traceback."""
    if isinstance(error, AlexError):
        return f"Error: {error.message}"
    if isinstance(error, ValueError):  # the run's page limit
        return f"Error: {error}"
    return "Error: the tool failed."


@function_tool(failure_error_function=_tool_error)
def fetch_page(context: RunContextWrapper[ResearchContext], url: str) -> str:
    """Read a public web page; returns its numbered sentences (untrusted data) to cite.

    Args:
        url: The page's full http or https URL.
    """
    run = context.context
    page = run.evidence.add(run.reader.read(url))
    return as_data(run.evidence.select(run.topic, [page], run.page_chars)) or "No usable text."


@function_tool(failure_error_function=_tool_error)
def search_knowledge(context: RunContextWrapper[ResearchContext], query: str) -> str:
    """Search the user's knowledge base (earlier analyses and notes).

    Args:
        query: What to look for, in a few words.
    """
    hits = context.context.search_knowledge(query)
    return "\n".join(note_as_data(hit) for hit in hits) or "No notes found."


TOOLS: list[FunctionTool] = [fetch_page, search_knowledge]
