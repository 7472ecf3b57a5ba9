"""Load against a real ``alex serve`` process: concurrent ingests, and a search/ingest mix.

Every run starts its own server (``tests.support.server``), checks afterwards through
``GET /documents`` that exactly the expected documents are stored (none lost, none
duplicated), and stops the server. The functions return dicts of checks and metrics: the
tests assert the checks at small sizes; ``bench/load.py`` prints the metrics at full size.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from alex.domain.validation import document_id_for
from tests.support.server import AlexServer, Deadline, running_server
from tests.support.text import paragraph

SEARCH_MODES = ("hybrid", "semantic", "keyword")
TICKER = re.compile(r"(?<![A-Za-z])[A-Z]{4}(?![A-Za-z])")


# Small helpers ------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency_summary(prefix: str, seconds: list[float]) -> dict[str, float]:
    ms = [value * 1000 for value in seconds]
    return {
        f"{prefix}_p50_ms": round(percentile(ms, 50), 2),
        f"{prefix}_p99_ms": round(percentile(ms, 99), 2),
        f"{prefix}_max_ms": round(max(ms, default=0.0), 2),
    }


def ticker_of(text: str) -> str:
    """The first ticker-like word (four capitals) of a text, else ``"NONE"``."""
    found = TICKER.search(text)
    return found.group(0) if found else "NONE"


def make_document(rng: random.Random, label: str, n: int) -> dict[str, Any]:
    """One distinct, realistic document of about 60-150 words with its own id."""
    text = f"Note {label}-{n}. " + paragraph(rng, rng.randint(60, 140))
    return {
        "text": text,
        "metadata": {"n": n, "ticker": ticker_of(text), "source": f"bench-{label}"},
        "id": f"{label}-{n:05d}",
    }


def expected_id(document: dict[str, Any]) -> str:
    return document_id_for(document["text"], document.get("id"))


def realistic_query(rng: random.Random, tickers: list[str]) -> dict[str, Any]:
    """A search body: tickers, paraphrases, numbers and corpus sentences, in a random mode."""
    ticker = rng.choice(tickers)
    query = rng.choice(
        [
            f"{ticker} gross margin guidance",
            f"risks for {ticker}",
            f"{ticker} dividend and buyback",
            "how leveraged is the company",
            "free cash flow and net debt to EBITDA",
            "regulators opened a review that could delay the launch",
            "cut its full-year outlook",
            "plants closed and jobs cut to save costs",
            " ".join(paragraph(rng, 8).split()[:14]),
        ]
    )
    body: dict[str, Any] = {"query": query, "k": rng.randint(1, 10)}
    body["mode"] = rng.choice(SEARCH_MODES)
    if rng.random() < 0.2:
        body["filters"] = {"ticker": ticker}
    return body


class RssSampler:
    """Samples the server's resident memory in the background (psutil, when installed)."""

    def __init__(self, pid: int | None, every: float = 0.25) -> None:
        self.max_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import psutil

            self._process: Any = psutil.Process(pid) if pid else None
        except Exception:
            self._process = None
        if self._process is not None:
            self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
            self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.max_mb = max(self.max_mb, self._process.memory_info().rss / 1e6)
            except Exception:
                return

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        return round(self.max_mb, 1)


# Clients ------------------------------------------------------------------------------
@dataclass
class Operation:
    kind: str  # "ingest" or "search"
    path: str
    body: dict[str, Any]
    status: int | None = None
    answer: Any = None
    attempts: int = 0
    latency_s: float = 0.0  # the attempt that got an answer
    total_s: float = 0.0  # first attempt to answer, retries included
    errors: list[str] = field(default_factory=list)


def call_with_retries(
    client: httpx.Client, op: Operation, deadline: Deadline, max_attempts: int
) -> None:
    """POST until an HTTP answer; timeouts and connection errors are retried (ids are stable).
    Each retry waits twice as long for its answer as the one before (up to 10 s), as a real
    client backs off: a busy machine slows the answers, and a fixed short timeout would give
    up on a server that is working."""
    first = time.perf_counter()
    wait = client.timeout.read or 5.0
    while op.attempts < max_attempts and not deadline.expired():
        op.attempts += 1
        started = time.perf_counter()
        try:
            timeout = min(wait * 2 ** (op.attempts - 1), max(wait, 10.0))
            response = client.post(op.path, json=op.body, timeout=timeout)
        except httpx.TransportError as error:  # timeouts, refused or reset connections
            op.errors.append(type(error).__name__)
            time.sleep(min(0.1 * op.attempts, deadline.left()))
            continue
        op.latency_s = time.perf_counter() - started
        op.total_s = time.perf_counter() - first
        op.status = response.status_code
        try:
            op.answer = response.json()
        except ValueError:
            op.answer = response.text
        return


def run_clients(
    server: AlexServer,
    operations: list[Operation],
    clients: int,
    deadline: Deadline,
    *,
    client_timeout: float,
    max_attempts: int,
) -> float:
    """Run ``operations`` from ``clients`` threads, each with its own connection; wall seconds."""
    work: queue.SimpleQueue[Operation] = queue.SimpleQueue()
    for op in operations:
        work.put(op)

    def worker() -> None:
        with server.client(client_timeout) as client:
            while not deadline.expired():
                try:
                    op = work.get_nowait()
                except queue.Empty:
                    return
                call_with_retries(client, op, deadline, max_attempts)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=deadline.left() + client_timeout * max_attempts + 5)
    return time.perf_counter() - started


def listed_document_ids(client: httpx.Client, page: int = 500) -> tuple[list[str], int]:
    """Every document id ``GET /documents`` lists (pages of ``page``), and its ``total``."""
    ids: list[str] = []
    total = -1
    offset = 0
    while True:
        response = client.get("/documents", params={"limit": page, "offset": offset})
        response.raise_for_status()
        body = response.json()
        total = int(body["total"])
        ids.extend(item["document_id"] for item in body["documents"])
        offset += page
        if not body["documents"] or offset >= total:
            return ids, total


def verify_stored(client: httpx.Client, expected: set[str]) -> dict[str, Any]:
    """Exactly ``expected`` is stored: none missing, none unexpected, none listed twice."""
    ids, total = listed_document_ids(client)
    duplicated = sorted(item for item, n in Counter(ids).items() if n > 1)
    missing = sorted(expected - set(ids))
    unexpected = sorted(set(ids) - expected)
    return {
        "stored_total": total,
        "expected_total": len(expected),
        "missing": missing,
        "unexpected": unexpected,
        "duplicated": duplicated,
        "stored_exactly": total == len(expected) == len(ids) and not missing and not unexpected,
    }


def _ingest_ops(documents: list[dict[str, Any]]) -> list[Operation]:
    return [Operation("ingest", "/ingest", document) for document in documents]


def _ingest_problems(ops: list[Operation]) -> tuple[int, list[str]]:
    """(failed ingests, descriptions): no answer, not 200, or an answer with the wrong id."""
    problems: list[str] = []
    for op in ops:
        if op.status != 200:
            problems.append(f"{op.body['id']}: status {op.status} {op.errors} {op.answer}")
        elif op.answer.get("document_id") != expected_id(op.body):
            problems.append(f"{op.body['id']}: answered id {op.answer.get('document_id')}")
    return len(problems), problems[:10]


# The runs -----------------------------------------------------------------------------
def _run_and_verify(
    server: AlexServer,
    ops: list[Operation],
    clients: int,
    deadline: Deadline,
    client_timeout: float,
    max_attempts: int,
    expected: set[str],
) -> tuple[float, float, dict[str, Any], int, float]:
    """Run ``ops`` from ``clients`` threads, then check the store holds exactly ``expected``.

    Returns wall time, the server's peak RSS (MB), the store check, tracebacks, startup time.
    """
    sampler = RssSampler(server.pid)
    wall = run_clients(
        server, ops, clients, deadline, client_timeout=client_timeout, max_attempts=max_attempts
    )
    rss = sampler.stop()
    with server.client(60) as client:
        stored = verify_stored(client, expected)
    return wall, rss, stored, server.tracebacks(), server.startup_s


def run_ingest_load(
    documents: int = 1000,
    clients: int = 16,
    *,
    seed: int = 11,
    client_timeout: float = 5.0,
    max_attempts: int = 5,
    deadline_s: float = 600.0,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """``documents`` distinct ``POST /ingest`` from ``clients`` threads; then verify the store."""
    deadline = Deadline(deadline_s)
    run_started = time.perf_counter()
    rng = random.Random(seed)
    corpus = [make_document(rng, "load", n) for n in range(documents)]
    expected = {expected_id(document) for document in corpus}
    assert len(expected) == documents, "the corpus must give distinct ids"
    with running_server(work_dir, deadline, "ingest-load") as server:
        ops = _ingest_ops(corpus)
        wall, rss, stored, tracebacks, startup = _run_and_verify(
            server, ops, clients, deadline, client_timeout, max_attempts, expected
        )
    failed, problems = _ingest_problems(ops)
    done = [op for op in ops if op.status == 200]
    statuses = Counter(str(op.answer.get("message")) for op in done)
    return {
        "documents": documents,
        "clients": clients,
        "server_startup_s": round(startup, 2),
        "wall_s": round(wall, 2),
        "throughput_docs_per_s": round(len(done) / wall, 1) if wall else 0.0,
        **latency_summary("latency", [op.latency_s for op in done]),
        **latency_summary("latency_with_retries", [op.total_s for op in done]),
        "retries": sum(max(0, op.attempts - 1) for op in ops),
        "retry_reasons": dict(Counter(error for op in ops for error in op.errors)),
        "errors": failed,
        "error_examples": problems,
        "answers": dict(statuses),
        **{key: value[:10] if isinstance(value, list) else value for key, value in stored.items()},
        "server_tracebacks": tracebacks,
        "server_rss_max_mb": rss,
        "duration_s": round(time.perf_counter() - run_started, 2),
        "ok": failed == 0 and stored["stored_exactly"] and tracebacks == 0,
    }


def run_mixed_load(
    operations: int = 1000,
    clients: int = 16,
    *,
    search_share: float = 0.7,
    seed_documents: int = 100,
    seed: int = 13,
    client_timeout: float = 5.0,
    max_attempts: int = 5,
    deadline_s: float = 600.0,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """A mix of searches (random modes, realistic queries) and ingests from ``clients`` threads.

    ``seed_documents`` are stored first with ``POST /ingest/batch`` so searches find something;
    afterwards every search must have answered 200 (results at most k, filters respected) and
    exactly the seed plus the ingested documents must be stored.
    """
    deadline = Deadline(deadline_s)
    run_started = time.perf_counter()
    rng = random.Random(seed)
    initial = [make_document(rng, "seed", n) for n in range(seed_documents)]
    ops: list[Operation] = []
    tickers = sorted({document["metadata"]["ticker"] for document in initial} - {"NONE"})
    for n in range(operations):
        if rng.random() < search_share:
            ops.append(Operation("search", "/search", realistic_query(rng, tickers or ["NONE"])))
        else:
            ops.append(Operation("ingest", "/ingest", make_document(rng, "mixed", n)))
    ingests = [op for op in ops if op.kind == "ingest"]
    searches = [op for op in ops if op.kind == "search"]
    expected = {expected_id(document) for document in initial}
    expected |= {expected_id(op.body) for op in ingests}
    with running_server(work_dir, deadline, "mixed-load") as server:
        with server.client(120) as client:
            for start in range(0, len(initial), 100):
                response = client.post(
                    "/ingest/batch", json={"documents": initial[start : start + 100]}
                )
                response.raise_for_status()
        wall, rss, stored, tracebacks, startup = _run_and_verify(
            server, ops, clients, deadline, client_timeout, max_attempts, expected
        )
    failed_ingests, problems = _ingest_problems(ingests)
    bad_searches: list[str] = []
    for op in searches:
        if op.status != 200:
            bad_searches.append(f"{op.body}: status {op.status} {op.errors} {op.answer}")
            continue
        results = op.answer["results"]
        if len(results) > op.body["k"]:
            bad_searches.append(f"{op.body}: {len(results)} results for k={op.body['k']}")
        wanted = op.body.get("filters", {}).get("ticker")
        if wanted and any(hit["metadata"].get("ticker") != wanted for hit in results):
            bad_searches.append(f"{op.body}: a result outside the ticker filter")
    answered_searches = [op for op in searches if op.status == 200]
    answered_ingests = [op for op in ingests if op.status == 200]
    by_mode = {
        mode: latency_summary(
            f"search_{mode}", [op.latency_s for op in answered_searches if op.body["mode"] == mode]
        )
        for mode in SEARCH_MODES
    }
    return {
        "operations": operations,
        "clients": clients,
        "searches": len(searches),
        "ingests": len(ingests),
        "seed_documents": seed_documents,
        "server_startup_s": round(startup, 2),
        "wall_s": round(wall, 2),
        "throughput_ops_per_s": round((len(answered_searches) + len(answered_ingests)) / wall, 1)
        if wall
        else 0.0,
        "search_throughput_per_s": round(len(answered_searches) / wall, 1) if wall else 0.0,
        "ingest_throughput_docs_per_s": round(len(answered_ingests) / wall, 1) if wall else 0.0,
        **latency_summary("search", [op.latency_s for op in answered_searches]),
        **{key: value for summary in by_mode.values() for key, value in summary.items()},
        **latency_summary("ingest", [op.latency_s for op in answered_ingests]),
        "retries": sum(max(0, op.attempts - 1) for op in ops),
        "retry_reasons": dict(Counter(error for op in ops for error in op.errors)),
        "search_errors": len(bad_searches),
        "search_error_examples": bad_searches[:10],
        "ingest_errors": failed_ingests,
        "ingest_error_examples": problems,
        "searches_all_200": len(answered_searches) == len(searches),
        **{key: value[:10] if isinstance(value, list) else value for key, value in stored.items()},
        "server_tracebacks": tracebacks,
        "server_rss_max_mb": rss,
        "duration_s": round(time.perf_counter() - run_started, 2),
        "ok": not bad_searches
        and failed_ingests == 0
        and stored["stored_exactly"]
        and tracebacks == 0,
    }
