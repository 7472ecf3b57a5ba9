"""The knowledge base and research pages in process (alex.web.knowledge, alex.web.research):
search with highlighted, escaped hits; the paged document list; a document's view and its
deletion (CSRF, confirm); uploads ingested by the CLI's loaders, each file's outcome named;
a research run started, polled to its end and listed among the past analyses, on a scripted
chat model and the loopback fixture site. The documents side runs on the fakes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup

from alex.http.app import create_app
from alex.services import Services
from alex.web.knowledge import highlight
from tests.functional.test_web_pages import KEY, api, sign_in
from tests.pagesite import PageSite
from tests.scripted_model import ScriptedModel, answer, research_with

HOSTILE = '<script>alert("doc")</script>'


def client_of(services: Services) -> TestClient:
    return TestClient(
        create_app(services, KEY),
        raise_server_exceptions=False,
        follow_redirects=False,
        base_url="http://alex.test",
    )


@pytest.fixture
def app_client(fake_services: Services) -> Iterator[TestClient]:
    with client_of(fake_services) as client:
        yield client


def ingest(client: TestClient, text: str, **metadata: Any) -> str:
    body = {"text": text, "metadata": metadata}
    document_id: str = api(client, "POST", "/ingest", json=body)["document_id"]
    return document_id


def test_highlight_escapes_first_then_marks_the_query_words() -> None:
    marked = highlight('Margin <b>"up"</b> & margins; MARGIN.', frozenset({"margin", "up"}))
    assert isinstance(marked, Markup)
    assert str(marked) == (
        "<mark>Margin</mark> &lt;b&gt;&#34;<mark>up</mark>&#34;&lt;/b&gt; &amp; margins; "
        "<mark>MARGIN</mark>."
    )
    # A query word that is markup is matched as a word, never written as markup.
    assert "<script" not in str(highlight(HOSTILE, frozenset({"script", "alert"})))


def test_search_marks_the_matched_words_and_escapes_the_text(app_client: TestClient) -> None:
    hostile = ingest(app_client, f"Northwind gross margin rose. {HOSTILE}", title=HOSTILE)
    ingest(app_client, "Solvik wind farms sold power.", title="Solvik", ticker="SLVK")
    token = sign_in(app_client)
    assert token
    page = app_client.get("/knowledge", params={"q": "northwind margin", "mode": "keyword"})
    assert page.status_code == 200
    assert "<mark>Northwind</mark> gross <mark>margin</mark> rose." in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    assert f'href="/knowledge/documents/{hostile}"' in page.text
    assert "1 result for" in page.text and "Solvik" not in page.text
    # Filters: the metadata the store supports, one key=value a line.
    filtered = app_client.get(
        "/knowledge", params={"q": "power", "mode": "hybrid", "filters": "ticker=SLVK\n"}
    )
    assert "<mark>power</mark>" in filtered.text
    none = app_client.get("/knowledge", params={"q": "power", "filters": "ticker=NOPE"})
    assert "0 results for" in none.text and "Nothing matched" in none.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x", "mode": "fuzzy"}, "&#39;mode&#39; must be one of"),
        ({"q": "x", "filters": "no-equals-sign"}, "must look like key=value"),
        ({"q": "x" * 2001}, "over 2,000 characters"),
    ],
)
def test_a_bad_search_names_the_problem(
    app_client: TestClient, params: dict[str, str], message: str
) -> None:
    sign_in(app_client)
    page = app_client.get("/knowledge", params=params)
    assert page.status_code == 400
    assert message in page.text and 'role="alert"' in page.text


def test_the_document_list_is_paged(app_client: TestClient) -> None:
    ids = [ingest(app_client, f"Note {n} about bonds.", title=f"Note {n}") for n in range(23)]
    sign_in(app_client)
    first = app_client.get("/knowledge/documents")
    assert "23 documents, newest first; page 1 of 2." in first.text
    shown = re.findall(r'href="/knowledge/documents/([0-9a-f-]+)"', first.text)
    assert len(shown) == 20
    assert 'href="/knowledge/documents?page=2"' in first.text
    second = app_client.get("/knowledge/documents", params={"page": "2"})
    listed = re.findall(r'href="/knowledge/documents/([0-9a-f-]+)"', second.text)
    assert len(listed) == 3 and set(listed) | set(shown) == set(ids)
    assert "Previous page" in second.text and "Next page" not in second.text
    assert app_client.get("/knowledge/documents", params={"page": "junk"}).status_code == 200


def test_a_document_shows_its_text_and_metadata_escaped(app_client: TestClient) -> None:
    document_id = ingest(app_client, f"Line one.\n{HOSTILE}", title="Hostile", tags=["a", "b"])
    sign_in(app_client)
    page = app_client.get(f"/knowledge/documents/{document_id}")
    assert page.status_code == 200
    assert "<h1>Hostile</h1>" in page.text and "a, b" in page.text
    assert HOSTILE not in page.text and "Line one.\n&lt;script&gt;" in page.text
    missing = app_client.get("/knowledge/documents/nope")
    assert missing.status_code == 404 and "No such document" in missing.text


def test_delete_asks_first_and_needs_the_csrf_token(app_client: TestClient) -> None:
    document_id = ingest(app_client, "Delete me, about dividends.", title="Doomed")
    token = sign_in(app_client)
    path = f"/knowledge/documents/{document_id}/delete"
    confirm = app_client.get(path)
    assert confirm.status_code == 200 and "Delete “Doomed”?" in confirm.text
    assert 'name="csrf_token"' in confirm.text
    assert app_client.post(path).status_code == 403
    assert app_client.post(path, data={"csrf_token": "forged"}).status_code == 403
    cross = app_client.post(
        path, data={"csrf_token": token}, headers={"sec-fetch-site": "same-site"}
    )
    assert cross.status_code == 403
    assert api(app_client, "GET", f"/documents/{document_id}")["document_id"] == document_id
    done = app_client.post(path, data={"csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == f"/knowledge/documents?deleted={document_id}"
    assert "Deleted document" in app_client.get(done.headers["location"]).text
    gone = app_client.get(f"/documents/{document_id}", headers={"x-api-key": KEY})
    assert gone.status_code == 404
    assert app_client.post(path, data={"csrf_token": token}).status_code == 404


def test_uploads_are_ingested_each_file_named_with_its_outcome(app_client: TestClient) -> None:
    token = sign_in(app_client)
    files = [
        ("files", ("notes.md", b"---\ntitle: Kelp farming\nticker: KELP\n---\nKelp yields rose.")),
        ("files", ("page.html", b"<html><title>Tide</title><body><p>Tidal power.</p></body>")),
        ("files", ("tool.exe", b"MZ")),
        ("files", ("latin.txt", "caf\xe9".encode("latin-1"))),
    ]
    page = app_client.post(
        "/knowledge/upload", data={"csrf_token": token, "metadata": "batch=1"}, files=files
    )
    assert page.status_code == 400  # two files refused: the page says which and why
    text = page.text
    assert "2 of 4 files ingested." in text
    assert re.search(r"created</strong>\s*<span class=\"upload-name\">notes.md</span>", text)
    assert "tool.exe</span>: unsupported file type" in text
    assert "latin.txt</span>: not UTF-8 text" in text
    found = api(app_client, "POST", "/search", json={"query": "kelp yields", "mode": "keyword"})
    hit = found["results"][0]
    assert hit["metadata"] == {
        "title": "Kelp farming",
        "ticker": "KELP",
        "source": "notes.md",
        "file": "notes.md",
        "batch": "1",
    }
    stored = api(app_client, "GET", f"/documents/{hit['document_id']}")
    assert stored["source_id"] == "upload/notes.md"
    # The script's request: one file, its row alone; the same file again is unchanged.
    row = app_client.post(
        "/knowledge/upload",
        data={"metadata": "batch=1"},
        files=[files[0]],
        headers={"x-csrf-token": token, "x-alex-rows": "1"},
    )
    assert row.status_code == 200 and row.text.lstrip().startswith("<li")
    assert "unchanged" in row.text and "<html" not in row.text


def test_an_upload_needs_a_file_and_the_csrf_token(app_client: TestClient) -> None:
    token = sign_in(app_client)
    none = app_client.post("/knowledge/upload", data={"csrf_token": token})
    assert none.status_code == 400 and "Choose at least one file" in none.text
    bad_meta = app_client.post(
        "/knowledge/upload",
        data={"csrf_token": token, "metadata": "oops"},
        files=[("files", ("a.txt", b"alpha"))],
    )
    assert bad_meta.status_code == 400 and "metadata &#39;oops&#39; must look like" in bad_meta.text
    refused = app_client.post("/knowledge/upload", files=[("files", ("a.txt", b"alpha"))])
    assert refused.status_code == 403
    assert api(app_client, "GET", "/documents")["total"] == 0


@pytest.fixture
def research_client(fake_services: Services, site: PageSite) -> Iterator[TestClient]:
    services = research_with(fake_services, ScriptedModel([answer()]), site.host_port)
    with client_of(services) as client:
        yield client
    services.close()


def wait_for_end(client: TestClient, status_path: str) -> str:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        fragment = client.get(status_path)
        assert fragment.status_code == 200
        if 'data-status="succeeded"' in fragment.text or 'data-status="failed"' in fragment.text:
            assert "hx-trigger" not in fragment.text  # the polling stops
            return fragment.text
        assert 'hx-trigger="every 2s"' in fragment.text
        time.sleep(0.1)
    raise AssertionError("the run did not end")


def test_a_research_run_starts_is_polled_to_its_end_and_is_listed(
    research_client: TestClient, site: PageSite
) -> None:
    client = research_client
    token = sign_in(client)
    url = site.url("/quarterly-results.html")
    assert "None yet" in client.get("/research/runs").text
    started = client.post(
        "/research/runs", data={"csrf_token": token, "topic": "Corvane Q3", "urls": f"\n{url}\n"}
    )
    assert started.status_code == 303
    run_path = started.headers["location"]
    assert re.fullmatch(r"/research/runs/[0-9a-f]{32}", run_path)
    assert 'aria-live="polite"' in client.get(run_path).text
    done = wait_for_end(client, run_path + "/status")
    assert 'data-status="succeeded"' in done
    assert "Corvane Instruments raises guidance after Q3 2026" in done
    assert "Revenue was $412.6 million, up 14.2%." in done
    assert f'<a href="{url}" rel="noopener noreferrer nofollow">' in done
    assert "None: every figure of the analysis is on a page it cites." in done
    page = client.get(run_path).text
    assert "Corvane Instruments raises guidance" in page and "hx-trigger" not in page
    past = client.get("/research/runs").text
    assert "1 stored in the knowledge base" in past and "Corvane Q3" in past


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"urls": "\n".join(f"https://example.com/{n}" for n in range(11))}, "urls: List should"),
        ({"topic": "x" * 201, "urls": "https://example.com/"}, "topic: String should"),
    ],
)
def test_a_bad_research_form_starts_nothing_and_says_why(
    research_client: TestClient, form: dict[str, str], message: str
) -> None:
    token = sign_in(research_client)
    page = research_client.post("/research/runs", data={"csrf_token": token, **form})
    assert page.status_code == 400
    assert "Nothing was started" in page.text and message in page.text


def test_research_needs_the_token_and_unknown_runs_are_404(research_client: TestClient) -> None:
    sign_in(research_client)
    refused = research_client.post("/research/runs", data={"urls": "https://example.com/"})
    assert refused.status_code == 403
    assert research_client.get("/research/runs/" + "0" * 32).status_code == 404
    status = research_client.get("/research/runs/" + "0" * 32 + "/status")
    assert status.status_code == 404 and "hx-trigger" not in status.text


def test_the_new_pages_have_no_inline_script_or_style(app_client: TestClient) -> None:
    document_id = ingest(app_client, "Inline check.", title="Inline")
    sign_in(app_client)
    for path in (
        "/knowledge?q=inline",
        "/knowledge/documents",
        f"/knowledge/documents/{document_id}",
        f"/knowledge/documents/{document_id}/delete",
        "/knowledge/upload",
        "/research/runs",
    ):
        text = app_client.get(path).text
        assert "<script>" not in text and " style=" not in text and "<style" not in text, path
        assert " on" + "click=" not in text and "hx-on" not in text, path
