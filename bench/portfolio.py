"""The portfolio's speed (docs/performance.md, "Portfolio"):

- import of 100,000 transactions (bench/portfolio_data.py: 5 accounts, 200 instruments,
  10 years), each step apart (parse the CSV, stable ids, the ledger replay that refuses an
  oversold holding, the SQLite write) and together through ``PortfolioFiles.import_file``,
  then the same file again, which must add nothing;
- ``PortfolioService.show`` over 1,000 holdings with prices and an FX rate, on a store
  holding only their opening buys and on the store of the 100,000 transactions, and
  ``PortfolioService.history`` (the value at every month end) on the latter;
- Alex's 10,000-path, 40-year vectorised projection beside the course version's approach
  (500 Gaussian paths in a Python loop with ``random.gauss`` and a fixed $10,000 a year).

    uv run python -m bench.portfolio          # or: uv run python -m bench --only portfolio

Both projections start from the same household (docs/portfolio.md, "Worked examples"); the
course approach is re-implemented here only to be timed, from its description in issue 13.
Every store is a fresh SQLite file in a temporary folder on the local disk.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from alex.adapters.portfolio_sqlite import SqlitePortfolioStore
from alex.portfolio.formats.alex_csv import parse_transactions
from alex.portfolio.formats.ids import transaction_ids
from alex.portfolio.formats.reference_csv import parse_accounts
from alex.portfolio.holdings import ledger
from alex.portfolio.model import RecordedTransaction
from alex.portfolio.projection import ProjectionInputs, project
from alex.portfolio.service import PortfolioService
from bench.portfolio_data import TODAY, Household, household

YEARS = 40
REPEATS = 5


def projection_household() -> ProjectionInputs:
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


def measure_projection() -> dict[str, Any]:
    inputs = projection_household()
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
    return results


def _timed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = run()
    return value, time.perf_counter() - started


def _service(folder: Path, name: str, data: Household, prices: bool = True) -> PortfolioService:
    """A fresh store with the household's accounts, instruments, FX rates (and prices)."""
    service = PortfolioService(SqlitePortfolioStore(folder / name), today=lambda: TODAY)
    service.files.import_reference(accounts=data.accounts, instruments=data.instruments, fx=data.fx)
    if prices:
        service.files.import_prices(data.prices)
    return service


def measure_import(data: Household, folder: Path) -> dict[str, Any]:
    """Each step of a 100,000-transaction import once, then the whole use case, then again."""
    accounts = {account.id for account in parse_accounts(data.accounts)}
    parsed, parse_s = _timed(
        lambda: parse_transactions(data.transactions, today=TODAY, accounts=accounts)
    )
    ids, ids_s = _timed(lambda: transaction_ids(parsed))
    _, replay_s = _timed(lambda: ledger(parsed))
    store = _service(folder, "steps.db", data, prices=False).store
    entries = [RecordedTransaction(i, t) for i, t in zip(ids, parsed, strict=True)]
    added, store_s = _timed(lambda: store.add_transactions(entries))
    service = _service(folder, "import.db", data, prices=False)
    first, import_s = _timed(lambda: service.files.import_file(data.transactions, name="100k.csv"))
    again, reimport_s = _timed(
        lambda: service.files.import_file(data.transactions, name="100k.csv")
    )
    store.close()
    service.store.close()
    rows = len(parsed)
    return {
        "portfolio_import_rows": rows,
        "portfolio_import_csv_mb": len(data.transactions.encode()) / 1e6,
        "portfolio_import_parse_s": parse_s,
        "portfolio_import_ids_s": ids_s,
        "portfolio_import_replay_s": replay_s,
        "portfolio_import_sqlite_write_s": store_s,
        "portfolio_import_steps_stored": added,
        "portfolio_import_100k_s": import_s,
        "portfolio_import_100k_rows_per_s": rows / import_s,
        "portfolio_import_100k_new": first.new,
        "portfolio_reimport_100k_s": reimport_s,
        "portfolio_reimport_100k_new": again.new,
    }


def _percentiles_ms(run: Callable[[], Any], runs: int) -> tuple[float, float]:
    run()  # the first call warms SQLite's page cache, as a second `show` would find it
    times = [_timed(run)[1] * 1000 for _ in range(runs)]
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95)


def measure_show(data: Household, folder: Path, runs: int = 11) -> dict[str, Any]:
    """``show`` over 1,000 holdings: only their opening buys (and the deposits paying for
    them), then the 100,000-transaction ledger whose last rows keep the same 1,000 open."""
    service = _service(folder, "show.db", data)
    lines = data.transactions.split("\n")
    # The opening buys (and deposits) are all on the first day, first in the file.
    opening = [lines[0], *(line for line in lines[1:] if line.startswith(data.first.isoformat()))]
    service.files.import_file("\n".join(opening) + "\n", name="opening.csv")
    view = service.show()
    results: dict[str, Any] = {
        "portfolio_show_holdings": len(view.ledger.holdings),
        "portfolio_show_transactions": view.transactions,
    }
    p50, p95 = _percentiles_ms(service.show, runs)
    results |= {
        "portfolio_show_1000_holdings_ms_p50": p50,
        "portfolio_show_1000_holdings_ms_p95": p95,
    }
    full = _service(folder, "show-100k.db", data)
    full.files.import_file(data.transactions, name="100k.csv")
    results["portfolio_show_100k_holdings"] = len(full.show().ledger.holdings)
    p50, p95 = _percentiles_ms(full.show, max(3, runs // 2))
    results |= {"portfolio_show_100k_tx_ms_p50": p50, "portfolio_show_100k_tx_ms_p95": p95}
    # The value over time: every month end of the ten years from one replay (a `show` per
    # month would cost about points x show's p50).
    history = full.history()
    p50, p95 = _percentiles_ms(full.history, 3)
    results |= {
        "portfolio_history_100k_tx_points": len(history.points),
        "portfolio_history_100k_tx_ms_p50": p50,
        "portfolio_history_100k_tx_ms_p95": p95,
    }
    service.store.close()
    full.store.close()
    return results


def measure(size: int = 100_000) -> dict[str, Any]:
    data, generate_s = _timed(lambda: household(size))
    results: dict[str, Any] = {"portfolio_generate_s": generate_s}
    with tempfile.TemporaryDirectory(prefix="alex-bench-") as folder:
        results |= measure_import(data, Path(folder))
        results |= measure_show(data, Path(folder))
    results |= measure_projection()
    for key, value in results.items():
        print(f"   {key}: {value:,.3f}" if isinstance(value, float) else f"   {key}: {value}")
    return results


if __name__ == "__main__":
    measure()
