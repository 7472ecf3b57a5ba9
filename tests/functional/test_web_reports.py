"""The reports page in process (alex.web.reports) with a scripted chat model on the sample
household: starting an analysis needs the CSRF token and a same-site request, its steps are
polled until the job ends, the report page shows the stored report (its text with raw HTML
escaped, its charts with their tables, the check's counts and the figure set) as the JSON
API answers it, a failed job says why, past reports come newest first by pages, and unknown
or malformed ids are 404s."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from alex.config import Settings
from alex.http.app import create_app
from alex.planner.reports import new_report_id
from alex.services import Services
from alex.web.reports import PAST_REPORTS
from tests.functional.test_planner_doors import planner_services
from tests.functional.test_web_pages import KEY, api, sign_in
from tests.scripted_model import Reply, text
from tests.support.planner_run import job_replies, report_reply, retirement_reply, tagger_reply

HOSTILE = '<script>alert("report")</script> <img src=x onerror=alert(1)>'

Client = Callable[..., tuple[TestClient, Services, str]]


@pytest.fixture
def reports_client(settings: Settings) -> Iterator[Client]:
    """``make(*replies)``: a browser-like client (no key, no redirects followed), signed in,
    on the household with a scripted model answering ``replies``; its services; the token."""
    opened: list[tuple[TestClient, Services]] = []

    def make(*replies: Reply) -> tuple[TestClient, Services, str]:
        services = planner_services(settings, *replies)
        client = TestClient(
            create_app(services, KEY),
            raise_server_exceptions=False,
            follow_redirects=False,
            base_url="http://alex.test",
        )
        opened.append((client.__enter__(), services))
        return client, services, sign_in(client)

    yield make
    for client, services in opened:
        client.__exit__(None, None, None)
        services.close()


def start(client: TestClient, token: str) -> str:
    """Starts a job from the page's form; the job page's path."""
    started = client.post("/analysis", data={"csrf_token": token})
    assert started.status_code == 303, started.text
    location: str = started.headers["location"]
    assert re.fullmatch(r"/analysis/runs/[0-9a-f]{32}", location), location
    return location


def ended(client: TestClient, job_path: str) -> str:
    """Polls the status fragment as htmx does until it stops asking to be polled."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fragment = client.get(f"{job_path}/status")
        assert fragment.status_code == 200, fragment.text
        if "hx-trigger" not in fragment.text:
            return fragment.text
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def report_link(fragment: str) -> str:
    found = re.search(r'href="(/analysis/reports/[0-9a-f]{32})">Open the report</a>', fragment)
    assert found, fragment
    return found.group(1)


def data_value(page: str, name: str) -> int:
    found = re.search(rf'<data value="(\d+)" id="check-{name}">', page)
    assert found, name
    return int(found.group(1))


def test_the_pages_need_a_session(reports_client: Client) -> None:
    client, services, _ = reports_client()
    client.cookies.clear()
    for path in ("/analysis", f"/analysis/reports/{'0' * 32}", f"/analysis/runs/{'0' * 32}"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    refused = client.post("/analysis")
    assert refused.status_code == 303 and refused.headers["location"] == "/login"
    assert services.analysis.jobs.list_recent(5) == []


def test_an_analysis_started_from_the_page_and_its_report(reports_client: Client) -> None:
    client, services, token = reports_client(*job_replies())
    page = client.get("/analysis")
    assert page.status_code == 200
    assert 'aria-current="page">Reports</a>' in page.text
    assert "None yet" in page.text

    job_path = start(client, token)
    job_page = client.get(job_path)
    assert job_page.status_code == 200 and 'aria-live="polite"' in job_page.text
    fragment = ended(client, job_path)
    assert 'data-status="succeeded"' in fragment
    assert fragment.count('<span class="badge">done</span>') == 6
    assert "Check every number against the figures" in fragment

    report_path = report_link(fragment)
    report_page = client.get(report_path)
    assert report_page.status_code == 200
    stored = api(client, "GET", f"/reports/{report_path.rsplit('/', 1)[1]}")
    body = report_page.text
    # The title once as the page's heading; the Markdown's sections as the page's own.
    assert f"<h1>{html.escape(stored['title'])}</h1>" in body
    assert "<h2>Headline</h2>" in body and "<h2>Summary</h2>" in body
    assert "<h2>Retirement</h2>" in body
    for name, count in stored["check"].items():
        assert data_value(body, name) == count, name
    assert stored["check"]["numbers_checked"] > 0
    # Each stored chart as a JSON data block (the stored spec, $schema dropped) and a table.
    for name, spec in stored["charts"].items():
        found = re.search(
            rf'<script type="application/json" id="chart-{name}">(.*?)</script>', body
        )
        assert found, name
        shown = json.loads(found.group(1))
        assert shown == {key: value for key, value in spec.items() if key != "$schema"}
        assert f'id="chart-{name}-caption"' in body
    # The figure set: every figure's label and display text in the table.
    figures = stored["figures"]["figures"]
    assert body.count('<tr><th scope="row">') >= len(figures)
    total = figures["total.value"]
    assert f'<td class="num">{html.escape(total["text"])}</td>' in body
    assert "<code>total.value</code>" in body

    listed = client.get("/analysis")
    assert f'href="{report_path}">{html.escape(stored["title"])}</a>' in listed.text
    assert services.analysis.list_reports(5)[0].id == stored["report_id"]


def test_model_text_with_raw_html_is_escaped(reports_client: Client) -> None:
    client, _, token = reports_client(
        tagger_reply(),
        report_reply(strengths=[f"Costs are low. {HOSTILE}"]),
        retirement_reply(),
    )
    fragment = ended(client, start(client, token))
    body = client.get(report_link(fragment)).text
    assert "alert" in body  # the text is there ...
    assert '<script>alert("report")' not in body  # ... as text, never as markup
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_a_failed_job_says_why_and_links_no_report(reports_client: Client) -> None:
    client, services, token = reports_client(tagger_reply(), text("not a report"))
    fragment = ended(client, start(client, token))
    assert 'data-status="failed"' in fragment and 'role="alert"' in fragment
    assert "not a valid report" in html.unescape(fragment)
    assert "Open the report" not in fragment
    assert '<span class="badge">failed</span>' in fragment
    assert services.analysis.list_reports(5) == []


def test_starting_needs_the_token_and_a_same_site_request(reports_client: Client) -> None:
    client, services, token = reports_client()
    assert client.post("/analysis", data={}).status_code == 403
    assert client.post("/analysis", data={"csrf_token": token[:-1] + "x"}).status_code == 403
    cross = client.post(
        "/analysis", data={"csrf_token": token}, headers={"sec-fetch-site": "cross-site"}
    )
    assert cross.status_code == 403
    other = client.post(
        "/analysis", data={"csrf_token": token}, headers={"origin": "http://evil.test"}
    )
    assert other.status_code == 403
    assert services.analysis.jobs.list_recent(5) == []


def test_unknown_and_malformed_ids_are_not_found(reports_client: Client) -> None:
    client, _, _ = reports_client()
    for path in (
        f"/analysis/reports/{'0' * 32}",
        "/analysis/reports/not-an-id",
        f"/analysis/runs/{'0' * 32}",
        "/analysis/runs/not-an-id",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "No such" in response.text
    missing = client.get(f"/analysis/runs/{'0' * 32}/status")
    assert missing.status_code == 404 and "hx-trigger" not in missing.text
    bad = client.get("/analysis", params={"before": "<x>"})
    assert bad.status_code == 400 and "before: a report" in bad.text
    assert "<x>" not in bad.text


def test_past_reports_newest_first_by_pages(reports_client: Client) -> None:
    client, services, token = reports_client(*job_replies())
    first = client.get(report_link(ended(client, start(client, token))))
    assert first.status_code == 200
    (summary,) = services.analysis.list_reports(5)
    original = services.analysis.report(summary.id)
    stored = [original]
    for day in range(1, PAST_REPORTS + 2):  # 22 in all: a full page, then 2 older
        created = original.created - timedelta(days=day)
        copy = replace(
            original, id=new_report_id(created), created=created, title=f"Report {day:02d}"
        )
        services.analysis.reports.put(copy)
        stored.append(copy)
    page = client.get("/analysis").text
    titles = re.findall(r'<a href="/analysis/reports/[0-9a-f]{32}">([^<]+)</a>', page)
    assert titles == [html.escape(r.title) for r in stored[:PAST_REPORTS]]
    older = re.search(r'href="/analysis\?before=([0-9a-f]{32})" rel="next"', page)
    assert older and older.group(1) == stored[PAST_REPORTS - 1].id
    second = client.get("/analysis", params={"before": older.group(1)}).text
    titles = re.findall(r'<a href="/analysis/reports/[0-9a-f]{32}">([^<]+)</a>', second)
    assert titles == [r.title for r in stored[PAST_REPORTS:]]
    assert 'rel="next"' not in second and "Newest reports" in second
