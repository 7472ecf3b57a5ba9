"""One contract for every ``AnalysisJobStore`` and every ``ReportStore``: in memory (the
fakes), SQLite, DynamoDB (moto).

What only one store does (the SQLite store's restart rule, DynamoDB's item size and pages)
is in ``tests/unit/test_planner_stores.py``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from alex.adapters.planner_dynamo import (
    TABLE_DEFINITION,
    DynamoAnalysisJobStore,
    DynamoReportStore,
)
from alex.adapters.planner_sqlite import SqliteAnalysisJobStore, SqliteReportStore
from alex.domain.errors import InvalidInputError, PayloadTooLargeError
from alex.domain.jobs import MAX_JOB_TEXT, JobFailure
from alex.planner.jobs import STEPS, AnalysisJob, new_analysis_job, new_record_id
from alex.planner.reports import (
    MAX_STORED_REPORT_BYTES,
    Report,
    ReportCheck,
    new_report_id,
)
from alex.ports import AnalysisJobStore, ReportStore
from tests.fakes.planner import InMemoryAnalysisJobStore, InMemoryReportStore

REGION = "eu-west-2"
TABLE = "alex-planner-test"
STORES = ("memory", "sqlite", "dynamo")
T0 = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto for every AWS call, and the planner table created from TABLE_DEFINITION."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(TableName=TABLE, **TABLE_DEFINITION)
        yield client


@pytest.fixture(params=STORES)
def jobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnalysisJobStore]:
    built: AnalysisJobStore
    if request.param == "sqlite":
        built = SqliteAnalysisJobStore(tmp_path / "alex.db")
    elif request.param == "dynamo":
        built = DynamoAnalysisJobStore(TABLE, request.getfixturevalue("aws"))
    else:
        built = InMemoryAnalysisJobStore()
    yield built
    built.close()


@pytest.fixture(params=STORES)
def reports(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReportStore]:
    built: ReportStore
    if request.param == "sqlite":
        built = SqliteReportStore(tmp_path / "alex.db")
    elif request.param == "dynamo":
        built = DynamoReportStore(TABLE, request.getfixturevalue("aws"))
    else:
        built = InMemoryReportStore()
    yield built
    built.close()


def report(created: datetime = T0, **changes: Any) -> Report:
    made = Report(
        id=new_report_id(created),
        created=created,
        title="Household portfolio, December 2026",
        markdown="# Summary\n\nThe largest holding is VWRL at 41.2% of £182,400.\n",
        figures={
            "total_value": {"value": "182400.00", "currency": "GBP"},
            "holdings": [
                {"symbol": "VWRL", "weight_pct": 41.2},
                {"symbol": "IGLT", "weight_pct": 12},
            ],
            "note": "Z\u00fcrich \u2013 \u201cquoted\u201d",  # not ASCII: stored as UTF-8
            "empty": None,
            "flag": True,
        },
        charts={
            "allocation_class": {
                "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                "data": {
                    "values": [{"bucket": "equity", "pct": 71.5}, {"bucket": "bonds", "pct": 28.5}]
                },
                "mark": "arc",
            }
        },
        check=ReportCheck(numbers_checked=14, removed=1, flagged=0, contradictions=1),
        model="qwen2.5-coder-0.5b",
        job_id=new_record_id(created),
    )
    return replace(made, **changes)


# --------------------------------------------------------------------------- jobs


def test_a_job_comes_back_as_it_was_put(jobs: AnalysisJobStore) -> None:
    job = new_analysis_job(T0)
    jobs.put(job)
    assert jobs.get(job.id) == job
    assert job.status == "queued" and [s.name for s in job.steps] == list(STEPS)
    assert all(step.status == "pending" for step in job.steps)
    assert jobs.get(new_record_id(T0)) is None  # unknown
    for not_an_id in ("", "../x", job.id.upper(), job.id + "0", "JOB"):
        assert jobs.get(not_an_id) is None


def test_a_queued_job_is_claimed_once(jobs: AnalysisJobStore) -> None:
    job = new_analysis_job(T0)
    jobs.put(job)
    claimed = jobs.claim(job.id)
    assert claimed is not None and claimed.status == "running" and claimed.started is not None
    assert claimed.started >= T0 and claimed.id == job.id and claimed.steps == job.steps
    assert jobs.get(job.id) == claimed
    assert jobs.claim(job.id) is None  # running: taken already
    assert jobs.claim(new_record_id(T0)) is None and jobs.claim("nope") is None
    ended = claimed.succeeded(new_report_id(T0))
    jobs.put(ended)
    assert jobs.claim(job.id) is None and jobs.get(job.id) == ended


@pytest.fixture(params=("memory", "sqlite"))
def local_jobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnalysisJobStore]:
    """The stores whose claim is atomic in this process. moto does not model DynamoDB's
    concurrency (its condition check and write are two steps, and two threads both won in
    a CI run): DynamoDB's claim is one conditional UpdateItem, checked below."""
    built: AnalysisJobStore = (
        SqliteAnalysisJobStore(tmp_path / "alex.db")
        if request.param == "sqlite"
        else InMemoryAnalysisJobStore()
    )
    yield built
    built.close()


def test_dynamodb_claims_with_one_conditional_update(aws: Any) -> None:
    """Atomic by DynamoDB's contract: a single UpdateItem whose condition is "still queued"
    (docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html)."""
    jobs = DynamoAnalysisJobStore(TABLE, aws)
    job = new_analysis_job(T0)
    jobs.put(job)
    sent: list[tuple[str, dict[str, Any]]] = []
    aws.meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: sent.append((model.name, dict(params))),
    )
    assert jobs.claim(job.id) is not None
    ((operation, params),) = sent
    assert operation == "UpdateItem"
    assert params["ConditionExpression"] == "job_status = :queued"
    assert params["ExpressionAttributeValues"][":queued"] == {"S": "queued"}


def test_of_many_workers_claiming_at_once_exactly_one_runs_the_job(
    local_jobs: AnalysisJobStore,
) -> None:
    jobs = local_jobs
    job = new_analysis_job(T0)
    jobs.put(job)
    start = threading.Barrier(8)
    won: list[AnalysisJob | None] = []

    def worker() -> None:
        start.wait()
        won.append(jobs.claim(job.id))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 8 and len([one for one in won if one is not None]) == 1


def test_steps_change_only_while_the_job_runs(jobs: AnalysisJobStore) -> None:
    job = new_analysis_job(T0)
    jobs.put(job)
    moved = job.at_step("classify", "done", "2 instruments proposed", T0)
    assert jobs.update_steps(job.id, moved.steps) is False  # queued: not running yet
    assert jobs.get(job.id) == job

    running = jobs.claim(job.id)
    assert running is not None
    long_detail = "ü" * (MAX_JOB_TEXT + 500)
    progress = running.at_step("classify", "done", "2 instruments proposed", T0).at_step(
        "compute", "running", long_detail, T0 + timedelta(seconds=1)
    )
    assert jobs.update_steps(job.id, progress.steps) is True
    stored = jobs.get(job.id)
    assert stored is not None and stored.steps == progress.steps and stored.status == "running"
    assert len(stored.step("compute").detail) == MAX_JOB_TEXT  # capped in the record itself
    assert stored.step("classify").at == T0

    failed = stored.failed(JobFailure("The model's answer did not fit its schema", "X"), T0)
    jobs.put(failed)
    assert jobs.update_steps(job.id, progress.steps) is False  # ended: the worker must stop
    assert jobs.get(job.id) == failed
    assert jobs.update_steps(new_record_id(T0), progress.steps) is False


def test_steps_out_of_order_are_refused_and_nothing_changes(jobs: AnalysisJobStore) -> None:
    job = new_analysis_job(T0)
    jobs.put(job)
    running = jobs.claim(job.id)
    assert running is not None
    for bad in (running.steps[1:], tuple(reversed(running.steps))):
        with pytest.raises(InvalidInputError, match="classify, compute, recall"):
            jobs.update_steps(job.id, bad)
    assert jobs.get(job.id) == running


def test_a_job_ends_with_its_report_or_its_failure(jobs: AnalysisJobStore) -> None:
    good, bad = new_analysis_job(T0), new_analysis_job(T0 + timedelta(seconds=1))
    for job in (good, bad):
        jobs.put(job)
        assert jobs.claim(job.id) is not None
    report_id = new_report_id(T0)
    done = good.running(T0).at_step("store", "done", "stored", T0).succeeded(report_id, T0)
    jobs.put(done)
    assert jobs.get(good.id) == done and done.report_id == report_id and done.failure is None

    running = bad.running(T0).at_step("write", "running", "reporter writing", T0)
    failure = JobFailure("The reporter did not answer within 600 s", "ResearchFailedError")
    ended = running.failed(failure, T0 + timedelta(minutes=10))
    jobs.put(ended)
    stored = jobs.get(bad.id)
    assert stored == ended and stored.status == "failed" and stored.failure == failure
    assert stored.step("write").status == "failed"  # the step it was in, with the reason
    assert stored.step("write").detail == failure.message
    assert stored.step("check").status == "pending" and stored.report_id is None


def test_recent_jobs_are_listed_newest_first(jobs: AnalysisJobStore) -> None:
    made = [new_analysis_job(T0 + timedelta(minutes=n)) for n in range(5)]
    for job in (made[3], made[0], made[4], made[1], made[2]):
        jobs.put(job)
    assert [job.id for job in jobs.list_recent()] == [job.id for job in reversed(made)]
    assert jobs.list_recent(2) == [made[4], made[3]]
    for limit in (0, -1, 101):
        with pytest.raises(InvalidInputError, match="limit"):
            jobs.list_recent(limit)


# ------------------------------------------------------------------------ reports


def test_a_report_comes_back_whole(reports: ReportStore) -> None:
    made = report()
    reports.put(made)
    assert reports.get(made.id) == made
    assert reports.get(new_report_id(T0)) is None and reports.get("../etc/passwd") is None
    newer = replace(made, title="Rewritten", markdown="# Again\n")
    reports.put(newer)  # the same id: replaced
    assert reports.get(made.id) == newer
    assert [summary.title for summary in reports.list_reports()] == ["Rewritten"]


def test_reports_are_listed_newest_first_a_page_at_a_time(reports: ReportStore) -> None:
    made = [report(T0 + timedelta(days=n), title=f"Report {n}") for n in range(5)]
    for one in (made[2], made[0], made[4], made[3], made[1]):
        reports.put(one)
    first = reports.list_reports(limit=2)
    assert first == [made[4].summary, made[3].summary]
    second = reports.list_reports(limit=2, before=first[-1].id)
    assert second == [made[2].summary, made[1].summary]
    assert reports.list_reports(limit=2, before=second[-1].id) == [made[0].summary]
    assert reports.list_reports(before=made[0].id) == []
    assert reports.list_reports() == [one.summary for one in reversed(made)]
    for limit in (0, 101):
        with pytest.raises(InvalidInputError, match="limit"):
            reports.list_reports(limit)
    with pytest.raises(InvalidInputError, match="before"):
        reports.list_reports(before="not an id")


def test_a_deleted_report_is_gone(reports: ReportStore) -> None:
    kept, gone = report(T0), report(T0 + timedelta(hours=1))
    reports.put(kept)
    reports.put(gone)
    assert reports.delete(gone.id) is True
    assert reports.get(gone.id) is None and reports.delete(gone.id) is False
    assert reports.list_reports() == [kept.summary]
    assert reports.delete("x") is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"model": ""}, "model"),
        ({"figures": {"value": Decimal("1.5")}}, "figures"),
        ({"figures": {"value": float("nan")}}, "figures"),
        ({"charts": {"c": {"values": {1, 2}}}}, "charts"),
        ({"check": ReportCheck(numbers_checked=-1)}, "check.numbers_checked"),
        ({"job_id": "job-1"}, "job_id"),
        ({"id": "r1"}, "id"),
        ({"created": datetime(2026, 12, 3)}, "created"),
    ],
)
def test_a_bad_report_is_refused_naming_the_field_and_nothing_is_stored(
    reports: ReportStore, changes: dict[str, Any], field: str
) -> None:
    bad = report(**changes)
    with pytest.raises(InvalidInputError, match=field.replace(".", r"\.")):
        reports.put(bad)
    assert reports.list_reports() == []


def test_a_report_over_the_stored_limit_is_refused_by_every_store(reports: ReportStore) -> None:
    # Random bytes do not compress: their hex text compresses to about half.
    noise = os.urandom(MAX_STORED_REPORT_BYTES).hex()
    with pytest.raises(PayloadTooLargeError, match="at most 350,000") as refused:
        reports.put(report(markdown=noise))
    assert "compressed" in str(refused.value)
    assert reports.list_reports() == []
    fits = report(markdown=os.urandom(MAX_STORED_REPORT_BYTES // 2).hex())  # ~330 KB stored
    reports.put(fits)
    assert reports.get(fits.id) == fits
