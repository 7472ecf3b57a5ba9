"""The planner's doors with a scripted chat model on the sample household: the HTTP routes
(``POST /analysis/jobs`` followed to its end, ``GET /reports``), and ``alex analyse`` /
``alex reports`` locally and as a client of the keyed API. The real offline model runs in
test_planner_offline.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alex.cli import app
from alex.client import LocalClient
from alex.config import Settings
from alex.http.app import create_app
from alex.remote import RemoteClient
from alex.services import Services
from tests.fakes import (
    FakeEmbedder,
    InMemoryAnalysisJobStore,
    InMemoryReportStore,
    InMemoryVectorStore,
)
from tests.scripted_model import Reply, ScriptedModel, text
from tests.support.planner_household import household_service, store_plan
from tests.support.planner_run import job_replies, opener, tagger_reply

KEY = "planner-key-0123456789"
runner = CliRunner()


def planner_services(settings: Settings, *replies: Reply) -> Services:
    household = household_service()
    store_plan(household)
    return Services(
        settings,
        embedder=FakeEmbedder(),
        store=InMemoryVectorStore(),
        open_chat_model=opener(ScriptedModel(list(replies))),
        portfolio_store=household.store,
        analysis_jobs=InMemoryAnalysisJobStore(),
        reports=InMemoryReportStore(),
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[Any]:
    opened: list[tuple[TestClient, Services]] = []

    def make(*replies: Reply) -> TestClient:
        services = planner_services(settings, *replies)
        client = TestClient(create_app(services, KEY), raise_server_exceptions=False)
        client.headers["x-api-key"] = KEY
        opened.append((client.__enter__(), services))
        return client

    yield make
    for client, services in opened:
        client.__exit__(None, None, None)
        services.close()


def followed(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/analysis/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def test_an_analysis_job_over_http_and_its_report(api: Any) -> None:
    client = api(*job_replies())
    started = client.post("/analysis/jobs")
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "queued" and {s["status"] for s in body["steps"]} == {"pending"}

    job = followed(client, body["job_id"])
    assert job["status"] == "succeeded", job
    assert [s["name"] for s in job["steps"]] == [
        "classify", "compute", "recall", "write", "check", "store"
    ]  # fmt: skip
    assert {s["status"] for s in job["steps"]} == {"done"}
    report_id = job["result"]["report_id"]
    listed = client.get("/reports").json()
    assert [r["report_id"] for r in listed["reports"]] == [report_id]
    report = client.get(f"/reports/{report_id}").json()
    assert report["markdown"].startswith("# Portfolio report, ")
    assert report["figures"]["figures"]["total.value"]["text"].endswith(" USD")
    assert "allocation_asset_class" in report["charts"]
    assert report["check"]["numbers_checked"] > 0
    # Found in the knowledge base as a report.
    found = client.post(
        "/search", json={"query": "portfolio report", "filters": {"kind": "report"}}
    )
    assert found.json()["results"][0]["metadata"]["report_id"] == report_id


def test_a_failed_job_answers_its_error_and_stores_nothing(api: Any) -> None:
    client = api(tagger_reply(), text("not a report"))
    job = followed(client, client.post("/analysis/jobs").json()["job_id"])
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["status"] == 502 and "not a valid report" in job["error"]["message"]
    assert client.get("/reports").json() == {"reports": [], "next_before": None}


def test_unknown_and_malformed_ids_and_missing_keys(api: Any) -> None:
    client = api()
    unknown = "0" * 32
    assert client.get(f"/analysis/jobs/{unknown}").status_code == 404
    assert client.get(f"/reports/{unknown}").status_code == 404
    assert client.get("/reports/not-an-id").status_code == 422
    assert client.get("/reports", params={"limit": 0}).status_code == 422
    assert client.get("/reports", params={"before": "x"}).status_code == 422
    assert client.post("/analysis/jobs", headers={"x-api-key": "wrong"}).status_code == 403
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/analysis/jobs", "/analysis/jobs/{job_id}", "/reports", "/reports/{report_id}"} <= set(
        paths
    )


def test_alex_analyse_locally_prints_the_steps_and_writes_the_files(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = planner_services(settings, *job_replies())
    monkeypatch.setattr("alex.planner_cli.open_client", lambda endpoint: LocalClient(services))
    out = tmp_path / "report"
    result = runner.invoke(app, ["analyse", "--out", str(out)])

    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    for step in ("classify done", "compute done", "write done", "check done", "store done"):
        assert step in said
    assert "Largest holding: MTUS" in result.output and "stored as report" in said
    markdown = (out / "report.md").read_text("utf-8")
    assert markdown.startswith("# Portfolio report")
    page = (out / "report.html").read_text("utf-8")
    assert "Largest holding: MTUS" in page and "Content-Security-Policy" in page
    assert (out / "assets" / "alex-charts.js").exists()


def test_alex_analyse_and_reports_through_the_api(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = planner_services(settings, *job_replies())
    with TestClient(create_app(services, KEY)) as api:

        def through_app(request: httpx.Request) -> httpx.Response:
            answer = api.request(
                request.method, str(request.url), content=request.content, headers=request.headers
            )
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )

        def client(endpoint: object) -> RemoteClient:
            return RemoteClient(
                "http://testserver", KEY, transport=httpx.MockTransport(through_app), poll_s=0.05
            )

        monkeypatch.setattr("alex.planner_cli.open_client", client)
        analysed = runner.invoke(app, ["analyse", "--json"])
        listed = runner.invoke(app, ["reports", "list", "--json"])
        answer = json.loads(analysed.output[analysed.output.index("{") :])
        shown = runner.invoke(app, ["reports", "show", answer["report"]["report_id"]])
    services.close()

    assert analysed.exit_code == 0, analysed.output
    assert answer["job"]["status"] == "succeeded"
    assert [r["report_id"] for r in json.loads(listed.output)["reports"]] == [
        answer["report"]["report_id"]
    ]
    assert shown.exit_code == 0 and "Largest holding: MTUS" in shown.output
