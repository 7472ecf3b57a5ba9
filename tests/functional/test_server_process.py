"""``alex serve`` as a real process: first-run key, samples, course client, restart, kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from alex.adapters.sqlite_store import SqliteStore
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL
from tests.conftest import FIXTURES

pytestmark = pytest.mark.timeout(300)


def complete_lines(output: str) -> list[str]:
    """The lines a killed child finished writing: a line the kill cut off was never acknowledged."""
    return [line for line in output.split("\n")[:-1] if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(
    url: str, key: str | None = None, body: object = None, method: str = "GET"
) -> tuple[int, dict]:  # type: ignore[type-arg]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if key is not None:
        request.add_header("x-api-key", key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Server:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["ALEX_DATA_DIR"]).parent / f"serve-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "alex", "serve", "--port", str(self.port), *args],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                if call(f"{self.url}/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        # Ctrl+C on macOS and Linux; Windows has no SIGINT for other processes.
        if os.name == "nt":
            self.process.terminate()
        else:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)


@pytest.fixture
def env(isolated_settings: Path) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


def read_key(env_file: Path) -> str:
    lines = [line for line in env_file.read_text().splitlines() if line.startswith("ALEX_API_KEY=")]
    assert len(lines) == 1
    return lines[0].split("=", 1)[1]


def test_first_run_makes_a_key_loads_samples_and_serves_the_course_client(
    env: dict[str, str], isolated_settings: Path
) -> None:
    isolated_settings.write_text("# user settings\nOPENAI_API_KEY=sk-keep-me\n")
    server = Server(env)
    try:
        key = read_key(isolated_settings)
        assert "OPENAI_API_KEY=sk-keep-me" in isolated_settings.read_text()
        assert (
            key in server.output()
            and server.url.replace("127.0.0.1", "localhost") in server.output()
        )
        status, body = call(f"{server.url}/search", key, {"query": "Kestrel K9", "k": 3}, "POST")
        assert status == 200 and body["results"], "bundled samples are searchable"
        assert (
            "Halvorsen" in body["results"][0]["text"]
            or body["results"][0]["metadata"]["ticker"] == "HVMD"
        )
        # The course client, as it was written: endpoint and key from its environment.
        client_env = {**env, "ALEX_API_ENDPOINT": server.url, "ALEX_API_KEY": key}
        client_env.pop("ALEX_ENV_FILE")
        # Run it from the test's folder: its load_dotenv() looks for a .env next to the script
        # and must not find the developer's own .env in the clone.
        client = shutil.copy(FIXTURES / "course_client.py", isolated_settings.parent)
        result = subprocess.run(
            [sys.executable, str(client)],
            env=client_env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=isolated_settings.parent,
        )
        assert result.returncode == 0, result.stderr
        document_id = result.stdout.strip()
        status, stored = call(f"{server.url}/documents/{document_id}", key)
        assert status == 200 and "Tesla" in stored["text"]
        assert call(f"{server.url}/documents", "wrong-key")[0] == 403
    finally:
        server.stop()
    # Restart: same key from .env, no second sample load, the data is all there.
    server = Server(env)
    try:
        assert read_key(isolated_settings) == key
        assert "loading the bundled samples" not in server.output()
        status, stored = call(f"{server.url}/documents/{document_id}", key)
        assert status == 200
        status, listed = call(f"{server.url}/documents?limit=500", key)
        assert listed["total"] == 13  # 12 samples + the course client's document
    finally:
        server.stop()


CHILD = """
import sys
from alex.config import load_settings
from alex.services import Services
services = Services(load_settings())
text = " ".join(f"Sentence {{i}} on revenue, margins and guidance." for i in range(120))
for n in range(10_000):
    result = services.ingest.ingest(f"Document {{n}}. " + text, {{"n": n}}, f"doc-{{n}}")
    sys.stdout.write(result.document_id + "\\n")  # one write: a kill cannot split the line
    sys.stdout.flush()
"""


@pytest.mark.parametrize("round_", range(3))
def test_kill_9_mid_ingest_leaves_a_consistent_store(
    env: dict[str, str], isolated_settings: Path, round_: int
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format()], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    acknowledged = []
    for _ in range(3 + round_ * 2):
        line = child.stdout.readline()
        assert line, "the ingest child died early"
        acknowledged.append(line.strip())
    time.sleep(0.05 * round_)  # land the kill at different points of the next write
    child.kill()
    child.wait()
    acknowledged += [line.strip() for line in complete_lines(child.stdout.read())]
    store = SqliteStore(
        Path(env["ALEX_DATA_DIR"]) / "alex.sqlite3", EMBEDDING_DIMENSION, EMBEDDING_MODEL
    )
    try:
        assert store.check_integrity() == []
        for document_id in acknowledged:
            document = store.get(document_id)
            assert document is not None, "an acknowledged document was lost"
        documents, _chunks = store.count({})
        assert documents >= len(acknowledged)
        for summary in store.list_documents(500, 0, {}):
            assert summary.chunk_count > 1  # whole documents only: every one has all its chunks
    finally:
        store.close()


WRITER = """
import sys
import numpy as np
from pathlib import Path
from alex.adapters.sqlite_store import SqliteStore
from alex.domain.models import Document, StoredChunk, EMBEDDING_DIMENSION, EMBEDDING_MODEL
store = SqliteStore(Path(sys.argv[1]), EMBEDDING_DIMENSION, EMBEDDING_MODEL)
rng = np.random.default_rng(int(sys.argv[2]))
for n in range(100_000):
    chunks = [StoredChunk(i, f"chunk {i} of document {n}", 0, 1) for i in range(40)]
    vectors = rng.normal(size=(40, EMBEDDING_DIMENSION)).astype(np.float32)
    document = Document(f"doc-{n % 25}", f"document {n}", {"n": n}, f"sha-{n}")
    store.upsert(document, chunks, vectors)  # replaces doc-(n % 25): old chunks out, new in
    sys.stdout.write(f"{document.id} {n}\\n")  # one write: a kill cannot split the line
    sys.stdout.flush()
"""


@pytest.mark.parametrize("delay", [0.3, 0.45, 0.6, 0.75, 0.9])
def test_kill_9_during_store_writes_never_leaves_half_a_document(
    env: dict[str, str], tmp_path: Path, delay: float
) -> None:
    """Writes dominate here (no model), so the kill lands inside transactions."""
    path = tmp_path / "kill.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(int(delay * 100))],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline(), "the writer died early"
    time.sleep(delay)
    child.kill()
    child.wait()
    last_acknowledged = {}
    for line in complete_lines(child.stdout.read()):
        document_id, n = line.split()
        last_acknowledged[document_id] = int(n)
    store = SqliteStore(path, EMBEDDING_DIMENSION, EMBEDDING_MODEL)
    try:
        assert store.check_integrity() == []
        for document_id, n in last_acknowledged.items():
            document = store.get(document_id)
            assert document is not None and document.chunk_count == 40
            # The stored version is the last acknowledged one or the one after (committed,
            # not yet printed when the kill came): never an older one.
            assert document.metadata["n"] in (n, n + 25)
    finally:
        store.close()
