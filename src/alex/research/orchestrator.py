"""One research run, driven by the code: read -> plan -> recall -> write -> check -> store.

1. **read**: the given URLs (or the configured default sources) are fetched by the code,
   through the SSRF-guarded fetcher, before any model runs; pages that fail are reported and
   skipped; no readable page ends the run. Each page is split into numbered sentences, its
   instruction-like passages set aside (:mod:`alex.research.evidence`).
2. **plan**: with no topic given, the planner picks one of the pages' titles or headings.
3. **recall**: the knowledge base is searched for the topic (earlier notes, background only,
   marked checked or unchecked).
4. **write**: the analyst agent writes a title and points, each citing the sentences it
   states, held to its JSON schema; a model that can call tools may read more pages and
   search again, within the turn and page limits.
5. **check**: every point is checked against the sentences it cites; what fails is left out
   and reported (:mod:`alex.research.checks`); no key point left ends the run.
6. **store**: the code ingests the analysis, one document per topic and day, so a retried
   run replaces it. A run that fails before this step stores nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from agents import Agent

from alex.domain.errors import AlexError, InvalidInputError, ResearchFailedError
from alex.domain.figures import unsupported
from alex.domain.models import ChunkHit, IngestStatus
from alex.domain.validation import MAX_RESEARCH_TOPIC_CHARS, MAX_RESEARCH_URLS, shortened
from alex.ingest import IngestService
from alex.research.analysis import (
    Analysis,
    AnalysisDraft,
    metadata_for,
    render,
    source_id_for,
)
from alex.research.analyst import build_analyst
from alex.research.checks import RejectedPoint, check_analysis
from alex.research.evidence import Evidence, as_data
from alex.research.fetch import FetchPolicy, Page
from alex.research.key_facts import key_facts
from alex.research.llm import ChatModel, run_agent
from alex.research.phraser import Phrasing, build_phraser, draft_from, phraser_prompt
from alex.research.planner import (
    Plan,
    build_planner,
    candidates_prompt,
    chosen,
    topic_candidates,
)
from alex.research.sources import PageReader, note_as_data
from alex.research.tools import TOOLS, KnowledgeSearch, ResearchContext

logger = logging.getLogger("alex.research")

# (step, detail): "read", "plan", "recall", "write", "store", "done".
Progress = Callable[[str, str], None]

Output = TypeVar("Output")


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
    rejected: list[RejectedPoint] = field(default_factory=list)
    # Each stored point (key point or risk) and the page sentences it cites.
    support: dict[str, tuple[str, ...]] = field(default_factory=dict)


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
        evidence = Evidence(self.chat.total_chars)

        failed = await _read_all(reader, targets, report)
        if not reader.pages:
            reasons = "; ".join(f"{shortened(url)}: {why}" for url, why in failed.items())
            raise ResearchFailedError(f"No source could be read ({reasons})")
        for page in reader.pages:
            evidence.add(page)

        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                if topic is None:
                    report("plan", "choosing a topic")
                    topic = await self._plan(evidence)
                report("recall", topic)
                notes = await asyncio.to_thread(self._recall, topic)
                report("write", f"{self.chat.name}, {len(reader.pages)} pages")
                context = ResearchContext(
                    reader, self.search_knowledge, evidence, topic, self.chat.page_chars
                )
                draft, gave_way = await self._write(topic, evidence, notes, context)
        except TimeoutError:
            raise ResearchFailedError(
                f"The research run took longer than {self.limits.timeout_seconds:.0f} s"
            ) from None

        checked = check_analysis(draft, evidence, topic)
        left_out = [*gave_way, *checked.rejected]
        for rejected in left_out:
            logger.info("Left out (%s): %s", rejected.reason, shortened(rejected.text))
        analysis = Analysis(
            title=checked.title,
            summary=checked.summary,
            key_points=[point.text for point in checked.key_points],
            risks=[point.text for point in checked.risks],
            sources=checked.sources,
            as_of=self.today().isoformat(),
            topic=topic,
            model=self.chat.name,
        )
        figures = _unverified(analysis, reader.pages)
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
            left_out,
            {
                point.text: tuple(sentence.text for sentence in point.sentences)
                for point in checked.key_points + checked.risks
            },
        )

    def _recall(self, topic: str) -> list[ChunkHit]:
        try:
            return self.search_knowledge(topic)[: self.limits.notes]
        except AlexError as error:  # an empty or unreachable store must not stop research
            logger.warning("Knowledge base search failed: %s", error.message)
            return []

    async def _plan(self, evidence: Evidence) -> str:
        candidates = topic_candidates(evidence.pages)
        if len(candidates) <= 1:  # nothing to choose between (none: chosen() asks for one)
            return chosen(None, candidates)
        agent = build_planner(self.chat.model, self.chat.settings)
        plan = await self._agent_run(agent, candidates_prompt(candidates), None, Plan)
        return chosen(plan, candidates)

    async def _write(
        self,
        topic: str,
        evidence: Evidence,
        notes: Sequence[ChunkHit],
        context: ResearchContext,
    ) -> tuple[AnalysisDraft, list[RejectedPoint]]:
        """The draft, and the model's phrasings that gave way to their sentences.

        A model that can call tools chooses, phrases and cites the facts itself (the
        analyst). For one that cannot (small local models), the code chooses the key
        sentences and the model phrases them (the phraser): measured, small models choose
        badly but rephrase well enough (docs/researcher.md)."""
        sentences = evidence.select(topic)
        facts = [] if self.chat.supports_tools else key_facts(sentences, topic)
        if facts:
            phraser = build_phraser(self.chat.model, self.chat.settings, len(facts))
            phrasing = await self._agent_run(phraser, phraser_prompt(topic, facts), None, Phrasing)
            return draft_from(facts, phrasing, evidence)
        tools = TOOLS if self.chat.supports_tools else []
        agent = build_analyst(self.chat.model, tools, self.chat.settings)
        prompt = (
            f"Topic: {topic}\n\n"
            f"Numbered page sentences:\n{as_data(sentences)}\n\n"
            "Notes from the knowledge base (background, not citable):\n"
            + ("\n".join(note_as_data(note) for note in notes) or "(none)")
            + "\n\nState the key facts of the topic, each citing its sentences."
        )
        return await self._agent_run(agent, prompt, context, AnalysisDraft), []

    async def _agent_run(
        self,
        agent: Agent[Any],
        prompt: str,
        context: ResearchContext | None,
        output: type[Output],
    ) -> Output:
        """One agent run, its failures turned into Alex's errors (nothing stored)."""
        return await run_agent(
            agent,
            prompt,
            output,
            failed=ResearchFailedError,
            what="analysis",
            run="research",
            max_turns=self.limits.max_turns,
            context=context,
        )


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


def _unverified(analysis: Analysis, pages: Sequence[Page]) -> list[str]:
    """Figures of the stored text that no page states (whole numbers with units). Every
    point was checked against its own sentences, so this is empty unless a check is
    missing: it stays in the answer as a second look."""
    written = " ".join([analysis.title, analysis.summary, *analysis.key_points, *analysis.risks])
    missing = unsupported(written, [page.text for page in pages])
    return sorted({figure.text for figure in missing})
