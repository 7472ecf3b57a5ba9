"""Faults: kill -9 during batch ingests, a full disk, a read-only data folder.

The checks behind tests/functional/test_load_faults.py (``KILL_ROUNDS=20 uv run pytest
tests/functional/test_load_faults.py -k kill_9`` runs more kill rounds).

``run_kill_rounds`` restarts a real ``alex serve`` on one data folder and kills it with
SIGKILL at random moments while a client sends ``POST /ingest/batch``; after each
restart every acknowledged document must be whole, listed and findable by its unique
marker word, and ``alex status --check`` must pass. ``check_disk_full`` and
``check_read_only_dir`` drive the HTTP app in process. Importing this module does nothing.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from alex.domain.validation import document_id_for
from tests.support.server import AlexServer, Deadline, server_env
from tests.support.text import paragraph

# Kill -9 rounds ---------------------------------------------------------------------------


@dataclass
class _Sent:
    """A document sent in a batch, with the marker word only it contains."""

    document_id: str
    marker: str
    text: str


@dataclass
class _BatchClient:
    """Sends batches until stopped or the server goes away; records what was acknowledged."""

    server: AlexServer
    round_: int
    batch_size: int
    rng: random.Random
    timeout: float
    acknowledged: list[_Sent] = field(default_factory=list)
    sent_batches: int = 0
    cut_at: float | None = None  # when the request the kill cut short (sent, no answer) began
    cut: list[_Sent] = field(default_factory=list)  # the documents of that request
    bad_answers: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def batch(self) -> tuple[list[dict[str, Any]], list[_Sent]]:
        documents: list[dict[str, Any]] = []
        sent: list[_Sent] = []
        for n in range(self.batch_size):
            marker = (
                f"zq{self.round_:02d}x{self.sent_batches:04d}x{n}x{self.rng.getrandbits(32):08x}"
            )
            source_id = f"kill-{self.round_:02d}-{self.sent_batches:04d}-{n}"
            words = self.rng.randint(60, 140)
            text = f"{paragraph(self.rng, words)} Reference code {marker} for this note."
            documents.append({"text": text, "metadata": {"round": self.round_}, "id": source_id})
            sent.append(_Sent(document_id_for(text, source_id), marker, text))
        return documents, sent

    def run(self) -> None:
        with self.server.client(self.timeout) as client:
            while not self.stop.is_set():
                documents, sent = self.batch()
                self.sent_batches += 1
                began = time.monotonic()
                try:
                    response = client.post("/ingest/batch", json={"documents": documents})
                except httpx.ConnectError:
                    return  # the server is gone: the round is over
                except httpx.TransportError:
                    self.cut_at, self.cut = began, sent  # sent, then the connection died
                    return
                if response.status_code != 200:
                    self.bad_answers.append(f"status {response.status_code}: {response.text[:200]}")
                    continue
                answered = [item["document_id"] for item in response.json()["results"]]
                if answered != [item.document_id for item in sent]:
                    self.bad_answers.append(f"answered ids {answered} differ from the sent ids")
                    continue
                self.acknowledged.extend(sent)


def _stored_whole(client: httpx.Client, documents: list[_Sent]) -> tuple[int, list[str]]:
    """How many of these unacknowledged documents were stored; any stored one must be whole."""
    stored = 0
    failures: list[str] = []
    for item in documents:
        response = client.get(f"/documents/{item.document_id}")
        if response.status_code == 404:
            continue
        stored += 1
        if response.status_code != 200 or response.json()["text"] != item.text:
            failures.append(f"{item.document_id}: unacknowledged but stored differently")
    return stored, failures


def _verify(client: httpx.Client, documents: list[_Sent]) -> list[str]:
    """Every document is stored whole with its text and found by a keyword search for its marker."""
    failures: list[str] = []
    for item in documents:
        response = client.get(f"/documents/{item.document_id}")
        if response.status_code != 200:
            failures.append(f"{item.document_id}: GET answered {response.status_code} (lost)")
            continue
        stored = response.json()
        if stored["text"] != item.text or stored["chunks"] < 1:
            failures.append(f"{item.document_id}: stored text or chunks differ")
        found = client.post("/search", json={"query": item.marker, "mode": "keyword", "k": 3})
        hits = [hit["document_id"] for hit in found.json().get("results", [])]
        if found.status_code != 200 or item.document_id not in hits:
            failures.append(f"{item.document_id}: keyword search for {item.marker} missed it")
    return failures


def integrity_check(env: dict[str, str], cwd: Path, timeout: float = 120) -> tuple[bool, str]:
    """``alex status --check`` in a fresh process: (passed, output)."""
    result = subprocess.run(
        [sys.executable, "-m", "alex", "status", "--check"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode == 0, (result.stdout + result.stderr)[-2000:]


def run_kill_rounds(
    rounds: int = 20,
    *,
    batch_size: int = 8,
    min_delay: float = 0.2,
    max_delay: float = 3.0,
    recheck_old: int = 40,
    seed: int = 5,
    client_timeout: float = 30.0,
    deadline_s: float = 900.0,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """``rounds`` x (start, send batches, kill -9 after a random delay, check); then a last check.

    After each restart the documents acknowledged in the round before, and ``recheck_old``
    older ones picked at random, are checked through the API; the last restart checks all.
    """
    deadline = Deadline(deadline_s)
    run_started = time.perf_counter()
    rng = random.Random(seed)
    own = work_dir is None
    folder = Path(tempfile.mkdtemp(prefix="alex-kill-")) if own else Path(work_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(24)
    env = server_env(folder / "data", folder / ".env", key)
    acknowledged: list[_Sent] = []
    unchecked: list[_Sent] = []
    cut: list[_Sent] = []
    cut_stored = 0
    failures: list[str] = []
    kills_mid_request = 0
    sent_batches = 0
    startups: list[float] = []
    tracebacks = 0
    rounds_done = 0
    checked_last = 0
    server: AlexServer | None = None
    try:
        for round_ in range(rounds + 1):
            if deadline.expired():
                failures.append(f"deadline reached before round {round_}")
                break
            server = AlexServer(
                folder, key, name=f"kill-{round_:02d}", startup_timeout=min(120, deadline.left())
            ).start()
            startups.append(server.startup_s)
            last = round_ == rounds
            fresh = {item.document_id for item in unchecked}
            old = [item for item in acknowledged if item.document_id not in fresh]
            to_check = (
                acknowledged if last else unchecked + rng.sample(old, min(recheck_old, len(old)))
            )
            with server.client(60) as client:
                failures += [f"round {round_}: {problem}" for problem in _verify(client, to_check)]
                stored, problems = _stored_whole(client, cut)
                cut_stored += stored
                failures += [f"round {round_}: {problem}" for problem in problems]
            checked_last = len(to_check)
            unchecked = []
            if last:
                server.stop()
                tracebacks += server.tracebacks()
                break
            batch_client = _BatchClient(
                server, round_, batch_size, random.Random(rng.getrandbits(64)), client_timeout
            )
            thread = threading.Thread(target=batch_client.run, daemon=True)
            thread.start()
            time.sleep(rng.uniform(min_delay, max_delay))
            killed_at = time.monotonic()
            server.kill()
            batch_client.stop.set()
            thread.join(timeout=client_timeout + 5)
            cut_at = batch_client.cut_at
            kills_mid_request += int(cut_at is not None and cut_at < killed_at)
            sent_batches += batch_client.sent_batches
            failures += [f"round {round_}: {answer}" for answer in batch_client.bad_answers]
            acknowledged += batch_client.acknowledged
            unchecked = list(batch_client.acknowledged)
            cut = list(batch_client.cut)
            tracebacks += server.tracebacks()
            passed, output = integrity_check(env, folder, timeout=min(120, deadline.left() + 1))
            if not passed:
                failures.append(f"round {round_}: alex status --check failed:\n{output}")
            rounds_done += 1
    finally:
        if server is not None:
            server.kill()
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "rounds": rounds_done,
        "batch_size": batch_size,
        "batches_sent": sent_batches,
        "acknowledged_documents": len(acknowledged),
        "kills_mid_request": kills_mid_request,
        # Committed before the kill, not yet answered: found whole after the restart.
        "unacknowledged_documents_stored": cut_stored,
        "documents_checked_at_end": checked_last,
        "server_startup_p50_s": round(sorted(startups)[len(startups) // 2], 2) if startups else 0,
        "server_tracebacks": tracebacks,
        "failures": len(failures),
        "failure_examples": failures[:10],
        "duration_s": round(time.perf_counter() - run_started, 2),
        "ok": not failures and tracebacks == 0 and rounds_done == rounds,
    }


# In-process helpers -------------------------------------------------------------------------


@contextmanager
def _services(data_dir: Path, embedder: Any = None) -> Iterator[Any]:
    """Services on ``data_dir`` (no .env read), sharing ``embedder`` when one is given."""
    from alex.config import Settings
    from alex.services import Services

    source: dict[str, Any] = {"_env_file": None}
    services = Services(Settings(**source, ALEX_DATA_DIR=str(data_dir)), embedder=embedder)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def _client(services: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from alex.http.app import create_app

    key = secrets.token_urlsafe(16)
    with TestClient(create_app(services, key), raise_server_exceptions=False) as client:
        client.headers["x-api-key"] = key
        yield client


def _answer_problems(response: Any, status: int, words: tuple[str, ...]) -> list[str]:
    """Problems with an error answer: status, JSON ``message`` naming ``words``, no traceback."""
    problems: list[str] = []
    if response.status_code != status:
        problems.append(f"expected {status}, got {response.status_code}: {response.text[:300]}")
    if "Traceback" in response.text:
        problems.append("the answer holds a traceback")
    try:
        message = str(response.json().get("message", ""))
    except ValueError:
        return [*problems, f"the answer is not JSON: {response.text[:200]}"]
    if not any(word in message.lower() for word in words):
        problems.append(f"the message {message!r} names none of {words}")
    return problems


def _small_documents(rng: random.Random, label: str, count: int) -> list[dict[str, Any]]:
    return [
        {"text": paragraph(rng, 60), "metadata": {"n": n}, "id": f"{label}-{n}"}
        for n in range(count)
    ]


def _intact(client: Any, documents: list[dict[str, Any]]) -> list[str]:
    problems = []
    for document in documents:
        response = client.get(f"/documents/{document_id_for(document['text'], document['id'])}")
        if response.status_code != 200 or response.json()["text"] != document["text"]:
            problems.append(f"earlier document {document['id']} is not intact")
    return problems


# Disk full ----------------------------------------------------------------------------------


def check_disk_full(work_dir: Path | None = None, embedder: Any = None) -> dict[str, Any]:
    """A full disk (SQLite ``max_page_count``) answers a large ingest 503, storing nothing.

    Afterwards the integrity check passes, earlier documents are intact, the refused one is
    absent, and once there is space again the same ingest succeeds.
    """
    started = time.perf_counter()
    own = work_dir is None
    folder = Path(tempfile.mkdtemp(prefix="alex-full-")) if own else Path(work_dir)
    rng = random.Random(3)
    problems: list[str] = []
    observed: dict[str, Any] = {}
    try:
        with _services(folder / "data", embedder) as services, _client(services) as client:
            earlier = _small_documents(rng, "before-full", 4)
            response = client.post("/ingest/batch", json={"documents": earlier})
            if response.status_code != 200:
                problems.append(f"setup ingest answered {response.status_code}")
            before = services.documents.count()
            db = services.store._db  # the store's own connection: the limit applies to it
            pages = int(db.execute("PRAGMA page_count").fetchone()[0])
            db.execute(f"PRAGMA max_page_count = {pages + 2}")
            big = {
                "text": "\n\n".join(paragraph(rng, 140) for _ in range(12)),
                "metadata": {"size": "large"},
                "id": "large-document",
            }
            response = client.post("/ingest", json=big)
            observed["status"] = response.status_code
            observed["message"] = response.json().get("message") if response.content else None
            problems += _answer_problems(response, 503, ("disk", "space", "full"))
            if "store" not in str(observed["message"]).lower():
                problems.append("the message does not say that the store is the problem")
            integrity = services.documents.check_integrity()
            if integrity:
                problems.append(f"integrity check after the full disk: {integrity}")
            if services.documents.count() != before:
                problems.append(f"counts changed: {before} -> {services.documents.count()}")
            problems += _intact(client, earlier)
            big_id = document_id_for(big["text"], big["id"])
            if client.get(f"/documents/{big_id}").status_code != 404:
                problems.append("the refused document is (partly) stored")
            # Space again: the same request now succeeds.
            db.execute("PRAGMA max_page_count = 1073741823")
            response = client.post("/ingest", json=big)
            observed["status_after_space_freed"] = response.status_code
            if response.status_code != 200:
                problems.append(f"after freeing space the ingest answered {response.status_code}")
            if services.documents.check_integrity():
                problems.append("integrity check fails after the retry")
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        **observed,
        "problems": problems,
        "duration_s": round(time.perf_counter() - started, 2),
        "ok": not problems,
    }


# Read-only data folder ------------------------------------------------------------------------


def read_only_method(probe_parent: Path) -> str | None:
    """How to make a folder read-only here: ``chattr`` (root on Linux), ``chmod``, or None.

    root ignores permission bits, so it needs the immutable attribute; it is tried on a probe
    folder, since some file systems (tmpfs, overlay) refuse it.
    """
    if os.name == "nt":
        return None
    probe = Path(tempfile.mkdtemp(prefix="ro-probe-", dir=probe_parent))
    try:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if is_root:
            if sys.platform != "linux" or shutil.which("chattr") is None:
                return None
            if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode:
                return None
            subprocess.run(["chattr", "-i", str(probe)], check=True)
            return "chattr"
        probe.chmod(0o500)
        try:
            (probe / "x").touch()
        except OSError:
            return "chmod"
        return None
    finally:
        probe.chmod(0o700)
        shutil.rmtree(probe, ignore_errors=True)


@contextmanager
def read_only(paths: list[Path], method: str) -> Iterator[None]:
    """Make ``paths`` read-only for the block (immutable as root), and writable again after."""
    modes = {path: path.stat().st_mode & 0o7777 for path in paths}
    if method == "chattr":
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
    else:
        for path in paths:
            path.chmod(modes[path] & ~0o222)
    try:
        yield
    finally:
        if method == "chattr":
            subprocess.run(["chattr", "-i", *map(str, paths)], check=False)
        else:
            for path, mode in modes.items():
                path.chmod(mode)


def _cli_ingest_into(data_dir: Path, folder: Path) -> dict[str, Any]:
    env = server_env(data_dir, folder / ".env", "unused-key-of-this-check")
    env.pop("COLUMNS")  # as a script or CI would run it: stderr is a pipe, not a terminal
    result = subprocess.run(
        [sys.executable, "-m", "alex", "ingest", "--text", "Northwind raised guidance."],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {
        "exit_code": result.returncode,
        "stderr": result.stderr,
        "stdout": result.stdout,
    }


def check_read_only_dir(work_dir: Path | None = None, embedder: Any = None) -> dict[str, Any]:
    """A read-only data folder: a clear CLI error, and 503 (not a traceback) while serving.

    1. ``alex ingest --text`` with ALEX_DATA_DIR an empty read-only folder: exit code 1, one
       error naming the folder or ALEX_DATA_DIR, no traceback, nothing created.
    2. An open store whose folder becomes read-only: observed (SQLite keeps writing through
       its open files, so an ingest still succeeds). With ``chattr`` the database and WAL
       files are made immutable too: an ingest must answer 503 JSON and store nothing,
       reads keep working, and writes work again once the files are writable.
       (The ``-shm`` file is left alone: SQLite writes it through mmap, and an immutable
       mapped file kills the process with SIGBUS.)
    """
    started = time.perf_counter()
    own = work_dir is None
    folder = Path(tempfile.mkdtemp(prefix="alex-ro-")) if own else Path(work_dir)
    method = read_only_method(folder)
    if method is None:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
        return {"skipped": "no way to make a folder read-only here", "ok": True, "problems": []}
    problems: list[str] = []
    observed: dict[str, Any] = {"method": method}
    try:
        # 1. The CLI cannot create the store.
        empty = folder / "ro-data"
        empty.mkdir()
        with read_only([empty], method):
            cli = _cli_ingest_into(empty, folder)
        message = cli["stderr"].strip()
        flat = " ".join(message.split())
        observed["cli_exit_code"] = cli["exit_code"]
        observed["cli_stderr"] = message
        observed["cli_stderr_lines"] = len(message.splitlines())
        if cli["exit_code"] != 1:
            problems.append(f"alex ingest exit code {cli['exit_code']}, expected 1")
        if "Traceback" in cli["stderr"] + cli["stdout"]:
            problems.append("alex ingest printed a traceback")
        if str(empty) not in flat and "ALEX_DATA_DIR" not in flat:
            problems.append(f"the error names neither the folder nor ALEX_DATA_DIR: {message!r}")
        if not flat.startswith("error:"):
            problems.append(f"the error does not start with 'error:': {message!r}")
        if any(empty.iterdir()):
            problems.append(f"files were created in the read-only folder: {list(empty.iterdir())}")

        # 2. The store becomes read-only while the app serves.
        data = folder / "rw-data"
        rng = random.Random(4)
        with _services(data, embedder) as services, _client(services) as client:
            earlier = _small_documents(rng, "before-ro", 3)
            if client.post("/ingest/batch", json={"documents": earlier}).status_code != 200:
                problems.append("setup ingest failed")
            with read_only([data], method):
                late = {"text": paragraph(rng, 60), "id": "folder-read-only"}
                response = client.post("/ingest", json=late)
                observed["folder_read_only_ingest_status"] = response.status_code
                if response.status_code not in (200, 503) or "Traceback" in response.text:
                    problems.append(f"folder read-only: answered {response.status_code}")
            if method == "chattr":
                files = [data / "alex.sqlite3", data / "alex.sqlite3-wal"]
                files = [path for path in files if path.exists()]
                blocked = {"text": paragraph(rng, 60), "id": "store-read-only"}
                before = services.documents.count()
                with read_only([data, *files], method):
                    response = client.post("/ingest", json=blocked)
                    observed["store_read_only_ingest_status"] = response.status_code
                    observed["store_read_only_message"] = response.json().get("message")
                    problems += [
                        f"store read-only: {problem}"
                        for problem in _answer_problems(response, 503, ("store",))
                    ]
                    search = client.post("/search", json={"query": "margin", "mode": "keyword"})
                    observed["store_read_only_search_status"] = search.status_code
                    if search.status_code != 200:
                        problems.append(f"reads fail on a read-only store: {search.status_code}")
                if services.documents.count() != before:
                    problems.append("the refused ingest changed the counts")
                blocked_id = document_id_for(blocked["text"], blocked["id"])
                if client.get(f"/documents/{blocked_id}").status_code != 404:
                    problems.append("the refused document is stored")
                response = client.post("/ingest", json=blocked)
                observed["writable_again_ingest_status"] = response.status_code
                if response.status_code != 200:
                    problems.append(f"writable again, yet ingest answered {response.status_code}")
            problems += _intact(client, earlier)
            integrity = services.documents.check_integrity()
            if integrity:
                problems.append(f"integrity check: {integrity}")
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        **observed,
        "problems": problems,
        "duration_s": round(time.perf_counter() - started, 2),
        "ok": not problems,
    }
