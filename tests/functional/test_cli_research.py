"""`alex research` with a scripted chat model: locally, and as a client of the keyed API
(the async job form, followed to its end). The real offline model runs in
test_research_offline.py."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alex.cli import app
from alex.config import load_settings
from alex.http.app import create_app
from alex.remote import RemoteClient
from alex.services import Services
from tests.pagesite import PageSite
from tests.scripted_model import ScriptedModel, answer, news_answer, opener, research_with, text

runner = CliRunner()
KEY = "cli-research-key-0123456789"


@pytest.fixture
def allowed_site(site: PageSite, isolated_settings: Path) -> PageSite:
    """The fixture site, allow-listed in .env as a user would."""
    isolated_settings.write_text(f"ALEX_FETCH_ALLOW_HOSTS={site.host_port}\n")
    return site


def test_research_prints_progress_and_the_analysis_and_search_finds_it(
    allowed_site: PageSite, monkeypatch: pytest.MonkeyPatch, embedder: object
) -> None:
    monkeypatch.setattr("alex.services.Services.embedder", embedder, raising=False)
    url, missing = allowed_site.url("/quarterly-results.html"), allowed_site.url("/status/404")
    model = ScriptedModel([answer()])
    monkeypatch.setattr("alex.research.service.open_chat_model", opener(model))

    result = runner.invoke(app, ["research", "Corvane Q3", "--url", url, "-u", missing])

    assert result.exit_code == 0, result.output
    out = result.output
    assert f"read {url}" in " ".join(out.split())
    assert "Corvane Instruments raises guidance" in out and "Key points" in out
    assert "not read:" in out and "/status/404" in out
    assert "stored as" in out
    found = runner.invoke(app, ["search", "Corvane guidance", "--json", "-f", "kind=research"])
    (hit, *_) = json.loads(found.output)
    assert hit["metadata"]["topic"] == "Corvane Q3"


def test_a_failed_run_is_one_error_line(
    allowed_site: PageSite, monkeypatch: pytest.MonkeyPatch, embedder: object
) -> None:
    monkeypatch.setattr("alex.services.Services.embedder", embedder, raising=False)
    model = ScriptedModel([text("no JSON")])
    monkeypatch.setattr("alex.research.service.open_chat_model", opener(model))
    result = runner.invoke(app, ["research", "x", "--url", allowed_site.url("/market-news.html")])
    assert result.exit_code == 1
    assert "not a valid analysis" in str(result.exception)


def test_research_through_the_api_follows_the_job(
    site: PageSite, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = site.url("/market-news.html")
    model = ScriptedModel([news_answer()])
    researching = research_with(services, model, site.host_port)
    with TestClient(create_app(researching, KEY)) as api:

        def through_app(request: httpx.Request) -> httpx.Response:
            answer = api.request(
                request.method, str(request.url), content=request.content, headers=request.headers
            )
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )

        client = RemoteClient("http://testserver", KEY, transport=httpx.MockTransport(through_app))
        monkeypatch.setattr("alex.cli.open_client", lambda endpoint, settings=None: client)
        result = runner.invoke(app, ["research", "Rates", "--url", url, "--json"])
    assert result.exit_code == 0, result.output
    answered = json.loads(result.output[result.output.index("{") :])
    assert answered["analysis"]["topic"] == "Rates"
    assert services.documents.get(answered["document_id"]).metadata["kind"] == "research"


def test_research_help_explains_the_model_choice() -> None:
    result = runner.invoke(app, ["research", "--help"])
    assert result.exit_code == 0
    assert "OPENAI_API_KEY" in result.output and "--url" in result.output
    assert load_settings().research_sources  # the defaults exist
