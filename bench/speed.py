"""Speed: model throughput, ingest end to end (use case and HTTP), search latency and recall
at 10k/100k chunks, memory, cold start and import times. Each function returns a flat dict."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import cached_corpus
from tests.support.load import percentile
from tests.support.server import AlexServer
from tests.support.text import paragraph

QUERY_TEMPLATES = [
    "which company cut its outlook because of {reason}",
    "{product} orders and capital spending",
    "dividend and buyback announcements",
    "bond ratings and yields of {rating} issuers",
    "who reported revenue down from a year earlier",
    "plant closures and job cuts to save money",
    "regulators in {region} reviewing a {product}",
    "new chief financial officer from a rival in {region}",
    "gross margin guidance next quarter",
    "net debt to EBITDA and free cash flow",
    "inventories rising because of {reason}",
    "shares fell after the company {event}",
]


def queries(count: int, seed: int = 5) -> list[str]:
    from tests.support.text import _EVENTS, _PRODUCTS, _REASONS, _REGIONS

    rng = random.Random(seed)
    return [
        rng.choice(QUERY_TEMPLATES).format(
            reason=rng.choice(_REASONS),
            product=rng.choice(_PRODUCTS),
            rating=rng.choice(["BBB-", "BB", "A"]),
            region=rng.choice(_REGIONS),
            event=rng.choice(_EVENTS),
        )
        for _ in range(count)
    ]


@contextmanager
def isolated_env(data_dir: Path | None = None) -> Any:
    """Point Alex at a throwaway data folder and settings file for the duration."""
    folder = data_dir or Path(tempfile.mkdtemp(prefix="alex-bench-"))
    saved = {name: os.environ.get(name) for name in ("ALEX_DATA_DIR", "ALEX_ENV_FILE")}
    os.environ["ALEX_DATA_DIR"] = str(folder)
    os.environ["ALEX_ENV_FILE"] = str(folder / ".env")
    try:
        yield folder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def model_throughput(
    embedder: Any, words: int, texts: int = 256, batch: int = 32
) -> dict[str, float]:
    rng = random.Random(words)
    sample = [paragraph(rng, words) for _ in range(texts)]
    embedder.embed(sample[:batch])  # warm up
    started = time.perf_counter()
    for start in range(0, texts, batch):
        embedder.embed(sample[start : start + batch])
    rate = texts / (time.perf_counter() - started)
    single = []
    for text in sample[:40]:
        t0 = time.perf_counter()
        embedder.embed([text])
        single.append((time.perf_counter() - t0) * 1000)
    return {
        f"model_{words}w_texts_per_s": rate,
        f"model_{words}w_single_ms_p50": statistics.median(single),
    }


def ingest_use_case(docs: int, words: int) -> dict[str, float]:
    from alex.config import load_settings
    from alex.ingest import IngestRequest
    from alex.services import Services

    rng = random.Random(3)
    texts = [paragraph(rng, words) for _ in range(docs)]
    with isolated_env():
        services = Services(load_settings())
        services.warm_up()
        started = time.perf_counter()
        services.ingest.ingest_many([IngestRequest(text, {"n": n}) for n, text in enumerate(texts)])
        rate = docs / (time.perf_counter() - started)
        chunks = services.documents.count()[1]
        services.close()
    return {f"ingest_{words}w_use_case_docs_per_s": rate, f"ingest_{words}w_chunks": chunks}


def ingest_http(docs: int, words: int, batch: int = 64) -> dict[str, float]:
    """The same documents through ``POST /ingest/batch`` of a real ``alex serve``."""
    rng = random.Random(3)
    texts = [paragraph(rng, words) for _ in range(docs)]
    server = AlexServer(Path(tempfile.mkdtemp(prefix="alex-bench-http-")), "bench-key-0123456789")
    server.start()
    try:
        with server.client(timeout=300) as client:
            started = time.perf_counter()
            for start in range(0, docs, batch):
                documents = [
                    {"text": text, "metadata": {"n": start + i}}
                    for i, text in enumerate(texts[start : start + batch])
                ]
                client.post("/ingest/batch", json={"documents": documents}).raise_for_status()
            rate = docs / (time.perf_counter() - started)
    finally:
        server.stop()
    return {f"ingest_{words}w_http_docs_per_s": rate}


def build_store(path: Path, texts: list[str], vectors: np.ndarray) -> None:
    """A store holding one single-chunk document per cached text, written in big transactions."""
    from alex.adapters.sqlite_store import SqliteStore
    from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL, Document, StoredChunk
    from alex.domain.validation import document_id_for, sha256_hex

    store = SqliteStore(path, EMBEDDING_DIMENSION, EMBEDDING_MODEL)
    for start in range(0, len(texts), 1000):
        items = []
        for n in range(start, min(start + 1000, len(texts))):
            document = Document(
                document_id_for("", f"c{n}"), texts[n], {"n": n}, sha256_hex(texts[n]), f"c{n}"
            )
            items.append(
                (
                    document,
                    [StoredChunk(0, texts[n], 0, len(texts[n]))],
                    vectors[n : n + 1].tolist(),
                )
            )
        store.upsert_many(items)
    store.close()


def search_at_scale(chunks: int, query_count: int = 200) -> dict[str, float]:
    """Latency p50/p99 per mode, recall@10 of semantic vs float64 brute force, memory."""
    import psutil

    from alex.config import load_settings
    from alex.domain.validation import document_id_for
    from alex.services import Services

    texts, vectors = cached_corpus(chunks)
    results: dict[str, float] = {}
    with isolated_env() as folder:
        started = time.perf_counter()
        build_store(folder / "alex.sqlite3", texts, vectors)
        results[f"store_{chunks // 1000}k_build_s"] = time.perf_counter() - started
        services = Services(load_settings())
        _ = services.embedder
        rss_before = psutil.Process().memory_info().rss
        started = time.perf_counter()
        services.store.warm_up_keywords()  # type: ignore[attr-defined]
        results[f"store_{chunks // 1000}k_keyword_index_build_s"] = time.perf_counter() - started
        started = time.perf_counter()
        services.store.warm_up()  # the vectors (the keyword index is current already)
        results[f"store_{chunks // 1000}k_matrix_load_s"] = time.perf_counter() - started
        results[f"store_{chunks // 1000}k_matrix_mb"] = services.store.matrix_bytes / 1e6  # type: ignore[attr-defined]
        results[f"store_{chunks // 1000}k_rss_growth_mb"] = (
            psutil.Process().memory_info().rss - rss_before
        ) / 1e6
        results[f"store_{chunks // 1000}k_file_mb"] = (
            sum(p.stat().st_size for p in folder.glob("alex.sqlite3*")) / 1e6
        )
        qs = queries(query_count)
        for mode in ("semantic", "keyword", "hybrid"):
            services.search.search(qs[0], 10, mode)
            latencies = []
            for query in qs:
                t0 = time.perf_counter()
                services.search.search(query, 10, mode)
                latencies.append((time.perf_counter() - t0) * 1000)
            results[f"search_{chunks // 1000}k_{mode}_ms_p50"] = statistics.median(latencies)
            results[f"search_{chunks // 1000}k_{mode}_ms_p99"] = percentile(latencies, 99)
        # Recall@10 of the store's semantic search against exact float64 brute force.
        query_vectors = services.embedder.embed(qs)
        exact = vectors.astype(np.float64) @ np.asarray(query_vectors, dtype=np.float64).T
        ids = [document_id_for("", f"c{n}") for n in range(chunks)]
        recalls = []
        scan = []
        for column, query_vector in enumerate(query_vectors):
            t0 = time.perf_counter()
            hits = services.store.semantic(query_vector, 10, {})
            scan.append((time.perf_counter() - t0) * 1000)
            truth = {ids[i] for i in np.argsort(-exact[:, column])[:10]}
            recalls.append(len(truth & {h.document_id for h in hits}) / 10)
        # The store's part of a semantic search: the vector scan and fetching the hits.
        results[f"search_{chunks // 1000}k_semantic_store_ms_p50"] = statistics.median(scan)
        results[f"search_{chunks // 1000}k_semantic_store_ms_p99"] = percentile(scan, 99)
        results[f"search_{chunks // 1000}k_semantic_recall_at_10"] = statistics.mean(recalls)
        services.close()
    return results


def synthetic_store(path: Path, chunks: int, words: int = 60, seed: int = 11) -> None:
    """The texts of ``cached_corpus(chunks)`` (same seed, same order) with random unit vectors:
    keyword search reads no vectors, so this needs no embedding and no cache."""
    from alex.domain.models import EMBEDDING_DIMENSION

    rng = random.Random(seed)
    texts = [paragraph(rng, words) for _ in range(chunks)]
    vectors = np.random.default_rng(seed).standard_normal((chunks, EMBEDDING_DIMENSION))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    build_store(path, texts, vectors.astype(np.float32))


def keyword_at_scale(
    chunks: int, query_count: int = 200, store_path: Path | None = None
) -> dict[str, float]:
    """The store's keyword search at ``chunks`` synthetic chunks: p50/p99 of the in-memory
    BM25 index, for ``keyword`` (k = 10) and for hybrid's keyword part (k = 40), next to the
    FTS5 query it replaces, the index's build time and the process's RSS growth; and hybrid
    end to end, whose semantic half scans random vectors here (``search_at_scale`` has real
    ones; random vectors prune worse, so this is on the slow side)."""
    import psutil

    from alex.adapters.local_embedder import LocalEmbedder
    from alex.adapters.sqlite_store import SqliteStore
    from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL
    from alex.search import SearchService

    size = f"{chunks // 1000}k"
    results: dict[str, float] = {}
    folder = Path(tempfile.mkdtemp(prefix="alex-bench-kw-"))
    path = store_path or folder / "alex.sqlite3"
    if not path.exists():
        started = time.perf_counter()
        synthetic_store(path, chunks)
        results[f"keyword_{size}_store_build_s"] = time.perf_counter() - started
    store = SqliteStore(path, EMBEDDING_DIMENSION, EMBEDDING_MODEL)
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    store.warm_up_keywords()
    results[f"keyword_{size}_index_build_s"] = time.perf_counter() - started
    results[f"keyword_{size}_index_rss_growth_mb"] = (
        psutil.Process().memory_info().rss - rss_before
    ) / 1e6
    results[f"keyword_{size}_index_mb"] = store.keyword_index_bytes / 1e6
    qs = queries(query_count)
    searches = {"index": store.keyword, "fts5": store.keyword_fts}
    for name, search in searches.items():
        for label, k in (("keyword", 10), ("hybrid_part", 40)):
            search(qs[0], k, {})
            latencies = []
            for query in qs:
                t0 = time.perf_counter()
                search(query, k, {})
                latencies.append((time.perf_counter() - t0) * 1000)
            results[f"keyword_{size}_{name}_{label}_ms_p50"] = statistics.median(latencies)
            results[f"keyword_{size}_{name}_{label}_ms_p99"] = percentile(latencies, 99)
    store.warm_up()
    service = SearchService(LocalEmbedder(), store)
    service.search(qs[0], 10, "hybrid")
    latencies = []
    for query in qs:
        t0 = time.perf_counter()
        service.search(query, 10, "hybrid")
        latencies.append((time.perf_counter() - t0) * 1000)
    results[f"keyword_{size}_hybrid_random_vectors_ms_p50"] = statistics.median(latencies)
    results[f"keyword_{size}_hybrid_random_vectors_ms_p99"] = percentile(latencies, 99)
    store.close()
    return results


def cold_start() -> dict[str, float]:
    """Process start to the first answered request of `alex serve` (its model and vectors
    load before it answers), on a store holding the samples; and import times."""
    from alex.cli import ingest_files
    from alex.client import LocalClient
    from alex.config import load_settings
    from alex.services import Services

    work_dir = Path(tempfile.mkdtemp(prefix="alex-bench-cold-"))
    root = Path(__file__).resolve().parents[1]
    with isolated_env(work_dir / "data"), LocalClient(Services(load_settings())) as client:
        ingest_files(client, [root / "samples"], {}, root)
    server = AlexServer(work_dir, "bench-key-0123456789")
    server.start()
    server.stop()
    results = {"serve_first_answer_s": server.startup_s}
    for module in ("alex.http.app", "alex.cli", "alex.services"):
        code = (
            f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        )
        timings = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(3)
        ]
        results[f"import_{module}_ms"] = min(timings) * 1000
    return results
