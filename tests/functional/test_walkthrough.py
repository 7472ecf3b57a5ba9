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
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pagesite import PageSite
from tests.processes import run_alex
from tests.support.server import AlexServer

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def served(isolated_settings: Path) -> Iterator[AlexServer]:
    """`alex serve` as the quick start runs it: it writes a key into the (empty) .env and
    loads the samples. Its data and .env are this test's (conftest's isolated_settings)."""
    server = AlexServer(isolated_settings.parent, None, samples=True, startup_timeout=240)
    yield server.start()
    server.stop()


def test_the_local_walkthrough(served: AlexServer, isolated_settings: Path) -> None:
    url = served.url
    # alex serve wrote the key into .env and printed how to query; the samples are in.
    key = re.search(r"^ALEX_API_KEY=(\S+)$", isolated_settings.read_text("utf-8"), re.M)
    assert key, isolated_settings.read_text("utf-8")
    assert key.group(1) in served.log_text()

    found = run_alex("search", "chip supply risk", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout), "the samples answer the README's example search"

    # guide 3's local alternative: the same CLI through the server's keyed API.
    status = run_alex("status", "--endpoint", url)
    assert status.returncode == 0 and "remote API" in status.stdout, status.stderr
    again = run_alex("ingest", "samples", "--endpoint", url)
    assert again.returncode == 0, again.stderr
    listed = json.loads(run_alex("docs", "list", "--json", "--endpoint", url).stdout)
    assert listed["total"] == 12, "re-ingesting the samples adds nothing"
    remote = run_alex("search", "chip supply risk", "--json", "--endpoint", url)
    assert json.loads(remote.stdout)[0]["document_id"] == json.loads(found.stdout)[0]["document_id"]

    with PageSite() as site:
        with isolated_settings.open("a", encoding="utf-8") as env:
            env.write(f"ALEX_FETCH_ALLOW_HOSTS={site.host_port}\n")
        research = run_alex(
            "research",
            "Corvane Instruments third quarter 2026 results",
            "--url",
            site.url("/quarterly-results.html"),
            timeout=840,
        )
    assert research.returncode == 0, research.stderr[-3000:]
    assert "stored as" in research.stdout
    # The server sees what the CLI stored (one store, one SQLite file).
    hits = run_alex("search", "Corvane results", "--json", "-f", "kind=research", "--endpoint", url)
    assert hits.returncode == 0, hits.stderr
    assert json.loads(hits.stdout)[0]["metadata"]["topic"].startswith("Corvane")
