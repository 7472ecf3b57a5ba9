"""Load and faults against real ``alex serve`` processes (``tests.support.load``, ``.faults``).

The load runs here are small; ``uv run python bench/load.py`` measures them at full size.
``KILL_ROUNDS=20`` runs more kill -9 rounds than the default 3.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.faults import (
    check_disk_full,
    check_read_only_dir,
    read_only_method,
    run_kill_rounds,
)
from tests.support.load import run_ingest_load, run_mixed_load

pytestmark = pytest.mark.timeout(120)

KILL_ROUNDS = int(os.environ.get("KILL_ROUNDS", "3"))


def _explain(result: dict[str, object]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in result.items())


@pytest.mark.timeout(90)
def test_concurrent_ingests_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    result = run_ingest_load(documents=120, clients=8, deadline_s=75, work_dir=tmp_path)
    assert result["errors"] == 0, _explain(result)
    assert result["stored_total"] == result["expected_total"] == 120, _explain(result)
    assert result["missing"] == result["unexpected"] == result["duplicated"] == []
    assert result["server_tracebacks"] == 0, _explain(result)
    assert result["ok"], _explain(result)


@pytest.mark.timeout(60)
def test_ingests_retried_after_client_timeouts_are_stored_once(tmp_path: Path) -> None:
    """A timed-out ingest still completes on the server; its retry must not duplicate it."""
    result = run_ingest_load(
        40, 8, client_timeout=0.2, max_attempts=10, deadline_s=50, work_dir=tmp_path
    )
    assert result["errors"] == 0 and result["stored_exactly"], _explain(result)
    assert result["duplicated"] == [] and result["stored_total"] == 40
    # Retries happen unless this machine answers every ingest within the 0.2 s timeout.
    assert result["retries"] > 0 or result["latency_p99_ms"] < 200, _explain(result)


@pytest.mark.timeout(90)
def test_mixed_searches_and_ingests_all_answer(tmp_path: Path) -> None:
    result = run_mixed_load(
        operations=80, clients=8, seed_documents=20, deadline_s=75, work_dir=tmp_path
    )
    assert result["searches"] > 0 and result["ingests"] > 0
    assert result["searches_all_200"] and result["search_errors"] == 0, _explain(result)
    assert result["ingest_errors"] == 0, _explain(result)
    assert result["stored_exactly"], _explain(result)
    assert result["ok"], _explain(result)


@pytest.mark.timeout(40 + 30 * KILL_ROUNDS)
def test_kill_9_during_batch_ingests_keeps_every_acknowledged_document(tmp_path: Path) -> None:
    result = run_kill_rounds(
        rounds=KILL_ROUNDS, max_delay=1.5, deadline_s=30 * KILL_ROUNDS, work_dir=tmp_path
    )
    assert result["rounds"] == KILL_ROUNDS, _explain(result)
    assert result["failures"] == 0, _explain(result)
    assert result["acknowledged_documents"] > 0, _explain(result)
    assert result["ok"], _explain(result)


@pytest.mark.timeout(60)
def test_full_disk_answers_503_and_stores_nothing(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    result = check_disk_full(work_dir=tmp_path, embedder=embedder)
    assert result["status"] == 503, _explain(result)
    assert result["problems"] == [], _explain(result)


@pytest.fixture(scope="module")
def read_only_result(tmp_path_factory: pytest.TempPathFactory, embedder) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One run of the read-only checks, shared by the tests below."""
    folder = tmp_path_factory.mktemp("read-only")
    if os.name == "nt" or read_only_method(folder) is None:
        pytest.skip("neither chattr +i (as root) nor chmod makes a folder read-only here")
    return check_read_only_dir(work_dir=folder, embedder=embedder)


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="no read-only folders for the owner")
def test_read_only_data_folder_gives_clear_errors(read_only_result: dict[str, object]) -> None:
    result = read_only_result
    assert result["cli_exit_code"] == 1, _explain(result)
    assert result["problems"] == [], _explain(result)
    # An open store keeps writing through its open files when only the folder is read-only.
    assert result["folder_read_only_ingest_status"] in (200, 503)
    if result["method"] == "chattr":
        assert result["store_read_only_ingest_status"] == 503, _explain(result)


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="no read-only folders for the owner")
def test_cli_store_error_is_one_line_when_piped(read_only_result: dict[str, object]) -> None:
    assert read_only_result["cli_exit_code"] == 1
    assert read_only_result["cli_stderr_lines"] == 1, read_only_result["cli_stderr"]
