"""The local walkthrough of the README and guides/3_knowledge_base.md, as a new user runs it:
`alex serve` (it writes a key into .env and loads the samples), `alex search`, the CLI against
the server with `--endpoint`, `alex ingest samples`, `alex docs list`, then `alex research`
with the offline model and finding its analysis through the server.

Each command runs as its own process (`python -m alex ...`, what `uv run alex` runs), in a
fresh folder whose .env starts empty, as after a clone. Only the research pages are local
fixtures served on loopback (and allow-listed), since this machine has no internet.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.load import free_port
from tests.pagesite import PageSite

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(900)


def alex(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alex", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def served(isolated_settings: Path) -> Iterator[tuple[str, Path]]:
    """`alex serve` on a free port, as the quick start runs it (samples loaded)."""
    port = free_port()
    log = isolated_settings.parent / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "alex", "serve", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text("utf-8", "replace")[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("alex serve did not start:\n" + log.read_text("utf-8")[-3000:])
        yield url, log
    finally:
        server.send_signal(signal.SIGINT if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_local_walkthrough(served: tuple[str, Path], isolated_settings: Path) -> None:
    url, log = served
    # alex serve wrote the key into .env and printed how to query; the samples are in.
    key = re.search(r"^ALEX_API_KEY=(\S+)$", isolated_settings.read_text("utf-8"), re.M)
    assert key, isolated_settings.read_text("utf-8")
    assert key.group(1) in log.read_text("utf-8", "replace")

    found = alex("search", "chip supply risk", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout), "the samples answer the README's example search"

    # guide 3's local alternative: the same CLI through the server's keyed API.
    status = alex("status", "--endpoint", url)
    assert status.returncode == 0 and "remote API" in status.stdout, status.stderr
    again = alex("ingest", "samples", "--endpoint", url)
    assert again.returncode == 0, again.stderr
    listed = json.loads(alex("docs", "list", "--json", "--endpoint", url).stdout)
    assert listed["total"] == 12, "re-ingesting the samples adds nothing"
    remote = alex("search", "chip supply risk", "--json", "--endpoint", url)
    assert json.loads(remote.stdout)[0]["document_id"] == json.loads(found.stdout)[0]["document_id"]

    pytest.importorskip("xllamacpp", reason="research offline needs: uv sync --extra local-llm")
    with PageSite() as site:
        with isolated_settings.open("a", encoding="utf-8") as env:
            env.write(f"ALEX_FETCH_ALLOW_HOSTS={site.host_port}\n")
        research = alex(
            "research",
            "Corvane Instruments third quarter 2026 results",
            "--url",
            site.url("/quarterly-results.html"),
            timeout=840,
        )
    assert research.returncode == 0, research.stderr[-3000:]
    assert "stored as" in research.stdout
    # The server sees what the CLI stored (one store, one SQLite file).
    hits = alex("search", "Corvane results", "--json", "-f", "kind=research", "--endpoint", url)
    assert hits.returncode == 0, hits.stderr
    assert json.loads(hits.stdout)[0]["metadata"]["topic"].startswith("Corvane")
