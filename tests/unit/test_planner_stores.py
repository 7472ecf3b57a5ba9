"""What one planner store does beyond the shared contract: the SQLite store's restart rule
(``tests/unit/test_planner_store_contract.py`` has the contract), DynamoDB's item size and
Query pages, and how ``Services`` builds the stores for each backend."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alex.adapters.planner_dynamo import DynamoAnalysisJobStore, DynamoReportStore
from alex.adapters.planner_sqlite import SqliteAnalysisJobStore, SqliteReportStore
from alex.config import Settings
from alex.domain.errors import ConfigError, StoreUnavailableError
from alex.domain.jobs import INTERNAL_ERROR, JobFailure
from alex.planner.jobs import INTERRUPTED, new_analysis_job
from alex.planner.reports import MAX_STORED_REPORT_BYTES, Report, ReportCheck, report_body
from alex.services import Services
from tests.fakes.planner import InMemoryAnalysisJobStore, InMemoryReportStore
from tests.unit.test_planner_store_contract import REGION, TABLE, aws, report

__all__ = ["aws"]  # the fixture, shared with the contract

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
ROOT = Path(__file__).resolve().parents[2]

# A process that queues a job, claims it, starts its "compute" step and dies without
# ending it (SIGKILL: no cleanup of any kind runs).
_DIES_MID_JOB = """
import os, signal, sys
from pathlib import Path
from alex.adapters.planner_sqlite import SqliteAnalysisJobStore
from alex.planner.jobs import new_analysis_job
store = SqliteAnalysisJobStore(Path(sys.argv[1]))
job = new_analysis_job()
store.put(job)
running = store.claim(job.id)
store.update_steps(job.id, running.at_step("classify", "done").at_step("compute", "running").steps)
print(job.id, flush=True)
os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
"""


# ------------------------------------------------------------------ SQLite: restarts


def test_a_job_left_running_by_a_process_that_died_is_failed_when_alex_restarts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alex.db"
    died = subprocess.run(
        [sys.executable, "-c", _DIES_MID_JOB, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert died.returncode != 0, died.stderr  # it was killed, not ended
    job_id = died.stdout.strip()

    store = SqliteAnalysisJobStore(path)
    try:
        job = store.get(job_id)
        assert job is not None and job.status == "failed"
        assert job.failure == JobFailure(INTERRUPTED, INTERNAL_ERROR)
        assert job.failure.message == "interrupted: Alex restarted"
        assert job.finished is not None and job.started is not None
        compute = job.step("compute")
        assert (compute.status, compute.detail) == ("failed", INTERRUPTED)
        assert job.step("classify").status == "done" and job.step("recall").status == "pending"
        assert store.recovered == [job_id]
        assert store.claim(job_id) is None  # it does not run again by itself
    finally:
        store.close()
    # The dead process's lock file went with its job; only the open store's remained.
    assert list((tmp_path / "alex.db.owners").iterdir()) == []


def test_a_job_another_live_process_runs_is_left_alone(tmp_path: Path) -> None:
    """``alex serve`` runs a job; ``alex analyse`` opens the same file meanwhile: the job
    stays running until its own process ends."""
    path = tmp_path / "alex.db"
    server = SqliteAnalysisJobStore(path)
    queued, running, done = (new_analysis_job() for _ in range(3))
    for job in (queued, running, done):
        server.put(job)
    assert server.claim(running.id) is not None
    finished = done.running().succeeded("0" * 32)
    server.put(finished)

    beside = SqliteAnalysisJobStore(path)
    assert beside.recovered == []
    statuses = [beside.get(job.id).status for job in (queued, running, done)]  # type: ignore[union-attr]
    assert statuses == ["queued", "running", "succeeded"]
    beside.close()

    server.close()  # the server stops (its lock goes, as when its process dies)
    after = SqliteAnalysisJobStore(path)
    try:
        assert sorted(after.recovered) == sorted([queued.id, running.id])
        left = after.get(queued.id)
        assert left is not None and left.failure is not None
        assert left.failure.message == INTERRUPTED
        assert all(step.status == "pending" for step in left.steps)  # none had started
        assert after.get(done.id) == finished  # an ended job is never touched
    finally:
        after.close()


def test_the_job_and_report_tables_share_alex_s_one_file(tmp_path: Path) -> None:
    path = tmp_path / "alex.db"
    jobs, reports = SqliteAnalysisJobStore(path), SqliteReportStore(path)
    made = report()
    reports.put(made)
    jobs.put(new_analysis_job())
    jobs.close()
    reports.close()
    files = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert files <= {"alex.db", "alex.db-wal", "alex.db-shm"}
    again = SqliteReportStore(path)
    assert again.get(made.id) == made
    again.close()


# ---------------------------------------------------------- DynamoDB: size and pages


def sample_shaped_report() -> Report:
    """A report the size the sample household's will be: its figures and charts drawn from
    the sample's own span and buckets, as Vega-Lite specs with their data inline.

    Value over time: one point a day per account and in total, from the first transaction
    to the last price (3 years); the projection's fan: 5 percentiles a year for 40 years;
    allocation and drift: every bucket of every dimension the instruments name."""
    with (SAMPLES / "transactions.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    accounts = sorted({row["account"] for row in rows})
    first = min(date.fromisoformat(row["date"]) for row in rows)
    last = date(2026, 12, 3)
    with (SAMPLES / "instruments.csv").open(encoding="utf-8") as file:
        instruments = list(csv.DictReader(file))
    buckets = {
        dimension: sorted(
            {part.split(":")[0] for one in instruments for part in one[dimension].split(";")}
        )
        for dimension in ("asset_class", "region", "sector")
    }
    buckets["currency"] = sorted({one["currency"] for one in instruments})
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    vega = "https://vega.github.io/schema/vega-lite/v5.json"
    value = [
        {"date": day.isoformat(), "series": series, "value": round(100_000 + n * 97.31 + i, 2)}
        for n, day in enumerate(days)
        for i, series in enumerate([*accounts, "total"])
    ]
    fan = [
        {"year": 2027 + year, "percentile": p, "value": round(250_000 * (1.04**year) * p / 50, 2)}
        for year in range(40)
        for p in (5, 25, 50, 75, 95)
    ]
    charts: dict[str, Any] = {
        "value_over_time": {
            "$schema": vega,
            "data": {"values": value},
            "mark": "line",
            "encoding": {
                "x": {"field": "date", "type": "temporal"},
                "y": {"field": "value", "type": "quantitative"},
                "color": {"field": "series", "type": "nominal"},
            },
        },
        "projection_fan": {"$schema": vega, "data": {"values": fan}, "mark": "area"},
    }
    for dimension, names in buckets.items():
        pct = round(100 / len(names), 2)
        shares = [{"bucket": name, "pct": pct} for name in names]
        charts[f"allocation_{dimension}"] = {"$schema": vega, "data": {"values": shares}}
        drift = [{**share, "target": 10.0, "drift": round(pct - 10.0, 2)} for share in shares]
        charts[f"drift_{dimension}"] = {"$schema": vega, "data": {"values": drift}}
    figures = {
        "holdings": [{"symbol": one["symbol"], "value": "12345.67"} for one in instruments],
        "allocation": {k: {n: 10.0 for n in v} for k, v in buckets.items()},
        "projection": {"years": 40, "percentiles": {str(p): 1_234_567.0 for p in (5, 50, 95)}},
    }
    markdown = "## Summary\n\n" + "The portfolio is worth $182,400.12 today. " * 150
    return report(markdown=markdown, figures=figures, charts=charts)


def test_the_sample_households_report_fits_a_dynamodb_item_with_room(aws: Any) -> None:
    sample = sample_shaped_report()
    text = json.dumps(
        {"markdown": sample.markdown, "figures": sample.figures, "charts": sample.charts},
        separators=(",", ":"),
    )
    body = report_body(sample)
    assert zlib.decompress(body).decode("utf-8") == text
    print(
        f"\nsample-shaped report: {len(text.encode()):,} bytes of JSON, "
        f"{len(body):,} compressed ({len(body) / MAX_STORED_REPORT_BYTES:.0%} of the limit)"
    )
    assert len(body) < MAX_STORED_REPORT_BYTES / 2
    store = DynamoReportStore(TABLE, aws)
    store.put(sample)  # moto refuses items over 400 KB, as DynamoDB does
    assert store.get(sample.id) == sample


class SmallPages:
    """The DynamoDB client, with every Query page cut to two items (DynamoDB cuts pages at
    1 MB: three reports near the limit)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def query(self, **request: Any) -> Any:
        return self._client.query(**{**request, "Limit": min(request.get("Limit", 2), 2)})


def test_a_list_reads_on_past_short_pages(aws: Any) -> None:
    reports = DynamoReportStore(TABLE, SmallPages(aws))
    jobs = DynamoAnalysisJobStore(TABLE, SmallPages(aws))
    now = datetime(2026, 12, 3, tzinfo=UTC)
    made = [report(now + timedelta(minutes=n)) for n in range(7)]
    for one in made:
        reports.put(one)
        jobs.put(new_analysis_job(one.created))
    assert reports.list_reports(limit=5) == [one.summary for one in reversed(made)][:5]
    assert len(reports.list_reports(limit=100)) == 7 and len(jobs.list_recent(6)) == 6


def test_a_missing_table_is_a_clear_503(aws: Any) -> None:
    jobs = DynamoAnalysisJobStore("no-such-table", aws)
    with pytest.raises(StoreUnavailableError, match="planner table no-such-table"):
        jobs.put(new_analysis_job())
    with pytest.raises(StoreUnavailableError, match="ResourceNotFoundException"):
        jobs.claim("0" * 32)
    with pytest.raises(StoreUnavailableError, match="planner table no-such-table"):
        DynamoReportStore("no-such-table", aws).list_reports()


def test_the_jobs_expire_and_the_reports_do_not(aws: Any) -> None:
    jobs = DynamoAnalysisJobStore(TABLE, aws, clock=lambda: 1_000_000.0)
    job = new_analysis_job()
    jobs.put(job)
    DynamoReportStore(TABLE, aws).put(made := report())
    items = aws.scan(TableName=TABLE)["Items"]
    by_kind = {item["pk"]["S"]: item for item in items}
    assert by_kind["JOB"]["expires_at"] == {"N": str(1_000_000 + 7 * 24 * 3600)}
    assert "expires_at" not in by_kind["REPORT"] and by_kind["REPORT"]["sk"]["S"] == made.id


# --------------------------------------------------------------- the composition root


@pytest.fixture(autouse=True)
def no_cloud_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALEX_BACKEND", "ALEX_PLANNER_TABLE", "DEFAULT_AWS_REGION", "ALEX_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, **values: str) -> Settings:
    given: dict[str, Any] = {"_env_file": None, "ALEX_DATA_DIR": str(tmp_path), **values}
    return Settings(**given)


def test_locally_the_stores_are_tables_in_alex_s_sqlite_file(tmp_path: Path) -> None:
    services = Services(settings(tmp_path))
    try:
        assert isinstance(services.analysis_jobs, SqliteAnalysisJobStore)
        assert isinstance(services.reports, SqliteReportStore)
        assert services.analysis_jobs.path == services.settings.store_path
        assert services.reports.path == services.settings.store_path
        assert services.analysis_jobs is services.analysis_jobs  # built once
    finally:
        services.close()


def test_on_aws_the_stores_are_the_planner_table(aws: Any, tmp_path: Path) -> None:
    values = {"ALEX_BACKEND": "aws", "ALEX_PLANNER_TABLE": TABLE, "DEFAULT_AWS_REGION": REGION}
    services = Services(settings(tmp_path, **values))
    jobs, reports = services.analysis_jobs, services.reports
    assert isinstance(jobs, DynamoAnalysisJobStore) and jobs.table == TABLE
    assert isinstance(reports, DynamoReportStore) and reports.table == TABLE
    job = new_analysis_job()
    jobs.put(job)
    assert jobs.get(job.id) == job  # the table moto holds, in the region configured


@pytest.mark.parametrize("missing", ["ALEX_PLANNER_TABLE", "DEFAULT_AWS_REGION"])
def test_a_missing_setting_is_named(tmp_path: Path, missing: str) -> None:
    values = {"ALEX_BACKEND": "aws", "ALEX_PLANNER_TABLE": TABLE, "DEFAULT_AWS_REGION": REGION}
    del values[missing]
    services = Services(settings(tmp_path, **values))
    for build in (lambda: services.analysis_jobs, lambda: services.reports):
        with pytest.raises(ConfigError, match=f"^{missing} must be set .* ALEX_BACKEND=aws"):
            build()


def test_stores_given_are_the_ones_used(tmp_path: Path) -> None:
    jobs, reports = InMemoryAnalysisJobStore(), InMemoryReportStore()
    services = Services(settings(tmp_path), analysis_jobs=jobs, reports=reports)
    assert services.analysis_jobs is jobs and services.reports is reports
    assert not services.settings.store_path.exists()  # nothing local was opened


def test_a_report_check_of_zero_counts_is_kept_as_zero(tmp_path: Path) -> None:
    store = SqliteReportStore(tmp_path / "alex.db")
    made = report(check=ReportCheck())
    store.put(made)
    assert store.list_reports()[0].check == ReportCheck(0, 0, 0, 0)
    store.close()
