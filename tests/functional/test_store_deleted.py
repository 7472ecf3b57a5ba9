"""A store file deleted or replaced under a running Alex: writes answer 503, never 200.

SQLite keeps writing to an open file after it is unlinked, so without a check every ingest
after ``rm -rf data`` answered 200 and was gone at the next start.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alex.adapters.sqlite_store import SqliteStore
from alex.cli import app as cli_app
from alex.config import Settings
from alex.domain.errors import StoreUnavailableError
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL
from alex.http.app import create_app
from alex.services import Services
from tests.functional.test_server_process import Server, call, env, read_key
from tests.processes import run_alex

__all__ = ["env"]  # the fixture, shared with the other `alex serve` tests

KEY = "test-key-0123456789"


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services, KEY), raise_server_exceptions=False) as test_client:
        test_client.headers["x-api-key"] = KEY
        yield test_client


def _ingest(client: TestClient, text: str) -> int:
    return client.post("/ingest", json={"text": text, "metadata": {"source": "t"}}).status_code


def test_after_the_data_folder_is_deleted_writes_and_health_answer_503(
    client: TestClient, settings: Settings
) -> None:
    assert _ingest(client, "Northwind reported record sales.") == 200
    assert client.get("/health").status_code == 200

    shutil.rmtree(settings.store_path.parent)

    response = client.post("/ingest", json={"text": "Lost after a restart.", "metadata": {}})
    assert response.status_code == 503, response.text
    message = response.json()["message"]
    assert "deleted or replaced" in message
    assert str(settings.store_path) in message
    assert "restart" in message.lower()
    batch = client.post("/ingest/batch", json={"documents": [{"text": "Also lost."}]})
    assert batch.status_code == 503
    health = client.get("/health")
    assert health.status_code == 503
    assert "deleted or replaced" in health.json()["message"]
    # The path is not recreated as a side effect of the refused writes.
    assert not settings.store_path.exists()


def test_a_store_file_replaced_by_another_refuses_writes(
    client: TestClient, settings: Settings
) -> None:
    assert _ingest(client, "First version of the knowledge base.") == 200
    for leftover in settings.store_path.parent.glob(settings.store_path.name + "*"):
        leftover.unlink()
    # Another process creates a fresh store under the same name (a restore, a second Alex).
    SqliteStore(settings.store_path, EMBEDDING_DIMENSION, EMBEDDING_MODEL).close()

    assert _ingest(client, "Written to the old, unlinked file.") == 503
    assert client.get("/health").status_code == 503


def test_integrity_check_reports_a_deleted_store(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "alex.db", EMBEDDING_DIMENSION, EMBEDDING_MODEL)
    try:
        assert store.check_integrity() == []
        (tmp_path / "alex.db").unlink()
        with pytest.raises(StoreUnavailableError, match="deleted or replaced"):
            store.check_integrity()
        with pytest.raises(StoreUnavailableError, match="deleted or replaced"):
            store.delete("any")
    finally:
        store.close()


def test_status_check_on_a_path_without_a_store_fails_and_creates_nothing(
    settings: Settings,
) -> None:
    assert not settings.store_path.exists()
    result = CliRunner().invoke(cli_app, ["status", "--check"])
    assert result.exit_code == 1, result.output
    assert "no store" in result.output.lower()
    assert "integrity check passed" not in result.output
    assert not settings.store_path.exists()

    plain = CliRunner().invoke(cli_app, ["status"])
    assert plain.exit_code == 0, plain.output
    assert "none yet" in plain.output
    assert not settings.store_path.exists()


@pytest.mark.timeout(300)
def test_a_real_server_refuses_writes_after_rm_rf_data_and_a_restart_starts_afresh(
    env: dict[str, str], settings: Settings, isolated_settings: Path
) -> None:
    server = Server(env)
    try:
        key = read_key(isolated_settings)
        body = {"text": "Kept before the deletion.", "metadata": {}}
        assert call(f"{server.url}/ingest", key, body, "POST")[0] == 200
        shutil.rmtree(settings.store_path.parent)
        status, answer = call(f"{server.url}/ingest", key, {"text": "Lost?"}, "POST")
        assert status == 503 and "deleted or replaced" in answer["message"]
        assert call(f"{server.url}/health")[0] == 503
        # A second process does not "pass" on the empty path, nor makes a store there.
        checked = run_alex("status", "--check")
        assert checked.returncode == 1 and "no store" in checked.stderr.lower()
        assert not settings.store_path.exists()
    finally:
        server.stop()
    server = Server(env)  # a restart opens a new store at the path
    try:
        assert call(f"{server.url}/health")[0] == 200
        assert call(f"{server.url}/ingest", key, {"text": "Kept after it."}, "POST")[0] == 200
    finally:
        server.stop()
