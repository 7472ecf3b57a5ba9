"""A chat model for tests, scripted turn by turn, behind the Agents SDK's own Model interface.

    model = ScriptedModel([tool_call("fetch_page", url=...), answer(key_points=[...])])

Each reply builds the model's output items for one turn; ``model.calls`` records what the
SDK sent (instructions, input items, tool names, output schema) on every turn. A point cites
sentences by a quote from them (``point("Revenue was $412.6 million.", "Revenue of $412.6")``):
the reply finds the numbers those sentences were given in what the model was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agents import Model, ModelResponse, ModelSettings, Usage
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import TResponseInputItem, TResponseStreamEvent
from agents.models.interface import ModelTracing
from agents.tool import Tool
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from alex.research.fetch import FetchPolicy
from alex.research.llm import ChatModel
from alex.research.orchestrator import Researcher, ResearchLimits
from alex.services import Services


@dataclass
class Call:
    """What the model was sent on one turn."""

    instructions: str | None
    input: str | list[TResponseInputItem]
    tools: list[str]
    schema: dict[str, Any] | None


Reply = Callable[[Call], list[Any]]


@dataclass
class ScriptedModel(Model):
    """Answers each turn with the next scripted reply; records what it was sent."""

    replies: list[Reply]
    calls: list[Call] = field(default_factory=list)

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        **_: Any,
    ) -> ModelResponse:
        call = Call(
            system_instructions,
            input,
            [tool.name for tool in tools],
            output_schema.json_schema() if output_schema else None,
        )
        self.calls.append(call)
        if not self.replies:
            raise AssertionError("the model was called more often than scripted")
        return ModelResponse(output=self.replies.pop(0)(call), usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError


def text(content: str) -> Reply:
    message = ResponseOutputMessage(
        id="msg",
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=content, annotations=[])],
    )
    return lambda call: [message]


def answer(**fields: Any) -> Reply:
    """The analysis as JSON, its points' quotes turned into the numbers of the sentences
    that hold them in what the model was sent (an unknown quote cites sentence 9999)."""

    def reply(call: Call) -> list[Any]:
        numbered = sentence_numbers(call)
        body = draft(**fields)
        for kind in ("key_points", "risks"):
            body[kind] = [_resolved(item, numbered) for item in body[kind]]
        return text(json.dumps(body))(call)

    return reply


def sentence_numbers(call: Call) -> dict[str, int]:
    """Every numbered sentence ("[12] Revenue of ...") the model was sent, by its text."""
    found: dict[str, int] = {}
    for string in _strings(call.input):
        for number, sentence in re.findall(r"^\[(\d+)\] (.*)$", string, re.M):
            found[sentence] = int(number)
    return found


def sent_text(call: Call) -> str:
    """All the text the model was sent on one turn, newlines intact."""
    return "\n".join(_strings(call.input))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def point(text: str, *quotes: str) -> dict[str, Any]:
    """A point citing the sentences that contain each quote (resolved by :func:`answer`)."""
    return {"text": text, "quotes": list(quotes)}


def _resolved(item: Any, numbered: dict[str, int]) -> Any:
    if not isinstance(item, dict) or "quotes" not in item:
        return item
    cites = [
        next((number for sentence, number in numbered.items() if quote in sentence), 9999)
        for quote in item["quotes"]
    ]
    return {"cites": cites, "text": item["text"]}


def rephrase(edit: Callable[[str], str], title: str = "Corvane reports Q3 2026") -> Reply:
    """A phraser's answer: ``edit`` applied to each numbered sentence it was sent, in order."""

    def reply(call: Call) -> list[Any]:
        sentences = list(sentence_numbers(call))
        return text(json.dumps({"title": title, "points": [edit(s) for s in sentences]}))(call)

    return reply


def tool_call(name: str, **arguments: Any) -> Reply:
    counter = iter(range(1000))

    def reply(call: Call) -> list[Any]:
        number = next(counter)
        return [
            ResponseFunctionToolCall(
                type="function_call",
                id=f"fc{number}",
                call_id=f"call-{name}-{number}",
                name=name,
                arguments=json.dumps(arguments),
            )
        ]

    return reply


def draft(**fields: Any) -> dict[str, Any]:
    """An analysis of tests/fixtures/pages/quarterly-results.html, with ``fields`` replaced."""
    base: dict[str, Any] = {
        "title": "Corvane Instruments raises guidance after Q3 2026",
        "key_points": [
            point("Revenue was $412.6 million, up 14.2%.", "Revenue of $412.6 million"),
            point("Gross margin was 58.4%.", "Gross margin of 58.4%"),
        ],
        "risks": [
            point("Memory-chip capital spending softened in September.", "memory-chip capital")
        ],
    }
    base.update(fields)
    return base


def news_answer() -> Reply:
    """An analysis of tests/fixtures/pages/market-news.html."""
    move = point("The ALD 100 index rose 0.62% to 8,412.55.", "ALD 100 index rose 0.62%")
    return answer(title="Stocks edge higher as rates hold", key_points=[move], risks=[])


def chat_model(model: ScriptedModel, *, tools: bool = True) -> ChatModel:
    return ChatModel(
        model,
        name="scripted",
        kind="server",
        supports_tools=tools,
        page_chars=4000,
        total_chars=12000,
    )


def opener(
    model: ScriptedModel, *, tools: bool = True
) -> Callable[[Any], AbstractContextManager[ChatModel]]:
    """A ``ResearchService`` ``open_model`` that hands out ``model``."""
    return lambda settings: nullcontext(chat_model(model, tools=tools))


def scripted_researcher(
    services: Services,
    allow_host: str,
    model: ScriptedModel,
    *,
    tools: bool = True,
    turns: int = 4,
    today: date = date(2026, 11, 26),
) -> Researcher:
    """A researcher on ``services`` (the fakes) that runs ``model`` and may fetch from
    ``allow_host``, on a fixed day."""
    return Researcher(
        chat=chat_model(model, tools=tools),
        ingest=services.ingest,
        search_knowledge=lambda query: services.search.search(query, 3, "hybrid", {}),
        policy=FetchPolicy(allow_hosts=[allow_host]),
        limits=ResearchLimits(max_turns=turns, timeout_seconds=60),
        today=lambda: today,
    )


def research_with(services: Services, model: ScriptedModel, allow_host: str) -> Services:
    """``services`` whose researcher runs ``model`` and may fetch from ``allow_host``."""
    settings = services.settings.model_copy(update={"fetch_allow_hosts_setting": allow_host})
    return Services(
        settings, embedder=services.embedder, store=services.store, open_chat_model=opener(model)
    )
