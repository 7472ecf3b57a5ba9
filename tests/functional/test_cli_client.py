"""The CLI's one client (local store or keyed API) and what it prints of outside text.

Stored text, fetched pages' text, file names and user input are printed literally: no
Rich markup read from them, no control character reaching the terminal. The remote tests
answer from a fake API behind ``httpx.MockTransport``, reached through ALEX_API_ENDPOINT
as a user would configure it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from alex.cli import app, main
from alex.domain.errors import StoreUnavailableError
from alex.services import Services

runner = CliRunner()
KEY = "client-test-key-0123456789"
OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = f"[/x] [bold red]red[/bold red] \x1b[2J {OSC8} car\rriage \x07\x9b\u202eend"
HOSTILE_ID = "[/x]\x1b[2J-id"


def assert_terminal_safe(output: str) -> None:
    """Nothing a terminal would obey: no ESC, no C0/C1 control but newline."""
    bad = sorted({c for c in output if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F})
    assert not bad, f"control characters reached the terminal: {bad!r}"


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as their text, so a value is found whole in the output."""
    from alex import cli

    for console in (cli.console, cli.errors):
        monkeypatch.setattr(console, "width", 1000)


@pytest.fixture
def local_model(monkeypatch: pytest.MonkeyPatch, embedder: object) -> None:
    """Every command's Services use the session's model (not loaded again per command)."""
    monkeypatch.setattr("alex.services.Services.embedder", embedder, raising=False)


def test_stored_text_prints_literally_in_ingest_search_list_and_show(local_model: None) -> None:
    text = f"Hostile filing about turbines.\n{HOSTILE}\nsecond\tline"
    invoke("ingest", "--text", text, "--id", HOSTILE_ID, "-m", f"title={HOSTILE}")

    for args in (("search", "hostile filing turbines"), ("docs", "list")):
        shown = invoke(*args)
        assert "[/x] [bold red]red[/bold red] \\x1b[2J" in " ".join(shown.output.split())
        assert_terminal_safe(shown.output)

    listed = json.loads(invoke("docs", "list", "--json").output)
    (document,) = listed["documents"]
    assert document["metadata"]["title"] == HOSTILE  # --json: the exact value
    found = json.loads(invoke("search", "hostile filing turbines", "--json").output)
    assert found[0]["text"] == text

    shown = invoke("docs", "show", document["document_id"])
    assert_terminal_safe(shown.output)
    assert "Hostile filing about turbines.\n[/x] [bold red]red[/bold red]" in shown.output
    assert "\\x1b]8;;http://evil\\x1b\\click" in shown.output and "car\\rriage" in shown.output
    assert "\nsecond" in shown.output  # the text's own lines are kept


def test_file_names_and_errors_print_literally(
    tmp_path: Path,
    local_model: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "[bold red]note\x1b[2J.md").write_text("Turbine orders doubled.")
    (folder / "[link=http:evil]\x1b]8;;http:evil\x07empty.txt").write_text("  ")
    result = runner.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 1, (result.output, result.exception)  # one file skipped
    assert "skipped" in result.output
    assert "[link=http:evil]\\x1b]8;;http:evil\\x07empty.txt" in result.output
    assert_terminal_safe(result.output)
    listed = invoke("docs", "list")
    assert "[bold red]note\\x1b[2J.md" in " ".join(listed.output.split())
    assert_terminal_safe(listed.output)

    # Through main(), as the console script runs: the error echoes the id literally.
    monkeypatch.setattr(sys, "argv", ["alex", "docs", "show", "[/x] [bold]\x1b[2J"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "No document with id '[/x] [bold]\\x1b[2J'" in err
    assert_terminal_safe(err)


class FakeApi:
    """Alex's keyed API as a MockTransport: records requests, counts closes."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.closed = 0
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {
            ("POST", "/ingest/batch"): self.ingest_batch,
            ("POST", "/ingest"): self.ingest_one,
        }

    def transport(self) -> httpx.MockTransport:
        api = self

        class Counting(httpx.MockTransport):
            def close(self) -> None:
                api.closed += 1

        return Counting(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["x-api-key"] == KEY
        path = request.url.raw_path.split(b"?")[0].decode()  # as sent: %2F stays quoted
        return self.routes[request.method, path](request)

    @staticmethod
    def ingest_batch(request: httpx.Request) -> httpx.Response:
        documents = json.loads(request.content)["documents"]
        results = [{"document_id": d["id"], "status": "created", "chunks": 1} for d in documents]
        return httpx.Response(200, json={"message": "ok", "results": results})

    @staticmethod
    def ingest_one(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"message": "ok", "document_id": body["id"]})


@pytest.fixture
def api(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """ALEX_API_ENDPOINT set, and every httpx.Client the CLI opens talks to a FakeApi."""
    isolated_settings.write_text(f"ALEX_API_ENDPOINT=http://api.test\nALEX_API_KEY={KEY}\n")
    fake = FakeApi()
    real_client = httpx.Client

    def client(**kwargs: Any) -> httpx.Client:
        return real_client(**{**kwargs, "transport": fake.transport()})

    monkeypatch.setattr(httpx, "Client", client)
    return fake


def test_remote_ingest_sends_files_in_one_batch_and_closes_the_client(
    api: FakeApi, tmp_path: Path
) -> None:
    for name in ("a.md", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"Notes {name} on turbine orders.")
    result = invoke("ingest", str(tmp_path))
    assert [(r.method, r.url.path) for r in api.requests] == [("POST", "/ingest/batch")]
    sent = json.loads(api.requests[0].content)["documents"]
    assert sorted(Path(d["id"]).name for d in sent) == ["a.md", "b.txt", "c.txt"]
    assert "3 of 3 files indexed" in result.output
    assert api.closed == 1


def test_local_commands_close_their_services(
    local_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Services] = []
    close = Services.close

    def counting_close(self: Services) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(Services, "close", counting_close)
    invoke("ingest", "--text", "Turbine orders doubled.")
    invoke("search", "turbine orders")
    invoke("docs", "list")
    assert len(closed) == 3


def research_result(step_detail: str) -> dict[str, Any]:
    return {
        "message": "ok",
        "document_id": HOSTILE_ID,
        "status": "created",
        "analysis": {
            "title": f"Title {HOSTILE}",
            "topic": f"Topic {HOSTILE}",
            "summary": f"Summary {HOSTILE}",
            "key_points": [f"Point {HOSTILE}"],
            "risks": [f"Risk {HOSTILE}"],
            "sources": [{"url": "http://pages.test/a[/x]", "title": f"Source {HOSTILE}"}],
            "as_of": "2026-12-03",
            "model": f"model {HOSTILE}",
        },
        "pages_read": ["http://pages.test/a[/x]"],
        "failed_urls": {"http://pages.test/[/x]": f"why {step_detail}"},
        "unverified_figures": ["9.9[/x]\x1b[2J"],
        "seconds": 1.0,
    }


def test_research_output_prints_fetched_text_literally(api: FakeApi) -> None:
    detail = f"http://pages.test/a {HOSTILE}"
    job = {
        "job_id": "j1",
        "status": "running",
        "step": "read",
        "detail": detail,
        "topic": "t",
        "urls": [],
        "created_at": "2026-12-03T00:00:00Z",
    }
    api.routes["POST", "/research/jobs"] = lambda r: httpx.Response(202, json=job)
    done = {**job, "status": "succeeded", "step": "done", "result": research_result(detail)}
    api.routes["GET", "/research/jobs/j1"] = lambda r: httpx.Response(200, json=done)

    result = invoke("research", "t")
    out = result.output
    assert_terminal_safe(out)
    flat = " ".join(out.split())
    for shown in ("Summary", "Point", "Risk", "Source", "why http://pages.test/a"):
        assert f"{shown} [/x] [bold red]red[/bold red] \\x1b[2J" in flat, shown
    assert "read http://pages.test/a [/x]" in flat
    assert "9.9[/x]\\x1b[2J" in flat and "[/x]\\x1b[2J-id" in flat

    as_json = invoke("research", "t", "--json")
    answer = json.loads(as_json.output[as_json.output.index("{") :])
    assert answer["analysis"]["summary"] == f"Summary {HOSTILE}"
    assert api.closed == 2


def refusing(marker: str) -> Callable[[httpx.Request], httpx.Response]:
    """POST /ingest/batch that refuses, whole, a batch holding a text with ``marker``."""

    def ingest_batch(request: httpx.Request) -> httpx.Response:
        documents = json.loads(request.content)["documents"]
        if any(marker in d["text"] for d in documents):
            return httpx.Response(400, json={"message": f"'text' holds {marker}"})
        return FakeApi.ingest_batch(request)

    return ingest_batch


def test_a_refused_file_is_found_by_sending_its_batch_one_by_one(
    api: FakeApi, tmp_path: Path
) -> None:
    api.routes["POST", "/ingest/batch"] = refusing("[bad]")
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("Fine notes." if name != "b.txt" else "Some [bad] notes.")
    result = runner.invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 1
    sizes = [len(json.loads(r.content)["documents"]) for r in api.requests]
    assert sizes == [3, 1, 1, 1]
    assert "skipped" in result.output and "b.txt: 'text' holds [bad]" in result.output
    assert "2 of 3 files indexed" in result.output


def test_batches_respect_the_document_and_byte_limits() -> None:
    from alex.ingest import IngestRequest
    from alex.remote import RemoteClient

    api = FakeApi()
    requests = [IngestRequest("x" * 100, {}, f"doc-{n}") for n in range(5)]
    progress: list[tuple[int, int]] = []
    with RemoteClient(
        "http://api.test", KEY, transport=api.transport(), batch_documents=2
    ) as client:
        outcomes = client.ingest_many(requests, lambda done, total: progress.append((done, total)))
    assert [len(json.loads(r.content)["documents"]) for r in api.requests] == [2, 2, 1]
    assert [o.document_id for o in outcomes if not isinstance(o, Exception)] == [
        f"doc-{n}" for n in range(5)
    ]
    assert progress == [(2, 5), (4, 5), (5, 5)] and api.closed == 1

    api.requests.clear()
    one = len(json.dumps({"text": "x" * 100, "metadata": {}, "id": "doc-0"}).encode())
    with RemoteClient(
        "http://api.test", KEY, transport=api.transport(), batch_bytes=16 + 3 * (one + 1)
    ) as client:
        client.ingest_many(requests)
    bodies = [r.content for r in api.requests]
    assert [len(json.loads(b)["documents"]) for b in bodies] == [3, 2]
    assert max(len(b) for b in bodies) <= 16 + 3 * (one + 1)


def test_remote_ids_are_one_path_segment_and_status_check_is_local_only(api: FakeApi) -> None:
    api.routes["DELETE", "/documents/a%2Fb%3Fc"] = lambda r: httpx.Response(
        200, json={"message": "Document deleted", "document_id": "a/b?c"}
    )
    result = invoke("docs", "delete", "a/b?c", "--yes")
    assert api.requests[-1].url.raw_path == b"/documents/a%2Fb%3Fc"
    assert "deleted a/b?c" in result.output

    listing = {"documents": [], "total": 7, "limit": 1, "offset": 0}
    api.routes["GET", "/documents"] = lambda r: httpx.Response(200, json=listing)
    health = {"status": "ok", "version": "9.9[/x]"}
    api.routes["GET", "/health"] = lambda r: httpx.Response(200, json=health)
    checked = runner.invoke(app, ["status", "--check"])
    assert "remote API http://api.test" in checked.output and "9.9[/x]" in checked.output
    assert checked.exit_code == 1
    assert "integrity check runs on a local store" in str(checked.exception)


def test_an_answer_that_is_not_alex_is_a_clear_error(api: FakeApi) -> None:
    api.routes["GET", "/documents"] = lambda r: httpx.Response(200, json={"items": []})
    result = runner.invoke(app, ["docs", "list"])
    assert result.exit_code == 1
    assert isinstance(result.exception, StoreUnavailableError)
    assert "did not answer as Alex's API does" in str(result.exception)

    api.routes["POST", "/ingest/batch"] = lambda r: httpx.Response(
        200, json={"message": "ok", "results": []}
    )
    result = runner.invoke(app, ["ingest", "--text", "Turbine orders doubled."])
    assert "answered 0 results for 1 documents" in str(result.exception)


def test_local_ingest_skips_the_refused_file_and_stores_the_others(
    local_model: None, tmp_path: Path
) -> None:
    for name, text in (("a.txt", "Alpha turbines."), ("b.txt", " \n "), ("c.txt", "Gamma ships.")):
        (tmp_path / name).write_text(text)
    result = runner.invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 1
    assert "b.txt: 'text' is empty" in result.output
    assert "2 documents: 2 new" in result.output and "2 of 3 files indexed" in result.output
    listed = json.loads(invoke("docs", "list", "--json").output)["documents"]
    assert sorted(d["metadata"]["file"] for d in listed) == ["a.txt", "c.txt"]
