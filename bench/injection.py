"""How well ``alex.research.injection`` tells instructions in pages from ordinary prose.

    uv run python -m bench.injection

bench/eval/injection.jsonl holds labelled passages (``injection`` true or false, a
``style``, a ``split``). The split into a tuning and a held-out half was fixed, alternating
within each style, before the detector was written; the detector's patterns were chosen on
the tuning half. Recall is the share of injections flagged, the false-positive rate (FPR) the
share of ordinary passages flagged; both per half, and per style over the whole set.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from alex.research.injection import instruction_like

LABELLED = Path(__file__).parent / "eval" / "injection.jsonl"


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines() if line.strip()]


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def measure() -> dict[str, Any]:
    rows = load()
    flagged = [instruction_like(str(row["text"])) for row in rows]
    results: dict[str, Any] = {
        "injection_passages": len(rows),
        "injection_injections": sum(bool(row["injection"]) for row in rows),
    }
    for half in ("tuning", "held-out"):
        key = half.replace("-", "_")
        pairs = [
            (row, flag) for row, flag in zip(rows, flagged, strict=True) if row["split"] == half
        ]
        results[f"injection_{key}_recall"] = _rate(
            [flag for row, flag in pairs if row["injection"]]
        )
        results[f"injection_{key}_fpr"] = _rate(
            [flag for row, flag in pairs if not row["injection"]]
        )
    by_style: dict[tuple[bool, str], list[bool]] = defaultdict(list)
    for row, flag in zip(rows, flagged, strict=True):
        by_style[(bool(row["injection"]), str(row["style"]))].append(flag)
    for (injection, style), flags in sorted(
        by_style.items(), key=lambda item: (not item[0][0], item[0][1])
    ):
        measure_name = "recall" if injection else "fpr"
        results[f"injection_{measure_name} {style}"] = _rate(flags)
    return results


if __name__ == "__main__":
    for name, value in measure().items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:<50} {shown:>8}")
