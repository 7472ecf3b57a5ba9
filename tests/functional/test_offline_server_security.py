"""The embedded llama.cpp server: a random key per server, no CORS, the model unloaded when idle.

Any local process, and any web page through the browser, could use the server on loopback:
it had no key and answered every ``Origin`` with CORS allowed. Runs with the ``local-llm``
extra only; each server loads the model in ~1-2 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("xllamacpp")

from alex.research.offline_model import OfflineModelError, OfflineModelServer, assemble_model

EVIL = "http://evil.example"
HI = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 2, "temperature": 0}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return assemble_model(tmp_path_factory.mktemp("models"))
    except OfflineModelError as error:
        pytest.skip(f"the model packages are not installed: {error.message}")


@pytest.fixture(scope="module")
def llm(model_file: Path) -> Iterator[OfflineModelServer]:
    with OfflineModelServer(model_file, n_ctx=512) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=60) as client:
        yield client


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_each_server_has_its_own_random_key(llm: OfflineModelServer) -> None:
    other = OfflineModelServer(llm.model_path)
    assert len(llm.api_key) >= 32
    assert llm.api_key != other.api_key


def test_the_api_answers_only_with_the_key(llm: OfflineModelServer, http: httpx.Client) -> None:
    models = f"{llm.base_url}/models"
    chat = f"{llm.base_url}/chat/completions"
    assert http.get(models).status_code == 401
    assert http.get(models, headers=_bearer("offline")).status_code == 401
    assert http.post(chat, json=HI).status_code == 401
    assert http.get(models, headers=_bearer(llm.api_key)).status_code == 200
    assert http.post(chat, json=HI, headers=_bearer(llm.api_key)).status_code == 200


def test_no_origin_is_allowed_cross_origin(llm: OfflineModelServer, http: httpx.Client) -> None:
    preflight = http.options(
        f"{llm.base_url}/chat/completions",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    answers = [
        preflight,
        http.get(f"{llm.address}/health", headers={"Origin": EVIL}),
        http.get(f"{llm.base_url}/models", headers={"Origin": EVIL, **_bearer(llm.api_key)}),
    ]
    for answer in answers:
        # Absent or empty: a browser gives the page nothing (the value matches no origin).
        assert answer.headers.get("access-control-allow-origin", "") == "", answer.headers
        assert answer.headers.get("access-control-allow-credentials") != "true"
    assert "authorization" not in preflight.headers.get("access-control-allow-headers", "")


def _sleeping(server: OfflineModelServer, http: httpx.Client) -> bool:
    props = http.get(f"{server.address}/props", headers=_bearer(server.api_key))
    assert props.status_code == 200
    return bool(props.json()["is_sleeping"])


def test_an_idle_model_is_unloaded_and_reloaded_by_the_next_request(
    model_file: Path, http: httpx.Client
) -> None:
    with OfflineModelServer(model_file, n_ctx=512, idle_seconds=1) as server:
        chat = f"{server.base_url}/chat/completions"
        assert http.post(chat, json=HI, headers=_bearer(server.api_key)).status_code == 200
        assert not _sleeping(server, http)
        deadline = time.monotonic() + 15
        while not _sleeping(server, http):
            assert time.monotonic() < deadline, "the model was not unloaded when idle"
            time.sleep(0.2)
        assert http.post(chat, json=HI, headers=_bearer(server.api_key)).status_code == 200
        assert not _sleeping(server, http)


def test_idle_seconds_zero_keeps_the_model_loaded(model_file: Path, http: httpx.Client) -> None:
    with OfflineModelServer(model_file, n_ctx=512, idle_seconds=0) as server:
        chat = f"{server.base_url}/chat/completions"
        assert http.post(chat, json=HI, headers=_bearer(server.api_key)).status_code == 200
        time.sleep(2.5)
        assert not _sleeping(server, http)
