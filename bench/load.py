"""Load against a real ``alex serve`` process, at full size: throughput, latency, memory.

uv run python bench/load.py [all|ingest|mixed] [--documents 1000] [--clients 16] [--out FILE]

The runs (and their checks: nothing lost, nothing duplicated) are ``tests.support.load``;
the tests run them small, this prints their numbers at full size.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.load import run_ingest_load, run_mixed_load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", nargs="?", choices=("all", "ingest", "mixed"), default="all")
    parser.add_argument("--documents", type=int, default=1000, help="ingests of the ingest run")
    parser.add_argument("--operations", type=int, default=1000, help="requests of the mixed run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--search-share", type=float, default=0.7, help="searches in the mix")
    parser.add_argument("--client-timeout", type=float, default=5.0, help="seconds per attempt")
    parser.add_argument("--max-attempts", type=int, default=5, help="attempts per request")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds per run, at most")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    common = {
        "client_timeout": args.client_timeout,
        "max_attempts": args.max_attempts,
        "deadline_s": args.deadline,
    }
    results: dict[str, Any] = {}
    if args.run in ("all", "ingest"):
        results["ingest_load"] = run_ingest_load(args.documents, args.clients, **common)
        print(json.dumps({"ingest_load": results["ingest_load"]}, indent=2), flush=True)
    if args.run in ("all", "mixed"):
        results["mixed_load"] = run_mixed_load(
            args.operations, args.clients, search_share=args.search_share, **common
        )
        print(json.dumps({"mixed_load": results["mixed_load"]}, indent=2), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0 if all(result["ok"] for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
