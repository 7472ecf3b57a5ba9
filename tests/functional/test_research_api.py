"""POST /research and the async job form through the real app, with a scripted chat model.

Pages come from the loopback fixture site (allow-listed); the knowledge base is the in-memory
fakes (tests/fakes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alex.http.app import create_app
from alex.services import Services
from tests.pagesite import PageSite
from tests.scripted_model import ScriptedModel, answer, news_answer, research_with, text

KEY = "research-key-0123456789"


@pytest.fixture
def services(fake_services: Services) -> Services:
    return fake_services


@pytest.fixture
def client_for(services: Services, site: PageSite) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(model: ScriptedModel) -> TestClient:
        app = create_app(research_with(services, model, site.host_port), KEY)
        client = TestClient(app, raise_server_exceptions=False)
        client.headers["x-api-key"] = KEY
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_post_research_stores_the_analysis_and_answers_it(client_for: Any, site: PageSite) -> None:
    url = site.url("/quarterly-results.html")
    client = client_for(ScriptedModel([answer()]))
    response = client.post("/research", json={"topic": "Corvane Q3", "urls": [url]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["analysis"]["topic"] == "Corvane Q3"
    assert [s["url"] for s in body["analysis"]["sources"]] == [url]
    assert body["pages_read"] == [url] and body["failed_urls"] == {}
    stored = client.get(f"/documents/{body['document_id']}").json()
    assert stored["metadata"]["kind"] == "research"
    found = client.post(
        "/search", json={"query": "Corvane revenue", "filters": {"kind": "research"}}
    )
    assert found.json()["results"][0]["document_id"] == body["document_id"]


def test_a_failed_run_is_502_and_stores_nothing(client_for: Any, site: PageSite) -> None:
    url = site.url("/quarterly-results.html")
    client = client_for(ScriptedModel([text("no JSON here")]))
    response = client.post("/research", json={"topic": "Corvane", "urls": [url]})
    assert response.status_code == 502
    assert "not a valid analysis" in response.json()["message"]
    assert client.get("/documents").json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"topic": 5},
        {"topic": "x" * 201},
        {"urls": "http://example.com"},
        {"urls": [f"https://example.com/{n}" for n in range(11)]},
        {"topic": "x", "extra": 1},
    ],
)
def test_invalid_research_requests_are_422(client_for: Any, body: dict[str, Any]) -> None:
    client = client_for(ScriptedModel([]))
    assert client.post("/research", json=body).status_code == 422


def test_refused_urls_are_reported_and_no_model_runs(client_for: Any) -> None:
    model = ScriptedModel([])
    client = client_for(model)
    response = client.post(
        "/research", json={"topic": "x", "urls": ["file:///etc/passwd", "http://10.0.0.1/"]}
    )
    assert response.status_code == 502
    message = response.json()["message"]
    assert "file:///etc/passwd" in message and "10.0.0.1" in message
    assert model.calls == []


def test_research_jobs_run_in_the_background_and_report_their_result(
    client_for: Any, site: PageSite
) -> None:
    url = site.url("/market-news.html")
    client = client_for(ScriptedModel([news_answer(), text("not an analysis")]))

    def finished(job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job: dict[str, Any] = client.get(f"/research/jobs/{job_id}").json()
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not finish")

    submitted = client.post("/research/jobs", json={"topic": "Rates", "urls": [url]})
    assert submitted.status_code == 202
    assert submitted.json()["status"] in ("queued", "running")
    job = finished(submitted.json()["job_id"])
    assert job["status"] == "succeeded" and job["step"] == "done"
    assert job["result"]["analysis"]["topic"] == "Rates"

    failing = client.post("/research/jobs", json={"topic": "Other", "urls": [url]}).json()
    job = finished(failing["job_id"])
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["status"] == 502 and "not a valid analysis" in job["error"]["message"]

    assert client.get("/research/jobs/nope").status_code == 404
    assert client.get("/documents").json()["total"] == 1


def test_a_failed_jobs_stored_message_is_capped(client_for: Any) -> None:
    """Ten refused URLs of ~1,900 characters each make a ~40 KB reason; the job keeps 1,000
    characters of it (kept for each of the newest 100 jobs, and answered on every poll)."""
    urls = [f"http://10.0.0.{n}/{'a' * 1900}" for n in range(1, 11)]
    client = client_for(ScriptedModel([]))
    submitted = client.post("/research/jobs", json={"topic": "x", "urls": urls}).json()
    deadline = time.monotonic() + 60
    job = submitted
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = client.get(f"/research/jobs/{submitted['job_id']}").json()
    assert job["status"] == "failed" and job["error"]["status"] == 502
    message = job["error"]["message"]
    assert message.startswith("No source could be read (http://10.0.0.")
    assert len(message) == 1000 and message.endswith("…")
    assert len(job["detail"]) <= 1000


def test_a_malformed_url_is_a_refused_page_never_a_500(client_for: Any) -> None:
    model = ScriptedModel([])
    client = client_for(model)
    urls = ["http://xn--localhost-:18500/", "http://127.0.0.1:99999/"]
    response = client.post("/research", json={"topic": "x", "urls": urls})
    assert response.status_code == 502, response.text
    assert "not a valid URL" in response.json()["message"]
    assert model.calls == []


def test_a_url_over_2048_characters_is_422_with_a_short_message(client_for: Any) -> None:
    client = client_for(ScriptedModel([]))
    huge = "https://example.com/" + "a" * 1_500_000
    for path in ("/research", "/research/jobs"):
        response = client.post(path, json={"topic": "x", "urls": [huge]})
        assert response.status_code == 422, response.text[:300]
        assert len(response.text) < 1_000
        assert "2048" in response.json()["message"]
