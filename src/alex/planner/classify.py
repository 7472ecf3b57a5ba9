"""The classify step: instruments with an unknown classification go to the tagger agent, and
its checked answers are stored as *proposed* (docs/planner.md, "Classify").

For each instrument with an unknown asset class, region or sector (and no proposal waiting
already), the tagger is asked once; an answer that fails its schema or the code's checks
(:func:`alex.planner.tagger.check_answer`), or does not come within ``timeout_seconds``, is
asked for again once, told why; a second failure leaves that instrument not classified, with
the reason in the report, and the run goes on to the next. A model that cannot be reached
ends the run (ChatModelUnavailableError): every instrument would fail the same way. What is
stored is only ever a proposal, for the instrument's unknown dimensions; the user accepts
or rejects it (``alex.portfolio.classifications``).

Public API: :func:`classify_unknown` (sync: the CLI, a job's worker thread) and
:func:`classify_unknown_async` (inside a running event loop), both returning a
:class:`ClassifyReport`; :data:`Progress` is ``(step, detail)`` as the researcher's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from agents import RunConfig, Runner
from agents.exceptions import AgentsException, ModelBehaviorError
from openai import APIConnectionError, APIStatusError, AuthenticationError

from alex.domain.errors import ChatModelUnavailableError, InvalidInputError
from alex.planner.tagger import (
    AnswerRefused,
    CheckedAnswer,
    FundAnswer,
    IssuerAnswer,
    build_tagger,
    check_answer,
    tagger_prompt,
)
from alex.portfolio.classifications import Unclassified
from alex.portfolio.model import ProposedClassification
from alex.portfolio.service import PortfolioService
from alex.research.llm import ChatModel

Progress = Callable[[str, str], None]
"""A run's progress: (step, detail); the step is always "classify"."""
ModelOpen = Callable[[], AbstractContextManager[ChatModel]]
"""Opens the chat model (on first need only: nothing to classify starts nothing)."""

STEP = "classify"
ATTEMPTS = 2  # the first answer and one retry
TIMEOUT_SECONDS = 120.0  # per answer: the offline model takes ~10 s on 2 cores
NO_RECORD = "no instrument on record (no name or type to go by): import an instruments CSV"
WAITING = "a proposal is waiting: accept or reject it first"


@dataclass(frozen=True)
class Refusal:
    symbol: str
    reason: str


@dataclass(frozen=True)
class ClassifyReport:
    """What one run did: the proposals stored, the instruments not classified (the model
    failed twice: why), those skipped (why), and the model asked (None: none was needed)."""

    model: str | None
    proposed: tuple[ProposedClassification, ...] = ()
    not_classified: tuple[Refusal, ...] = ()
    skipped: tuple[Refusal, ...] = ()


def _quiet(step: str, detail: str) -> None:
    pass


def _plan(service: PortfolioService) -> tuple[list[Unclassified], list[Refusal]]:
    classifications = service.classifications
    skipped = [Refusal(symbol, NO_RECORD) for symbol in classifications.unrecorded()]
    waiting = {proposal.symbol for proposal in classifications.proposals()}
    todo: list[Unclassified] = []
    for item in classifications.unclassified():
        if item.instrument.symbol in waiting:
            skipped.append(Refusal(item.instrument.symbol, WAITING))
        else:
            todo.append(item)
    return todo, skipped


def classify_unknown(
    service: PortfolioService,
    open_model: ModelOpen,
    *,
    progress: Progress = _quiet,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> ClassifyReport:
    """Propose weights for every instrument that has unknown ones; the model is opened only
    if there is one to ask about, and closed at the end."""
    todo, skipped = _plan(service)
    if not todo:
        progress(STEP, "nothing to classify")
        return ClassifyReport(None, skipped=tuple(skipped))
    with open_model() as chat:
        return asyncio.run(_run(service, chat, todo, skipped, progress, timeout_seconds))


async def classify_unknown_async(
    service: PortfolioService,
    chat: ChatModel,
    *,
    progress: Progress = _quiet,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> ClassifyReport:
    """:func:`classify_unknown` with a model already open, inside a running event loop."""
    todo, skipped = _plan(service)
    if not todo:
        progress(STEP, "nothing to classify")
        return ClassifyReport(None, skipped=tuple(skipped))
    return await _run(service, chat, todo, skipped, progress, timeout_seconds)


async def _run(
    service: PortfolioService,
    chat: ChatModel,
    todo: list[Unclassified],
    skipped: list[Refusal],
    progress: Progress,
    timeout_seconds: float,
) -> ClassifyReport:
    proposed: list[ProposedClassification] = []
    refused: list[Refusal] = []
    for number, item in enumerate(todo, start=1):
        symbol = item.instrument.symbol
        progress(STEP, f"{symbol} ({number} of {len(todo)})")
        outcome = await _ask(chat, item, timeout_seconds)
        if isinstance(outcome, str):
            refused.append(Refusal(symbol, outcome))
            progress(STEP, f"{symbol}: not classified ({outcome})")
            continue
        try:
            proposal = service.classifications.propose(
                symbol,
                outcome.weights,
                confidence=outcome.confidence,
                reason=outcome.reason,
                model=chat.name,
            )
        except InvalidInputError as error:  # the stores' checks: not the model's to retry
            refused.append(Refusal(symbol, error.message))
            progress(STEP, f"{symbol}: not classified ({error.message})")
            continue
        proposed.append(proposal)
        progress(STEP, f"{symbol}: proposed (confidence {proposal.confidence})")
    return ClassifyReport(chat.name, tuple(proposed), tuple(refused), tuple(skipped))


async def _ask(chat: ChatModel, item: Unclassified, timeout_seconds: float) -> CheckedAnswer | str:
    """The checked answer, or why there is none after ``ATTEMPTS`` tries."""
    agent = build_tagger(chat.model, chat.settings, item.instrument)
    problem: str | None = None
    for _ in range(ATTEMPTS):
        prompt = tagger_prompt(item.instrument, problem)
        try:
            result = await asyncio.wait_for(
                Runner.run(
                    agent,
                    prompt,
                    max_turns=1,
                    run_config=RunConfig(tracing_disabled=True, workflow_name="alex classify"),
                ),
                timeout_seconds,
            )
            answer = result.final_output
            if not isinstance(answer, IssuerAnswer | FundAnswer):
                raise AnswerRefused("the answer was not a classification")
            return check_answer(answer)
        except AnswerRefused as error:
            problem = str(error)
        except TimeoutError:
            problem = f"no answer within {timeout_seconds:g} s"
        except (APIConnectionError, AuthenticationError) as error:
            raise ChatModelUnavailableError(f"The chat model is unreachable: {error}") from None
        except APIStatusError as error:
            raise ChatModelUnavailableError(
                f"The chat model refused the request ({error.status_code}): {error.message}"
            ) from None
        except ModelBehaviorError as error:  # the schema's (tagger.HeldAnswer) words
            problem = error.message
        except AgentsException as error:  # more than one turn, a refusal to answer
            problem = f"the run failed ({type(error).__name__})"
    assert problem is not None  # every failed attempt set it
    return problem
