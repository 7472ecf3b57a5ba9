"""Draw the chart docs/planner.md shows ("Charts") from the sample household.

One-off script: its output, ``docs/images/chart-allocation-sector.png``, is committed so the
docs show a chart without running anything. Run from the repository root after changing
the charts::

    uv run python scripts/make_doc_charts.py

The household is imported into a SQLite store in a temporary folder and valued on
2026-12-03 (the day the tests use), so the picture is the tests' figures.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from alex.adapters.portfolio_sqlite import SqlitePortfolioStore
from alex.planner.charts import allocation_chart
from alex.planner.render import render_png
from alex.portfolio.allocation import Dimension
from alex.portfolio.service import PortfolioService

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "portfolio"
OUT = ROOT / "docs" / "images" / "chart-allocation-sector.png"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="alex-charts-") as folder:
        store = SqlitePortfolioStore(Path(folder) / "alex.db")
        try:
            service = PortfolioService(store, today=lambda: date(2026, 12, 3))
            service.files.import_files(
                [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]
            )
            spec = allocation_chart(service.show().allocations[Dimension.SECTOR])
        finally:
            store.close()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(render_png(spec, scale=1))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
