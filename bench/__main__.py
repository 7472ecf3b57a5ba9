"""First benchmark of the local stack: model, ingest, search. Prints a table, writes JSON.

uv run python -m bench [--docs 400] [--words 60] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import documents, paragraph


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=400, help="documents to ingest")
    parser.add_argument("--words", type=int, default=60, help="words per document")
    parser.add_argument("--queries", type=int, default=200, help="search queries per mode")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="alex-bench-")
    os.environ["ALEX_DATA_DIR"] = data_dir
    os.environ["ALEX_ENV_FILE"] = str(Path(data_dir) / ".env")
    from alex.config import load_settings
    from alex.ingest import IngestRequest
    from alex.services import Services

    results: dict[str, object] = {}
    started = time.perf_counter()
    services = Services(load_settings())
    embedder = services.embedder
    results["model_load_s"] = time.perf_counter() - started

    import random

    rng = random.Random(1)
    texts = [paragraph(rng, args.words) for _ in range(256)]
    embedder.embed(texts[:32])  # warm up
    started = time.perf_counter()
    for start in range(0, len(texts), 32):
        embedder.embed(texts[start : start + 32])
    results["model_texts_per_s"] = len(texts) / (time.perf_counter() - started)
    single = []
    for text in texts[:50]:
        t0 = time.perf_counter()
        embedder.embed([text])
        single.append((time.perf_counter() - t0) * 1000)
    results["model_single_ms_p50"] = statistics.median(single)

    corpus = documents(args.docs, args.words)
    started = time.perf_counter()
    services.ingest.ingest_many([IngestRequest(text, meta) for text, meta in corpus])
    elapsed = time.perf_counter() - started
    _, chunks = services.documents.count()
    results["ingest_docs_per_s"] = args.docs / elapsed
    results["ingest_chunks"] = chunks
    results["ingest_vs_model"] = results["ingest_docs_per_s"] / results["model_texts_per_s"]

    queries = [paragraph(rng, 8) for _ in range(args.queries)]
    for mode in ("semantic", "keyword", "hybrid"):
        latencies = []
        for query in queries:
            t0 = time.perf_counter()
            services.search.search(query, 10, mode)
            latencies.append((time.perf_counter() - t0) * 1000)
        results[f"search_{mode}_ms_p50"] = statistics.median(latencies)
        results[f"search_{mode}_ms_p99"] = percentile(latencies, 99)

    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "args": vars(args),
        "results": results,
    }
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    out_file = out_dir / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out_file.write_text(json.dumps(report, indent=2))
    width = max(len(key) for key in results)
    print(
        f"Alex benchmark ({machine['cpus']} CPUs, Python {machine['python']}, "
        f"{args.docs} docs x {args.words} words)"
    )
    for key, value in results.items():
        print(
            f"  {key:<{width}}  {value:10.3f}"
            if isinstance(value, float)
            else f"  {key:<{width}}  {value:>10}"
        )
    print(f"written to {out_file}")
    services.close()


if __name__ == "__main__":
    main()
