"""The knowledge base and research pages in a real Chromium against a real ``alex serve``
(fixtures: conftest.py): search and open a document, upload files and find one, and a real
research run (the embedded offline model) against a loopback fixture page, watched to its
end on the page."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import Tab
from tests.pagesite import PageSite
from tests.support.server import AlexServer

PHONE = 375


def check_page(tab: Tab, name: str) -> None:
    """No serious or critical axe violation at either width, nothing wider than a phone but
    the scrolling regions, screenshots at both widths."""
    for width in (1280, PHONE):
        tab.page.set_viewport_size({"width": width, "height": 900})
        assert tab.axe_violations() == [], (name, width)
    assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE, name
    tab.screenshots(name)


def test_search_then_open_a_document(tab: Tab, alex: AlexServer) -> None:
    text = (
        "Quillon Maritime's tanker fleet earned record charter rates in 2026. "
        "<b>Bold</b> claims aside, fuel costs rose."
    )
    with alex.client(timeout=60) as client:
        body = {"text": text, "metadata": {"title": "Quillon Maritime note", "ticker": "QLM"}}
        client.post("/ingest", json=body).raise_for_status()
    tab.sign_in(alex.api_key or "")
    tab.page.get_by_role("link", name="Knowledge base", exact=True).click()
    tab.page.get_by_label("Search for").fill("Quillon charter rates")
    tab.page.get_by_label("Mode").select_option("hybrid")
    tab.page.get_by_label("Filters").fill("ticker=QLM")
    tab.page.get_by_role("button", name="Search").click()
    tab.page.wait_for_load_state()
    link = tab.page.get_by_role("link", name="Quillon Maritime note")
    assert link.is_visible()
    marked = tab.page.locator(".hit-text mark").all_inner_texts()
    assert {word.casefold() for word in marked} >= {"quillon", "charter", "rates"}
    # The document's own markup is text on the page, never an element.
    assert tab.page.locator(".hit-text b").count() == 0
    check_page(tab, "knowledge-search")
    link.click()
    tab.page.wait_for_load_state()
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Quillon Maritime note"
    assert "<b>Bold</b> claims aside" in tab.page.locator(".document-text").inner_text()
    check_page(tab, "knowledge-document")
    assert tab.errors == []


def test_upload_files_see_each_outcome_then_find_the_document(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    tab.goto("/knowledge/upload")
    note = "---\ntitle: Ferrowind turbine note\n---\nFerrowind turbines doubled output in 2026.\n"
    tab.page.get_by_label("Files", exact=True).set_input_files(
        [
            {"name": "ferrowind.md", "mimeType": "text/markdown", "buffer": note.encode()},
            {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"},
        ]
    )
    tab.page.get_by_role("button", name="Upload and ingest").click()
    summary = tab.page.locator("#upload-summary")
    summary.filter(has_text="1 of 2 files ingested.").wait_for(timeout=60_000)
    rows = tab.page.locator("#upload-results li").all_inner_texts()
    assert len(rows) == 2
    assert rows[0].lower().startswith("created ferrowind.md: 1 part")
    assert "setup.exe: unsupported file type" in rows[1]
    check_page(tab, "knowledge-upload")
    tab.goto("/knowledge?mode=keyword&q=" + "Ferrowind turbines")
    tab.page.get_by_role("link", name="Ferrowind turbine note").click()
    tab.page.wait_for_load_state()
    assert "doubled output" in tab.page.locator(".document-text").inner_text()
    tab.goto("/knowledge/documents")
    assert tab.page.get_by_role("link", name="Ferrowind turbine note").is_visible()
    check_page(tab, "knowledge-documents")
    assert tab.errors == []


@pytest.mark.timeout(900)
def test_a_research_run_against_a_loopback_page_finishes(
    tab: Tab, alex: AlexServer, fixture_site: PageSite
) -> None:
    """A real run: the server's own chat model (the embedded offline one in the dev group),
    the fixture page on loopback, allowed by the server's ALEX_FETCH_ALLOW_HOSTS only."""
    url = fixture_site.url("/quarterly-results.html")
    tab.sign_in(alex.api_key or "")
    tab.page.get_by_role("link", name="Research", exact=True).click()
    tab.page.get_by_label("Topic").fill("Corvane Instruments Q3 2026")
    tab.page.get_by_label("Pages to read").fill(url)
    check_page(tab, "research")
    tab.page.get_by_role("button", name="Start research").click()
    tab.page.wait_for_load_state()
    assert re.fullmatch(re.escape(alex.url) + r"/research/runs/[0-9a-f]{32}", tab.page.url)
    status = tab.page.locator("#run-status")
    # The steps change on the page as the server reports them (htmx polling): record each
    # step line seen until the run ends.
    seen: list[str] = []
    deadline = time.monotonic() + 840
    while status.get_attribute("data-status") in ("queued", "running"):
        assert time.monotonic() < deadline, seen
        # Read without waiting: the poll may swap the line out between a count and a read
        # (inner_text would then wait 30 s for a line the finished run no longer shows).
        lines = tab.page.locator(".status-line").all_inner_texts()
        if lines and (not seen or seen[-1] != lines[0]):
            seen.append(lines[0])
        tab.page.wait_for_timeout(250)
    assert status.get_attribute("data-status") == "succeeded", status.inner_text()
    assert len(seen) >= 2, seen  # at least two steps shown live, e.g. reading then writing
    analysis = tab.page.locator(".analysis")
    assert analysis.get_by_role("heading", level=2).inner_text().strip()
    assert analysis.locator(".sources").get_by_role("link").first.get_attribute("href") == url
    assert "Unverified figures" in analysis.inner_text()
    assert tab.page.locator(".steps .step-done").count() == 4
    check_page(tab, "research-run")
    tab.goto("/research/runs")
    past = tab.page.get_by_role("table")
    assert past.get_by_role("link", name="Corvane Instruments Q3 2026").is_visible()
    assert [request.path for request in fixture_site.requests] == ["/quarterly-results.html"]
    assert tab.errors == []
