"""One research run, driven by the code: read -> plan -> recall -> write -> check -> store.

1. **read**: the given URLs (or the configured default sources) are fetched by the code,
   through the SSRF-guarded fetcher, before any model runs; pages that fail are reported and
   skipped; no readable page ends the run.
2. **plan**: with no topic given, the planner agent picks one from the pages.
3. **recall**: the knowledge base is searched for the topic (earlier notes, as data).
4. **write**: the analyst agent writes the analysis, held to its JSON schema; a model that
   can call tools may read more pages and search again, within the turn and page limits.
5. **check**: every cited source must be a page this run really read (others are dropped;
   none left ends the run), and figures that appear in no page are listed.
6. **store**: the code ingests the analysis, one document per topic and day, so a retried
   run replaces it. A run that fails before this step stores nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from agents import (
    Agent,
    AgentsException,
    MaxTurnsExceeded,
    ModelBehaviorError,
    RunConfig,
    Runner,
)
from openai import APIConnectionError, APIStatusError, AuthenticationError

from alex.domain.errors import (
    AlexError,
    ChatModelUnavailableError,
    InvalidInputError,
    ResearchFailedError,
)
from alex.domain.models import ChunkHit, IngestStatus
from alex.domain.validation import MAX_RESEARCH_TOPIC_CHARS, MAX_RESEARCH_URLS, shortened
from alex.ingest import IngestService
from alex.research.analysis import (
    Analysis,
    AnalysisDraft,
    SourceRef,
    metadata_for,
    render,
    source_id_for,
)
from alex.research.analyst import build_analyst
from alex.research.fetch import FetchPolicy, Page
from alex.research.llm import ChatModel
from alex.research.planner import Plan, build_planner
from alex.research.sources import PageReader, note_as_data, page_as_data
from alex.research.tools import TOOLS, KnowledgeSearch, ResearchContext

logger = logging.getLogger("alex.research")

# (step, detail): "read", "plan", "recall", "write", "store", "done".
Progress = Callable[[str, str], None]

Output = TypeVar("Output")

_FIGURE = re.compile(r"\d[\d,.]*\d|\d")


@dataclass(frozen=True)
class ResearchLimits:
    max_turns: int = 6
    timeout_seconds: float = 300.0
    max_pages: int = 6
    notes: int = 3


@dataclass(frozen=True)
class ResearchResult:
    analysis: Analysis
    document_id: str
    status: IngestStatus
    pages: list[Page]
    failed_urls: dict[str, str]
    unverified_figures: list[str]
    seconds: float


@dataclass
class Researcher:
    """Runs research with one chat model, storing results through ``ingest``."""

    chat: ChatModel
    ingest: IngestService
    search_knowledge: KnowledgeSearch
    policy: FetchPolicy
    default_sources: Sequence[str] = ()
    limits: ResearchLimits = field(default_factory=ResearchLimits)
    today: Callable[[], date] = lambda: datetime.now(UTC).date()

    def run(
        self, topic: str | None, urls: Sequence[str] = (), progress: Progress | None = None
    ) -> ResearchResult:
        """A whole run (blocking); see the module's docstring for the steps."""
        return asyncio.run(self.arun(topic, urls, progress))

    async def arun(
        self, topic: str | None, urls: Sequence[str] = (), progress: Progress | None = None
    ) -> ResearchResult:
        report = progress or (lambda step, detail: None)
        started = time.monotonic()
        topic = _clean_topic(topic)
        targets = _targets(urls or self.default_sources)
        reader = PageReader(self.policy, max(self.limits.max_pages, len(targets)))
        context = ResearchContext(reader, self.search_knowledge, self.chat.page_chars)

        failed = await _read_all(reader, targets, report)
        if not reader.pages:
            reasons = "; ".join(f"{shortened(url)}: {why}" for url, why in failed.items())
            raise ResearchFailedError(f"No source could be read ({reasons})")

        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                if topic is None:
                    report("plan", "choosing a topic")
                    topic = await self._plan(reader.pages)
                report("recall", topic)
                notes = await asyncio.to_thread(self._recall, topic)
                report("write", f"{self.chat.name}, {len(reader.pages)} pages")
                draft = await self._write(topic, reader.pages, notes, context)
        except TimeoutError:
            raise ResearchFailedError(
                f"The research run took longer than {self.limits.timeout_seconds:.0f} s"
            ) from None

        analysis, figures = _checked(draft, topic, self.chat.name, reader)
        report("store", analysis.title)
        result = await asyncio.to_thread(
            self.ingest.ingest,
            render(analysis),
            {**metadata_for(analysis), "unverified_figures": figures},
            source_id_for(topic, self.today()),
        )
        seconds = time.monotonic() - started
        report("done", f"{result.document_id} in {seconds:.1f} s")
        return ResearchResult(
            analysis,
            result.document_id,
            result.status,
            list(reader.pages),
            failed,
            figures,
            seconds,
        )

    def _recall(self, topic: str) -> list[ChunkHit]:
        try:
            return self.search_knowledge(topic)[: self.limits.notes]
        except AlexError as error:  # an empty or unreachable store must not stop research
            logger.warning("Knowledge base search failed: %s", error.message)
            return []

    async def _plan(self, pages: Sequence[Page]) -> str:
        prompt = "Pages:\n" + _pages_prompt(pages, self.chat)
        plan = await self._agent_run(
            build_planner(self.chat.model, self.chat.settings), prompt, None, Plan
        )
        chosen = _clean_topic(plan.topic)
        if chosen is None:
            raise ResearchFailedError("The model chose no topic")
        return chosen

    async def _write(
        self,
        topic: str,
        pages: Sequence[Page],
        notes: Sequence[ChunkHit],
        context: ResearchContext,
    ) -> AnalysisDraft:
        tools = TOOLS if self.chat.supports_tools else []
        agent = build_analyst(self.chat.model, tools, self.chat.settings)
        prompt = (
            f"Topic: {topic}\n\n"
            f"Pages:\n{_pages_prompt(pages, self.chat)}\n\n"
            "Notes from the knowledge base:\n"
            + ("\n".join(note_as_data(note) for note in notes) or "(none)")
            + "\n\nWrite the analysis of the topic."
        )
        return await self._agent_run(agent, prompt, context, AnalysisDraft)

    async def _agent_run(
        self,
        agent: Agent[Any],
        prompt: str,
        context: ResearchContext | None,
        output: type[Output],
    ) -> Output:
        """One agent run, its failures turned into Alex's errors (nothing stored)."""
        try:
            result = await Runner.run(
                agent,
                prompt,
                context=context,
                max_turns=self.limits.max_turns,
                run_config=RunConfig(tracing_disabled=True, workflow_name="alex research"),
            )
        except MaxTurnsExceeded:
            raise ResearchFailedError(
                f"The model did not finish within {self.limits.max_turns} turns"
            ) from None
        except ModelBehaviorError as error:
            raise ResearchFailedError(
                f"The model's answer was not a valid analysis: {error.message}"
            ) from None
        except (APIConnectionError, AuthenticationError) as error:
            raise ChatModelUnavailableError(f"The chat model is unreachable: {error}") from None
        except APIStatusError as error:
            raise ChatModelUnavailableError(
                f"The chat model refused the request ({error.status_code}): {error.message}"
            ) from None
        except AgentsException as error:
            raise ResearchFailedError(f"The research run failed: {error}") from None
        answer = result.final_output
        if not isinstance(answer, output):
            raise ResearchFailedError("The model's answer was not a valid analysis")
        return answer


def _clean_topic(topic: str | None) -> str | None:
    if topic is None:
        return None
    cleaned = " ".join(topic.split())
    if len(cleaned) > MAX_RESEARCH_TOPIC_CHARS:
        raise InvalidInputError(f"'topic' is over {MAX_RESEARCH_TOPIC_CHARS} characters")
    return cleaned or None


def _targets(urls: Sequence[str]) -> list[str]:
    targets = list(dict.fromkeys(url.strip() for url in urls if url.strip()))
    if not targets:
        raise InvalidInputError(
            "No sources to read: give URLs, or set ALEX_RESEARCH_SOURCES to default ones"
        )
    if len(targets) > MAX_RESEARCH_URLS:
        raise InvalidInputError(f"At most {MAX_RESEARCH_URLS} URLs per run ({len(targets)} given)")
    return targets


async def _read_all(reader: PageReader, urls: Sequence[str], report: Progress) -> dict[str, str]:
    """Fetch every URL (a few at a time); the reasons of those that failed, by URL."""
    failed: dict[str, str] = {}
    gate = asyncio.Semaphore(4)

    async def read(url: str) -> None:
        async with gate:
            report("read", shortened(url))
            try:
                await asyncio.to_thread(reader.read, url)
            except AlexError as error:
                failed[url] = error.message
                report("skip", f"{shortened(url)}: {error.message}")

    await asyncio.gather(*(read(url) for url in urls))
    return failed


def _pages_prompt(pages: Sequence[Page], chat: ChatModel) -> str:
    """As many pages as fit the model's budget, each cut to its share."""
    share = max(1_000, min(chat.page_chars, chat.total_chars // max(1, len(pages))))
    return "\n\n".join(page_as_data(page, share) for page in pages)


def _checked(
    draft: AnalysisDraft, topic: str, model: str, reader: PageReader
) -> tuple[Analysis, list[str]]:
    """The analysis with only sources this run read (titled as read), and the figures that
    appear in no page."""
    read = reader.read_urls()
    sources: list[SourceRef] = []
    for source in draft.sources:
        page = read.get(source.url.strip())
        if page is None:
            logger.warning("Dropped a source the run did not read: %s", source.url)
            continue
        if all(known.url != page.final_url for known in sources):
            sources.append(SourceRef(url=page.final_url, title=page.title or source.title))
    if not sources:
        raise ResearchFailedError("The analysis cited no page that was read")
    # Small models repeat themselves; a repeated point says nothing new.
    key_points = _unique(draft.key_points)
    said = {_fold(point) for point in key_points}
    risks = [risk for risk in _unique(draft.risks) if _fold(risk) not in said]
    analysis = Analysis(
        **draft.model_dump(exclude={"sources", "key_points", "risks"}),
        key_points=key_points,
        risks=risks,
        sources=sources,
        topic=topic,
        model=model,
    )
    corpus = " ".join(page.text for page in reader.pages).replace(",", "")
    written = " ".join([analysis.summary, *analysis.key_points, *analysis.risks])
    figures = sorted(
        {f for f in _FIGURE.findall(written) if f.replace(",", "").rstrip(".") not in corpus}
    )
    return analysis, figures


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _unique(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for text in texts:
        key = _fold(text)
        if key not in seen:
            seen.add(key)
            kept.append(text)
    return kept
