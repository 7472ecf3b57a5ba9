"""The real offline model behind llama.cpp's server: a schema-valid answer through `openai`.

The ``local-llm`` extra comes with the dev group that ``uv run`` syncs. The model
is assembled into a temporary folder (~2 s) and loaded (~2 s) once for the module, and the
answer is kept short (~7 s on 2 cores).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from alex.research.offline_model import (
    DEFAULT_MODEL,
    OfflineModelError,
    OfflineModelServer,
    assemble_model,
)

PAGE_URL = "https://news.example/halvorsen-q2-2026"
PAGE = """\
Halvorsen Marine Reports Second Quarter 2026 Results

BERGEN, Norway, July 16, 2026 -- Halvorsen Marine ASA, a builder of electric ferries,
reported revenue of NOK 2.41 billion for the second quarter, up 12% from a year earlier.
Operating profit was NOK 188 million and the order backlog reached NOK 9.7 billion after
contracts for 4 new ferries. The company kept its full-year revenue outlook of NOK 9.5
billion to NOK 10.0 billion. Battery prices and delays at a supplier's yard are the main
risks, the company said.
"""

# The analysis schema with tight limits: answers take ~210 tokens, well inside max_tokens=300.
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "maxLength": 60},
        "summary": {"type": "string", "maxLength": 120},
        "key_points": {
            "type": "array",
            "items": {"type": "string", "maxLength": 50},
            "maxItems": 3,
        },
        "risks": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 2},
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "url": {"type": "string", "maxLength": 60},
                    "title": {"type": "string", "maxLength": 50},
                },
                "required": ["url", "title"],
            },
            "maxItems": 1,
        },
        "as_of": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    },
    "required": ["title", "summary", "key_points", "risks", "sources", "as_of"],
}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def llm(model_file: Path) -> Iterator[OfflineModelServer]:
    with OfflineModelServer(model_file, model_name=DEFAULT_MODEL.name, n_ctx=4096) as server:
        yield server


def test_the_server_answers_health_and_names_its_model(llm: OfflineModelServer) -> None:
    assert llm.base_url.startswith("http://127.0.0.1:")
    assert llm.base_url.endswith("/v1")
    with httpx.Client(trust_env=False) as client:
        assert client.get(f"{llm.address}/health").json() == {"status": "ok"}
        key = {"Authorization": f"Bearer {llm.api_key}"}
        models = client.get(f"{llm.base_url}/models", headers=key).json()
    assert llm.model_name in [model["id"] for model in models["data"]]


def test_a_schema_bound_analysis_is_valid_json_with_facts_from_the_page(
    llm: OfflineModelServer,
) -> None:
    client = OpenAI(base_url=llm.base_url, api_key=llm.api_key, max_retries=0, timeout=300)
    response = client.chat.completions.create(
        model=llm.model_name,
        messages=[
            {
                "role": "system",
                "content": "Analyse the page as JSON. Use only facts from the page; copy "
                "numbers exactly. Be brief. as_of: the page's date as YYYY-MM-DD.",
            },
            {"role": "user", "content": f"URL: {PAGE_URL}\n\n{PAGE}"},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "page_analysis", "strict": True, "schema": SCHEMA},
        },
        max_tokens=300,
        temperature=0.0,
        seed=0,
    )
    choice = response.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    analysis = json.loads(choice.message.content or "")
    assert set(analysis) == set(SCHEMA["properties"])  # type: ignore[arg-type]
    assert isinstance(analysis["title"], str) and analysis["title"]
    assert isinstance(analysis["summary"], str)
    assert len(analysis["key_points"]) <= 3
    assert all(isinstance(point, str) for point in analysis["key_points"])
    assert len(analysis["risks"]) <= 2
    assert all(set(source) == {"url", "title"} for source in analysis["sources"])
    date.fromisoformat(analysis["as_of"])  # a real date, not just the pattern
    text = json.dumps(analysis)
    assert "2.41" in text or "Halvorsen" in text  # it read the page


def test_a_file_that_is_not_a_model_fails_with_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(OfflineModelError, match="could not load"):
        OfflineModelServer(broken).start()


def test_stopping_closes_the_port(model_file: Path) -> None:
    server = OfflineModelServer(model_file, n_ctx=512).start()
    address = server.address
    server.stop()
    assert not server.running
    with httpx.Client(trust_env=False, timeout=2) as client, pytest.raises(httpx.ConnectError):
        client.get(f"{address}/health")
