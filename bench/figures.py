"""The figure checker on bench/eval/figure_claims.jsonl: how well ``unsupported`` flags claims
whose figures their cited sentence does not state.

    uv run python -m bench.figures          # or: uv run python -m bench --only quality

Each pair is a claim and one sentence, labelled by hand. A positive is a claim with a figure
the sentence does not state; the checker flags a claim when ``unsupported(claim, [sentence])``
is not empty. Precision and recall of flagging are reported per half: the checker was tuned on
the "tuning" half only; "held-out" says whether it generalises. Misattributions (the number is
in the sentence but belongs to another metric) are scored apart: at the number level they are
supported, so a number checker should not flag them, and it cannot catch them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alex.domain.figures import unsupported

PAIRS = Path(__file__).parent / "eval" / "figure_claims.jsonl"
HALVES = {"tuning": "tuning", "held-out": "held_out"}


def load_pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text("utf-8").splitlines() if line.strip()]


def measure() -> dict[str, Any]:
    results: dict[str, Any] = {}
    pairs = load_pairs()
    for split, half in HALVES.items():
        scored = [(pair, bool(unsupported(pair["claim"], [pair["sentence"]]))) for pair in pairs]
        ours = [(pair, flag) for pair, flag in scored if pair["split"] == split]
        checked = [(not pair["supported"], flag) for pair, flag in ours if not _misattributed(pair)]
        true_pos = sum(1 for positive, flag in checked if positive and flag)
        flagged = sum(1 for _, flag in checked if flag)
        positives = sum(1 for positive, _ in checked if positive)
        prefix = f"figures_{half}"
        results[f"{prefix}_pairs"] = len(checked)
        results[f"{prefix}_unsupported_pairs"] = positives
        results[f"{prefix}_flagged"] = flagged
        results[f"{prefix}_precision"] = true_pos / flagged if flagged else 1.0
        results[f"{prefix}_recall"] = true_pos / positives if positives else 1.0
        wrong = [pair for pair, flag in ours if flag == _number_supported(pair)]
        results[f"{prefix}_misattribution_pairs"] = sum(1 for p, _ in ours if _misattributed(p))
        results[f"{prefix}_misattribution_flagged"] = sum(
            1 for pair, flag in ours if _misattributed(pair) and flag
        )
        for pair in wrong:
            print(f"   {split} miss ({pair['kind']}): {pair['claim']!r} | {pair['sentence']!r}")
    return results


def _misattributed(pair: dict[str, Any]) -> bool:
    return bool(pair["kind"] == "misattribution")


def _number_supported(pair: dict[str, Any]) -> bool:
    return bool(pair.get("number_supported", pair["supported"]))


def main() -> None:
    for key, value in measure().items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<40} {shown}")


if __name__ == "__main__":
    main()
