"""The researcher's offline model is opened with the chosen model, the idle setting and its
server's own key."""

from __future__ import annotations

from typing import Any, ClassVar, get_args

import pytest

from alex.config import OfflineModelName, load_settings
from alex.domain.errors import ConfigError
from alex.research import offline_model
from alex.research.llm import open_chat_model
from alex.research.offline_model import DEFAULT_MODEL, MODELS


class FakeServer:
    """Stands in for OfflineModelServer: records how it was built, starts nothing."""

    built: ClassVar[list[FakeServer]] = []

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.api_key = f"key-of-server-{len(FakeServer.built)}"
        self.base_url = "http://127.0.0.1:9/v1"
        self.model_name = "fake-model"
        self.stopped = False
        FakeServer.built.append(self)

    def start(self) -> FakeServer:
        return self

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> type[FakeServer]:
    FakeServer.built = []
    monkeypatch.setattr(offline_model, "OfflineModelServer", FakeServer)
    return FakeServer


def test_the_idle_setting_and_the_servers_key_are_used(
    fake_server: type[FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALEX_LLM_IDLE_SECONDS", "45")
    with open_chat_model(load_settings()) as chat:
        (server,) = fake_server.built
        assert server.options == {"spec": DEFAULT_MODEL, "idle_seconds": 45}
        assert chat.model._client.api_key == server.api_key  # type: ignore[attr-defined]
    assert server.stopped


def test_the_model_is_unloaded_after_ten_idle_minutes_by_default(
    fake_server: type[FakeServer],
) -> None:
    with open_chat_model(load_settings()):
        assert fake_server.built[0].options["idle_seconds"] == 600


def test_a_negative_idle_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALEX_LLM_IDLE_SECONDS", "-1")
    with pytest.raises(ConfigError, match="ALEX_LLM_IDLE_SECONDS"):
        load_settings()


@pytest.mark.parametrize("choice", get_args(OfflineModelName))
def test_the_model_alex_offline_model_names_is_served(
    fake_server: type[FakeServer], monkeypatch: pytest.MonkeyPatch, choice: OfflineModelName
) -> None:
    monkeypatch.setenv("ALEX_OFFLINE_MODEL", choice)
    with open_chat_model(load_settings()) as chat:
        (server,) = fake_server.built
        assert server.options["spec"] is MODELS[choice]
        assert chat.kind == "offline" and not chat.supports_tools
    assert server.stopped
