"""The retirement projection's speed: Alex's 10,000-path, 40-year vectorised run beside the
course version's approach (500 Gaussian paths in a Python loop with ``random.gauss`` and a
fixed $10,000 a year), on the same machine.

    uv run python -m bench.portfolio          # or: uv run python -m bench --only portfolio

Both runs project the same household (docs/portfolio.md, "Worked examples"); the course
approach is re-implemented here only to be timed, from its description in issue 13.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from alex.portfolio.projection import ProjectionInputs, project

YEARS = 40
REPEATS = 5


def household() -> ProjectionInputs:
    return ProjectionInputs(
        holdings={"equity": Decimal(150000), "bond": Decimal(75000), "cash": Decimal(25000)},
        current_age=45,
        retirement_age=65,
        end_age=45 + YEARS,
        contribution=Decimal(10000),
        spending=Decimal(40000),
        fee=Decimal("0.003"),
    )


def course_approach(paths: int = 500, years: int = YEARS, seed: int = 0) -> list[float]:
    """500 paths, one Gaussian draw per year (7 % mean, 15 % sd), $10,000 added a year."""
    rng = random.Random(seed)
    finals = []
    for _ in range(paths):
        value = 250000.0
        for _ in range(years):
            value = value * (1 + rng.gauss(0.07, 0.15)) + 10000
        finals.append(value)
    return finals


def _best_ms(run: Any) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def measure() -> dict[str, Any]:
    inputs = household()
    alex_ms = _best_ms(lambda: project(inputs, paths=10_000, seed=1))
    course_ms = _best_ms(course_approach)
    result = project(inputs, paths=10_000, seed=1)
    results: dict[str, Any] = {
        "projection_10k_paths_40y_ms": alex_ms,
        "projection_course_500_paths_40y_ms": course_ms,
        "projection_paths_per_ms_alex": 10_000 / alex_ms,
        "projection_paths_per_ms_course": 500 / course_ms,
        "projection_success_probability": result.success_probability,
        "projection_median_at_85": float(result.percentiles[50][-1]),
        "projection_depletion_age_p10": result.depletion_age_p10 or "never",
    }
    for key, value in results.items():
        print(f"   {key}: {value:,.3f}" if isinstance(value, float) else f"   {key}: {value}")
    return results


if __name__ == "__main__":
    measure()
