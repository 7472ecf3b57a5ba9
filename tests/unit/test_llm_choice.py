"""Which chat model the settings choose, and the refusal of an incomplete server setting."""

from __future__ import annotations

import pytest

from alex.config import load_settings
from alex.domain.errors import ConfigError
from alex.research.llm import describe, kind_of, open_chat_model


def test_openai_wins_then_a_server_then_the_offline_model() -> None:
    both = load_settings(
        openai_api_key="sk-test-0123456789", llm_base_url="http://localhost:11434/v1"
    )
    assert kind_of(both) == "openai" and describe(both) == "OpenAI gpt-4.1-mini"
    server = load_settings(llm_base_url="http://localhost:11434/v1", llm_model="qwen2.5:7b")
    assert kind_of(server) == "server"
    assert describe(server) == "qwen2.5:7b at http://localhost:11434/v1"
    assert kind_of(load_settings()) == "offline"


def test_a_server_without_a_model_name_is_refused() -> None:
    settings = load_settings(llm_base_url="http://localhost:11434/v1")
    with pytest.raises(ConfigError, match="ALEX_LLM_MODEL"), open_chat_model(settings):
        pass


def test_a_server_model_is_used_with_its_settings() -> None:
    settings = load_settings(
        llm_base_url="http://localhost:1234/v1", llm_model="local", llm_tools=False
    )
    with open_chat_model(settings) as chat:
        assert (chat.kind, chat.name, chat.supports_tools) == ("server", "local", False)
