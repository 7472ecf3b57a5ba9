"""The analysis job's cloud rules, offline: the timed-out rule (a job Lambda killed) and its
launch by asynchronous invocation (the event, and a launch that fails). The whole cloud path
runs in tests/deploy/test_analysis_image.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from alex.adapters.lambda_invoker import ANALYSIS_JOB_EVENT, AsyncInvoker, JobLaunchError
from alex.config import Settings
from alex.domain.errors import NotFoundError
from alex.planner.jobs import new_analysis_job
from alex.planner.service import timed_out
from tests.fakes import InMemoryAnalysisJobStore
from tests.scripted_model import ScriptedModel
from tests.support.planner_run import analysis_service

START = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
LIMIT = timedelta(seconds=960)


def test_only_a_running_job_past_the_limit_is_timed_out() -> None:
    running = new_analysis_job(START).running(START).at_step("write", "running", "the model")
    assert timed_out(running, START + LIMIT, LIMIT) is None  # at the limit: still running
    ended = timed_out(running, START + LIMIT + timedelta(seconds=1), LIMIT)
    assert ended is not None and ended.status == "failed" and ended.failure is not None
    assert ended.failure.message.startswith("timed out: the job was still running 960 s")
    assert ended.failure.kind == "AnalysisFailedError"
    assert ended.step("write").status == "failed" and ended.finished == START + LIMIT + (
        timedelta(seconds=1)
    )
    later = START + timedelta(days=1)
    queued = new_analysis_job(START)
    assert timed_out(queued, START + timedelta(hours=6), LIMIT) is None  # its event may come
    lost = timed_out(queued, later, LIMIT)
    assert lost is not None and lost.failure is not None
    assert lost.failure.message == "timed out: the job was never started (6 hours queued)"
    assert timed_out(running.succeeded("0" * 32), later, LIMIT) is None
    assert timed_out(ended, later, LIMIT) is None


def test_the_service_ends_a_stale_job_on_read_only_when_told_to(settings: Settings) -> None:
    service = analysis_service(settings, ScriptedModel([]))
    job = new_analysis_job(START).running(START)
    service.jobs.put(job)
    assert service.job(job.id).status == "running"  # locally: no limit (the restart rule)
    service.stale_after = LIMIT
    service._clock = lambda: START + timedelta(hours=1)
    assert service.job(job.id).status == "failed"
    stored = service.jobs.get(job.id)
    assert stored is not None and stored.status == "failed"  # stored so, not only answered
    with pytest.raises(NotFoundError):
        service.job("0" * 32)


def test_an_analysis_job_is_launched_with_its_own_event() -> None:
    client = boto3.client("lambda", region_name="eu-west-2")
    store = InMemoryAnalysisJobStore()
    job = new_analysis_job()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            expected_params={
                "FunctionName": "fn",
                "InvocationType": "Event",
                "Payload": json.dumps({ANALYSIS_JOB_EVENT: job.id}).encode(),
            },
        )
        AsyncInvoker(client, "fn", store, event=ANALYSIS_JOB_EVENT, what="analysis job")(job.id)
        stub.assert_no_pending_responses()


def test_an_analysis_launch_that_fails_marks_the_job_failed() -> None:
    client = boto3.client("lambda", region_name="eu-west-2")
    store = InMemoryAnalysisJobStore()
    job = new_analysis_job()
    store.put(job)
    launch = AsyncInvoker(client, "fn", store, event=ANALYSIS_JOB_EVENT, what="analysis job")
    with Stubber(client) as stub:
        stub.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
        with pytest.raises(JobLaunchError, match="Could not start analysis job"):
            launch(job.id)
    failed = store.get(job.id)
    assert failed is not None and failed.status == "failed" and failed.failure is not None
    assert "TooManyRequestsException" in failed.failure.message
