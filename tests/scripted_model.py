"""A chat model for tests, scripted turn by turn, behind the Agents SDK's own Model interface.

    model = ScriptedModel([tool_call("fetch_page", url=...), answer(sources=[...])])

Each reply builds the model's output items for one turn; ``model.calls`` records what the
SDK sent (instructions, input items, tool names, output schema) on every turn.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
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

from alex.research.llm import ChatModel
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
    return text(json.dumps(draft(**fields)))


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
    base: dict[str, Any] = {
        "title": "Corvane Instruments raises guidance after Q3 2026",
        "summary": "Corvane reported Q3 2026 revenue of $412.6 million.",
        "key_points": ["Revenue was $412.6 million.", "Gross margin was 58.4%."],
        "risks": ["Supply of sensors."],
        "sources": [],
        "as_of": "2026-10-28",
    }
    base.update(fields)
    return base


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


def research_with(services: Services, model: ScriptedModel, allow_host: str) -> Services:
    """``services`` whose researcher runs ``model`` and may fetch from ``allow_host``."""
    settings = services.settings.model_copy(update={"fetch_allow_hosts_setting": allow_host})
    return Services(
        settings, embedder=services.embedder, store=services.store, open_chat_model=opener(model)
    )
