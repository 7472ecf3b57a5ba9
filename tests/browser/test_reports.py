"""The reports page in a real Chromium: start an analysis and open the report (issue 15's
acceptance), with its charts drawn, its tables, the check's counts, no console error and no
serious or critical axe violation, at desktop and phone widths.

A whole job with the embedded offline model takes minutes on this machine (docs/planner.md,
"Measured"), so this test runs its own ``alex serve`` pointed at a scripted
OpenAI-compatible server on loopback (tests/support/scripted_chat_server.py) through the
settings a user gives for Ollama or LM Studio (``ALEX_LLM_BASE_URL``, ``ALEX_LLM_MODEL``): no
production code knows about it. The shared server keeps the offline model, which the
research test runs for real. The model's answers are the planner tests' scripted ones; the
job's steps, checks, stores and pages are all the real ones.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest

from tests.browser.conftest import SAMPLES, Tab
from tests.browser.test_knowledge import check_page
from tests.support.scripted_chat_server import ScriptedChatServer, planner_answers
from tests.support.server import AlexServer


@pytest.fixture(scope="module")
def alex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlexServer]:
    """This module's ``alex serve`` (overriding the shared one, so conftest's ``tab`` opens
    pages on it): the sample household, and the scripted chat server as its model."""
    with ScriptedChatServer(planner_answers) as chat:
        server = AlexServer(
            tmp_path_factory.mktemp("browser-reports"), secrets.token_urlsafe(24), name="reports"
        )
        server.env.update(chat.env())
        server.start()
        try:
            with server.client(timeout=60) as client:
                files = [
                    {"name": p.name, "text": p.read_text("utf-8")} for p in SAMPLES.glob("*.csv")
                ]
                client.post("/portfolio/import", json={"files": files}).raise_for_status()
            yield server
        finally:
            server.stop()


def test_start_an_analysis_and_open_the_report(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    tab.page.get_by_role("link", name="Reports", exact=True).click()
    tab.page.wait_for_load_state()
    check_page(tab, "reports")
    tab.page.get_by_role("button", name="Start an analysis").click()
    tab.page.wait_for_load_state()
    assert re.fullmatch(re.escape(alex.url) + r"/analysis/runs/[0-9a-f]{32}", tab.page.url)
    # htmx polls the steps until the job ends; the link appears without a reload.
    link = tab.page.get_by_role("link", name="Open the report")
    link.wait_for(timeout=120_000)
    steps = tab.page.locator("#job-status .steps li").all_inner_texts()
    assert len(steps) == 6 and all(step.lower().startswith("done ") for step in steps), steps
    check_page(tab, "reports-job")
    link.click()
    tab.page.wait_for_load_state()
    heading = tab.page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Portfolio report, ")
    assert tab.page.get_by_role("heading", name="Headline").is_visible()
    assert int(tab.page.locator("#check-numbers_checked").inner_text()) > 0
    # Every chart drawn by the vendored renderer (an SVG or a canvas in its div).
    charts = tab.page.locator("div.chart[data-chart]")
    assert charts.count() > 0
    tab.page.wait_for_function(
        """() => [...document.querySelectorAll('div.chart[data-chart]')]
                 .every(div => div.querySelector('svg, canvas'))""",
        timeout=30_000,
    )
    check_page(tab, "reports-report")
    tab.page.get_by_role("link", name="Past reports").click()
    tab.page.wait_for_load_state()
    assert tab.page.get_by_role("link", name=heading).is_visible()
    assert tab.errors == []
