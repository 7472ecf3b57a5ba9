"""One analysis run, driven by the code: classify -> compute -> recall -> write -> check ->
store (docs/planner.md, "The analysis job"). Each step is reported as progress
(``(step, status, detail)``: the job records it, the CLI prints it live).

1. **classify**: instruments with an unknown asset class, region or sector go to the tagger
   (:mod:`alex.planner.classify`); its checked answers are stored as *proposed*, never
   applied. An answer that fails (its weights not adding up to 100, say) leaves that
   instrument unclassified and the run goes on.
2. **compute**: the code computes the figure set (:func:`alex.planner.figures.figure_set`:
   values, allocation, drift, the X-ray, the projection), what changed since the newest
   stored report of an earlier day (:mod:`alex.planner.changes`) and the charts
   (:func:`alex.planner.charts.portfolio_charts`). This is the only source of numbers.
3. **recall**: the knowledge base is searched for each large holding (research notes and
   documents; past reports left out: their figures are old); the notes go to the writers as
   data, marked checked or unchecked.
4. **write**: the reporter and the retirement writer (one agent each, no tools, each held to
   its schema) write the prose; the code writes the headline facts
   (:mod:`alex.planner.report_markdown`).
5. **check**: actions that contradict the figures are removed
   (:func:`~alex.planner.number_check.check_actions`), then every sentence of the Markdown
   is checked (:func:`~alex.planner.number_check.check_text`): a sentence with a number that
   is no figure (nor a figure of a note Alex checked) is removed. The counts are kept.
6. **store**: the report (Markdown, the figure set with its deltas, the charts, the counts)
   goes into the report store, and into the knowledge base as a document (metadata
   ``kind=report``, one per valuation day), so search finds past reports. A report of the
   same valuation day is replaced in both.

A writer's answer that fails its schema, a model that fails, or a run over
``limits.timeout_seconds`` ends the run with an :class:`~alex.domain.errors.AlexError`
(AnalysisFailedError, ChatModelUnavailableError) before anything is stored; the tagger's
proposals of step 1 are kept (each is a proposal the user accepts or rejects, not part of
the report).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from alex.domain.errors import AlexError, AnalysisFailedError, InvalidInputError
from alex.domain.models import ChunkHit
from alex.ingest import IngestService
from alex.planner.changes import Changes, comparable, compare
from alex.planner.charts import Spec, portfolio_charts
from alex.planner.classify import ClassifyReport, classify_unknown_async
from alex.planner.figure_json import figures_from_json, figures_to_json
from alex.planner.figures import FigureSet, figure_set
from alex.planner.jobs import StepName, StepStatus, utc_now
from alex.planner.number_check import Contradiction, SentenceCheck, check_actions, check_text
from alex.planner.prompt_data import fitted_prompt
from alex.planner.report_markdown import compose, title
from alex.planner.reporter import COMPACT as REPORT_COMPACT
from alex.planner.reporter import ReportDraft, build_reporter, reporter_prompt
from alex.planner.reports import Report, ReportCheck, new_report_id
from alex.planner.retirement_writer import COMPACT as RETIREMENT_COMPACT
from alex.planner.retirement_writer import (
    ONLY,
    RetirementDraft,
    build_retirement_writer,
    retirement_prompt,
)
from alex.portfolio.history import ValueHistory
from alex.portfolio.service import PortfolioProjection, PortfolioService, ProjectionPlan
from alex.ports import ReportStore
from alex.research.analysis import CHECKED
from alex.research.llm import ChatModel, run_agent

logger = logging.getLogger("alex.planner")

Progress = Callable[[StepName, StepStatus, str], None]
"""(step, status, detail): each step is reported running, then done, skipped or failed."""
KnowledgeSearch = Callable[[str], list[ChunkHit]]

REPORT_KIND = "report"
"""The ``kind`` metadata of a report in the knowledge base."""
REPORTS_SCANNED = 20  # stored reports read to find the previous day's and today's
_WRITER_TURNS = 1  # the writers have no tools: one answer


@dataclass(frozen=True)
class AnalysisLimits:
    timeout_seconds: float = 900.0
    large_share: Decimal = Decimal(5)
    """A holding of at least this per cent of the total is "large": notes are recalled."""
    recalled_holdings: int = 3
    notes_per_holding: int = 2


@dataclass(frozen=True)
class AnalysisResult:
    report: Report
    document_id: str
    classified: ClassifyReport
    removed: tuple[SentenceCheck, ...]
    contradictions: tuple[Contradiction, ...]
    seconds: Mapping[str, float] = field(default_factory=dict)
    """Each step's wall time (the bench prints them)."""


@dataclass(frozen=True)
class _Computed:
    figures: FigureSet
    changes: Changes
    charts: dict[str, Spec]
    replaced: tuple[str, ...]  # ids of stored reports of the same valuation day


@dataclass(frozen=True)
class _Written:
    draft: ReportDraft
    retirement: RetirementDraft | None
    notes: tuple[ChunkHit, ...]


def _quiet(step: StepName, status: StepStatus, detail: str) -> None:
    pass


@dataclass
class Analyst:
    """Runs analyses with one chat model on one portfolio, storing reports in ``reports``
    and the knowledge base through ``ingest``."""

    chat: ChatModel
    portfolio: PortfolioService
    reports: ReportStore
    ingest: IngestService
    search_knowledge: KnowledgeSearch
    limits: AnalysisLimits = field(default_factory=AnalysisLimits)
    plan: ProjectionPlan = field(default_factory=ProjectionPlan)
    now: Callable[[], datetime] = utc_now
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def _step(self, name: StepName, progress: Progress, detail: str = "") -> Iterator[None]:
        progress(name, "running", detail)
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - started

    async def arun(self, job_id: str, progress: Progress = _quiet) -> AnalysisResult:
        """One whole run for job ``job_id``; see the module's docstring."""
        self.seconds = {}
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                classified = await self._classify(progress)
                computed = await self._compute(progress)
                written = await self._write(
                    computed, await self._recall(computed, progress), progress
                )
        except TimeoutError:
            raise AnalysisFailedError(
                f"The analysis took longer than {self.limits.timeout_seconds:.0f} s; "
                "nothing was stored (ALEX_ANALYSIS_TIMEOUT_SECONDS sets the limit)"
            ) from None
        report, removed, contradictions = self._check(job_id, computed, written, progress)
        document_id = await self._store(report, computed, progress)
        return AnalysisResult(
            report, document_id, classified, removed, contradictions, dict(self.seconds)
        )

    # --- classify -------------------------------------------------------------------------
    async def _classify(self, progress: Progress) -> ClassifyReport:
        with self._step("classify", progress):
            classified = await classify_unknown_async(
                self.portfolio,
                self.chat,
                progress=lambda _, detail: progress("classify", "running", detail),
            )
        if classified.model is None:
            progress("classify", "skipped", "nothing to classify")
        else:
            said = f"{len(classified.proposed)} proposed"
            if classified.not_classified:
                said += f", {len(classified.not_classified)} not classified"
            progress("classify", "done", said)
        return classified

    # --- compute --------------------------------------------------------------------------
    async def _compute(self, progress: Progress) -> _Computed:
        with self._step("compute", progress):
            computed = await asyncio.to_thread(self._computed)
        detail = f"{len(computed.figures)} figures, {len(computed.charts)} charts"
        progress("compute", "done", detail)
        return computed

    def _computed(self) -> _Computed:
        portfolio = self.portfolio
        view = portfolio.show()
        if view.empty:
            raise InvalidInputError(
                "There is no portfolio to analyse: import accounts and transactions first "
                "(alex portfolio import)"
            )
        xray = portfolio.xray(view.as_of)
        projection = self._projection(view.as_of)
        history = self._history(view.as_of)
        figures = figure_set(view, xray, projection)
        previous, replaced = self._stored_reports(figures.as_of)
        changes = compare(figures, previous)
        charts = portfolio_charts(view, history=history, projection=projection)
        return _Computed(changes.applied_to(figures), changes, charts, replaced)

    def _projection(self, day: date) -> PortfolioProjection | None:
        try:
            return self.portfolio.project(self.plan, as_of=day)
        except InvalidInputError as error:  # a report without its retirement section
            logger.info("No projection: %s", error.message)
            return None

    def _history(self, day: date) -> ValueHistory | None:
        try:
            return self.portfolio.history(end=day)
        except InvalidInputError as error:  # a report without its value-over-time chart
            logger.info("No value history: %s", error.message)
            return None

    def _stored_reports(self, day: date) -> tuple[FigureSet | None, tuple[str, ...]]:
        """The figure set of the newest stored report of an earlier valuation day, and the
        ids of the reports of ``day`` (this run replaces them)."""
        same_day: list[str] = []
        for summary in self.reports.list_reports(REPORTS_SCANNED):
            stored = self.reports.get(summary.id)
            if stored is None:
                continue
            try:
                figures = figures_from_json(stored.figures)
            except InvalidInputError:
                continue  # not a report this module wrote: nothing to compare with
            if figures.as_of == day:
                same_day.append(stored.id)
            elif figures.as_of < day:
                return comparable(figures), tuple(same_day)
        return None, tuple(same_day)

    # --- recall ---------------------------------------------------------------------------
    async def _recall(self, computed: _Computed, progress: Progress) -> tuple[ChunkHit, ...]:
        figures = computed.figures
        large = [
            symbol
            for symbol in figures.holdings
            if (figures.number(f"holding.{symbol}.share") or 0) >= self.limits.large_share
        ][: self.limits.recalled_holdings]
        if not large:
            progress("recall", "skipped", "no large holding")
            return ()
        with self._step("recall", progress, ", ".join(large)):
            notes = await asyncio.to_thread(self._notes, figures, large)
        budget = self.chat.page_chars  # what one prompt may carry of recalled text
        kept: list[ChunkHit] = []
        for note in notes:
            if sum(len(n.text) for n in kept) + len(note.text) > budget:
                break
            kept.append(note)
        progress("recall", "done", f"{len(kept)} notes for {', '.join(large)}")
        return tuple(kept)

    def _notes(self, figures: FigureSet, symbols: Sequence[str]) -> list[ChunkHit]:
        seen: set[tuple[str, int]] = set()
        notes: list[ChunkHit] = []
        for symbol in symbols:
            name = figures.instruments.get(symbol, "")
            try:
                hits = self.search_knowledge(f"{name} {symbol}".strip())
            except AlexError as error:  # an empty or unreachable store must not stop it
                logger.warning("Knowledge base search failed: %s", error.message)
                return notes
            fresh = [
                hit
                for hit in hits
                if hit.metadata.get("kind") != REPORT_KIND
                and (hit.document_id, hit.chunk_ordinal) not in seen
            ][: self.limits.notes_per_holding]
            seen.update((hit.document_id, hit.chunk_ordinal) for hit in fresh)
            notes += fresh
        return notes

    # --- write ----------------------------------------------------------------------------
    async def _write(
        self, computed: _Computed, notes: tuple[ChunkHit, ...], progress: Progress
    ) -> _Written:
        chat, figures = self.chat, computed.figures
        # Half the model's context for the figures, the rest for notes, changes and answer.
        budget = chat.total_chars // 2
        with self._step("write", progress, f"{chat.name}: the report"):
            prompt = fitted_prompt(figures, budget, compact=REPORT_COMPACT)
            draft = await run_agent(
                build_reporter(chat.model, chat.settings, figures),
                reporter_prompt(prompt, computed.changes.as_prompt(), notes),
                ReportDraft,
                failed=AnalysisFailedError,
                what="report",
                run="analysis",
                max_turns=_WRITER_TURNS,
            )
            retirement = None
            if "projection.success_probability" in figures:
                progress("write", "running", f"{chat.name}: the retirement section")
                prompt = fitted_prompt(figures, budget, only=ONLY, compact=RETIREMENT_COMPACT)
                retirement = await run_agent(
                    build_retirement_writer(chat.model, chat.settings),
                    retirement_prompt(prompt, notes),
                    RetirementDraft,
                    failed=AnalysisFailedError,
                    what="retirement section",
                    run="analysis",
                    max_turns=_WRITER_TURNS,
                )
        progress("write", "done", chat.name)
        return _Written(draft, retirement, notes)

    # --- check ----------------------------------------------------------------------------
    def _check(
        self, job_id: str, computed: _Computed, written: _Written, progress: Progress
    ) -> tuple[Report, tuple[SentenceCheck, ...], tuple[Contradiction, ...]]:
        figures = computed.figures
        with self._step("check", progress):
            draft = written.draft
            contradictions = tuple(
                check_actions([action.action for action in draft.actions], figures)
            )
            against = {c.action for c in contradictions}
            actions = [action for action in draft.actions if action.action not in against]
            markdown = compose(figures, computed.changes, draft, actions, written.retirement)
            # A note's figures count only if Alex checked them against their pages.
            notes = [n.text for n in written.notes if n.metadata.get("verification") == CHECKED]
            checked = check_text(markdown, figures, notes)
        for removed in checked.removed:
            logger.info("Removed (%s): %s", ", ".join(removed.unmatched), removed.text)
        for contradiction in contradictions:
            logger.info("Action removed (%s): %s", contradiction.rule, contradiction.action)
        moment = self.now()
        report = Report(
            id=new_report_id(moment),
            created=moment,
            title=title(figures),
            markdown=checked.text,
            figures=figures_to_json(figures, notes),
            charts=computed.charts,
            check=ReportCheck(
                numbers_checked=checked.numbers,
                removed=len(checked.removed),
                flagged=0,
                contradictions=len(contradictions),
            ),
            model=self.chat.name[:200],
            job_id=job_id,
        )
        progress(
            "check",
            "done",
            f"{checked.numbers} numbers, {len(checked.removed)} sentences removed, "
            f"{len(contradictions)} actions removed",
        )
        return report, checked.removed, contradictions

    # --- store ----------------------------------------------------------------------------
    async def _store(self, report: Report, computed: _Computed, progress: Progress) -> str:
        with self._step("store", progress, report.title):
            await asyncio.to_thread(self.reports.put, report)
            try:
                stored = await asyncio.to_thread(
                    self.ingest.ingest,
                    report.markdown,
                    _metadata(report, computed.figures),
                    f"alex-report-{computed.figures.as_of.isoformat()}",
                )
            except BaseException:
                self.reports.delete(report.id)  # all or nothing: no report without its document
                raise
            for old in computed.replaced:
                await asyncio.to_thread(self.reports.delete, old)
        progress("store", "done", report.id)
        return stored.document_id


def _metadata(report: Report, figures: FigureSet) -> dict[str, Any]:
    return {
        "kind": REPORT_KIND,
        "title": report.title,
        "as_of": figures.as_of.isoformat(),
        "report_id": report.id,
        "job_id": report.job_id,
        "model": report.model,
        "source": "alex analyse",
    }
