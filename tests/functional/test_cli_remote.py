"""The CLI as a client of a keyed API (ALEX_API_ENDPOINT / --endpoint), against `alex serve`
on loopback: the same contract the deployed API has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from alex.domain.errors import StoreUnavailableError
from alex.remote import RemoteClient
from tests.support.server import AlexServer

runner = CliRunner()
KEY = "remote-test-key-0123456789"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlexServer]:
    alex = AlexServer(tmp_path_factory.mktemp("remote-server"), KEY).start()
    yield alex
    alex.stop()


@pytest.fixture
def remote_env(
    server: AlexServer, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> AlexServer:
    isolated_settings.write_text(f"ALEX_API_ENDPOINT={server.url}\nALEX_API_KEY={KEY}\n")
    return server


def cli(*args: str) -> object:
    from alex.cli import app

    return runner.invoke(app, list(args))


def test_remote_mode_ingests_searches_lists_shows_and_deletes_through_the_api(
    remote_env: AlexServer, tmp_path: Path, isolated_settings: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("---\nticker: RMTA\n---\nRemote Alpha sells wind turbines.")
    (folder / "b.txt").write_text("Remote Beta runs container ships between ports.")
    result = cli("ingest", str(folder), "-m", "topic=remote")
    assert result.exit_code == 0, result.output
    assert "2 of 2 files indexed" in result.output
    result = cli("ingest", "--text", "Remote Gamma mines copper.", "--id", "gamma")
    assert result.exit_code == 0 and "indexed:" in result.output

    found = json.loads(cli("search", "wind turbines", "--json", "-k", "1").output)
    assert found[0]["metadata"]["ticker"] == "RMTA" and found[0]["metadata"]["topic"] == "remote"

    listed = json.loads(cli("docs", "list", "--json").output)
    assert listed["total"] == 3
    gamma = next(d for d in listed["documents"] if "copper" in d["preview"])
    assert "Remote Gamma mines copper." in cli("docs", "show", gamma["document_id"]).output

    status = cli("status")
    assert "remote API" in status.output and remote_env.url in status.output

    deleted = cli("docs", "delete", "--all", "--yes")
    assert deleted.exit_code == 0 and "deleted 3 documents" in deleted.output
    assert json.loads(cli("docs", "list", "--json").output)["total"] == 0
    # Nothing went to a local store: remote mode never opened one.
    assert not (Path(str(isolated_settings.parent)) / "data" / "alex.sqlite3").exists()


def test_a_wrong_key_is_a_clear_error(remote_env: AlexServer, isolated_settings: Path) -> None:
    isolated_settings.write_text(
        f"ALEX_API_ENDPOINT={remote_env.url}\nALEX_API_KEY=wrong-key-0123456789\n"
    )
    result = cli("search", "anything")
    assert result.exit_code != 0
    assert "refused the API key" in str(result.exception)


def test_endpoint_option_overrides_and_needs_a_key(isolated_settings: Path) -> None:
    result = cli("search", "x", "--endpoint", "http://127.0.0.1:9")
    assert result.exit_code != 0
    assert "ALEX_API_KEY must be set" in str(result.exception)


def test_cold_starts_are_retried_then_reported() -> None:
    answers = iter([503, 502, 200])
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        calls.append(status)
        if status != 200:
            return httpx.Response(status, json={"message": "Service Unavailable"})
        return httpx.Response(200, json={"message": "ok", "document_id": "d1"})

    sleeps: list[float] = []
    client = RemoteClient(
        "http://api.test", "k", transport=httpx.MockTransport(handler), sleep=sleeps.append
    )
    assert client.ingest("text", {}, None) == "d1"
    assert calls == [503, 502, 200] and len(sleeps) == 2

    down = RemoteClient(
        "http://api.test",
        "k",
        attempts=3,
        sleep=sleeps.append,
        transport=httpx.MockTransport(lambda r: httpx.Response(504)),
    )
    with pytest.raises(StoreUnavailableError, match="did not answer after 3 attempts"):
        down.search("q", 5, "hybrid", {})
