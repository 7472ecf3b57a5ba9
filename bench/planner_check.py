"""The planner's number check on its labelled sentences (tests/fixtures/planner): how well
``check_text`` removes the sentences with a wrong number, against the sample household's
figure set (tests/fixtures/planner/household.json).

    uv run python -m bench.planner_check     # or: uv run python -m bench --only planner_check

A positive is a sentence labelled wrong (a number in it states no computed figure); the check
flags a sentence when a number in it matches no figure. Precision and recall are reported per
half: the check was tuned on "tuning" only; "held_out" (another writer's habits: "$171k",
"percent", "points") says whether it generalises. Misses are printed: most are wrong numbers
that equal another figure once rounded, which no number check can see (docs/planner.md).
"""

from __future__ import annotations

import json
import time
from typing import Any

from alex.planner.number_check import check_text
from tests.support.planner_household import FIXTURES, household_figures

HALVES = ("tuning", "held_out")


def measure() -> dict[str, Any]:
    figures = household_figures()
    results: dict[str, Any] = {"planner_check_figures": len(figures)}
    for half in HALVES:
        data = json.loads((FIXTURES / f"number_sentences_{half}.json").read_text("utf-8"))
        sentences = data["sentences"]
        started = time.perf_counter()
        flags = [check_text(item["text"], figures).unmatched > 0 for item in sentences]
        elapsed = time.perf_counter() - started
        wrong = [not item["ok"] for item in sentences]
        true_pos = sum(1 for bad, flag in zip(wrong, flags, strict=True) if bad and flag)
        flagged, positives = sum(flags), sum(wrong)
        prefix = f"planner_check_{half}"
        results[f"{prefix}_sentences"] = len(sentences)
        results[f"{prefix}_wrong"] = positives
        results[f"{prefix}_removed"] = flagged
        results[f"{prefix}_precision"] = true_pos / flagged if flagged else 1.0
        results[f"{prefix}_recall"] = true_pos / positives if positives else 1.0
        # One call a sentence (each builds the set's targets) and one call for all of them as
        # one text, as a report is checked.
        results[f"{prefix}_ms_per_call"] = elapsed * 1000 / len(sentences)
        started = time.perf_counter()
        check_text("\n".join(item["text"] for item in sentences), figures)
        results[f"{prefix}_as_one_text_ms"] = (time.perf_counter() - started) * 1000
        for item, bad, flag in zip(sentences, wrong, flags, strict=True):
            if bad != flag:
                kind = "kept a wrong sentence" if bad else "removed a right one"
                print(f"   {half}: {kind}: {item['text']!r} ({item.get('why', '')})")
    return results


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key:<40} {value:.3f}" if isinstance(value, float) else f"{key:<40} {value}")
