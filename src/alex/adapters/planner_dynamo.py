"""The planner's cloud stores: analysis jobs and reports in one DynamoDB table.

The table ``alex-planner-<stage>`` (infrastructure/serverless.yml, ``PlannerTable``; the
key schema is :data:`TABLE_DEFINITION`) holds two kinds of item, each kind one partition,
sorted by id (ids begin with their creation time, ``alex.planner.jobs.new_record_id``, so a
Query read backwards is newest first):

==================  =========  ========================================================
``pk``              ``sk``     attributes
==================  =========  ========================================================
``JOB``             job id     ``job_status``, ``created``, ``started``, ``finished``
                               (ISO texts), ``steps`` (JSON), ``report_id``,
                               ``failure_message``, ``failure_kind``, ``expires_at``
``REPORT``          report id  ``created``, ``title``, ``model``, ``job_id``, ``counts``
                               (map of numbers), ``body`` (binary: the compressed
                               Markdown, figures and charts, ``report_body``)
==================  =========  ========================================================

Jobs expire a week after their last write (TTL on ``expires_at``); reports stay until
deleted. The claim is one conditional UpdateItem (``job_status = queued``), so of any number
of workers handed the same job exactly one runs it; step updates are conditional on
``running``. Reads are strongly consistent: a client polls right after submitting.

**Item size.** DynamoDB refuses items over 400 KB. A report's body is compressed and refused
over ``MAX_STORED_REPORT_BYTES`` (350,000) by every store, before any call; the summary's
attributes add at most a few KB (a title and a model name of 200 characters each). A page
of a Query stops at 1 MB, a few large reports: a list reads on until it has ``limit``.

One partition per kind is fine for one household (a partition serves 3,000 reads and 1,000
writes a second); a service for many users would put the user in ``pk``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from alex.adapters.aws_clients import PK_SK_TABLE, dynamo_call, error_code
from alex.adapters.dynamo_jobs import JOB_TTL_SECONDS, TTL_ATTRIBUTE
from alex.domain.errors import InvalidInputError, StoreUnavailableError
from alex.domain.jobs import JobFailure
from alex.planner.jobs import (
    AnalysisJob,
    StepProgress,
    check_list_limit,
    is_record_id,
    steps_from_json,
    steps_to_json,
    time_from_text,
    time_text,
    utc_now,
)
from alex.planner.reports import Report, ReportCheck, ReportSummary, report_body, report_from_body

# On demand ($0 idle). infrastructure/serverless.yml's PlannerTable repeats it, adding the
# name, the TTL and recovery (tests/deploy/test_service_config.py checks they agree).
TABLE_DEFINITION: dict[str, Any] = PK_SK_TABLE
JOB_PARTITION = "JOB"
REPORT_PARTITION = "REPORT"
_COUNTS = ("numbers_checked", "removed", "flagged", "contradictions")
_SUMMARY = ("sk", "created", "title", "model", "job_id", "counts")

Item = dict[str, Any]


def _text(value: str) -> dict[str, str]:
    return {"S": value}


def _optional(item: Item, name: str) -> str | None:
    return item[name]["S"] if name in item else None


class _Table:
    """The calls both stores make, each failure a StoreUnavailableError naming the table."""

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self._client = client

    def _call(self, what: str, action: Callable[[], Any]) -> Any:
        return dynamo_call(what, f"the planner table {self.table}", action)

    def _conditional(self, request: dict[str, Any]) -> Item | None:
        """An UpdateItem with a condition: the new item, or None if the condition failed."""
        from botocore.exceptions import ClientError

        try:
            answer = self._client.update_item(TableName=self.table, **request)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise StoreUnavailableError(
                f"Cannot update the planner table {self.table}: {error_code(error)}"
            ) from None
        attributes: Item = answer.get("Attributes", {})
        return attributes

    def _get(self, pk: str, sk: str) -> Item | None:
        answer = self._call(
            "read",
            lambda: self._client.get_item(
                TableName=self.table,
                Key={"pk": _text(pk), "sk": _text(sk)},
                ConsistentRead=True,
            ),
        )
        item: Item | None = answer.get("Item")
        return item

    def _newest(self, pk: str, limit: int, before: str | None = None, **extra: Any) -> list[Item]:
        """Up to ``limit`` items of partition ``pk``, highest ``sk`` (newest) first, below
        ``before`` if given; reads on past Query's 1 MB pages."""
        condition = "pk = :pk" if before is None else "pk = :pk AND sk < :before"
        values = {":pk": _text(pk)} | ({} if before is None else {":before": _text(before)})
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
            **extra,
        }
        items: list[Item] = []
        while len(items) < limit:
            request["Limit"] = limit - len(items)
            page = self._call("read", lambda: self._client.query(**request))
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items


def _job(item: Item) -> AnalysisJob:
    message = _optional(item, "failure_message")
    started, finished = _optional(item, "started"), _optional(item, "finished")
    return AnalysisJob(
        id=item["sk"]["S"],
        status=item["job_status"]["S"],
        created=time_from_text(item["created"]["S"]),
        started=None if started is None else time_from_text(started),
        finished=None if finished is None else time_from_text(finished),
        steps=steps_from_json(item["steps"]["S"]),
        report_id=_optional(item, "report_id"),
        failure=None if message is None else JobFailure(message, item["failure_kind"]["S"]),
    )


class DynamoAnalysisJobStore(_Table):
    """Analysis jobs in the planner table; see the module's docstring."""

    def __init__(
        self,
        table: str,
        client: Any,
        ttl_seconds: int = JOB_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table, client)
        self._ttl = ttl_seconds
        self._clock = clock

    def _expires(self) -> dict[str, str]:
        return {"N": str(int(self._clock()) + self._ttl)}

    def put(self, job: AnalysisJob) -> None:
        item: Item = {
            "pk": _text(JOB_PARTITION),
            "sk": _text(job.id),
            "job_status": _text(job.status),
            "created": _text(time_text(job.created)),
            "steps": _text(steps_to_json(job.steps)),
            TTL_ATTRIBUTE: self._expires(),
        }
        for name, moment in (("started", job.started), ("finished", job.finished)):
            if moment is not None:
                item[name] = _text(time_text(moment))
        if job.report_id is not None:
            item["report_id"] = _text(job.report_id)
        if job.failure is not None:
            item["failure_message"] = _text(job.failure.message)
            item["failure_kind"] = _text(job.failure.kind)
        self._call("write", lambda: self._client.put_item(TableName=self.table, Item=item))

    def get(self, job_id: str) -> AnalysisJob | None:
        if not is_record_id(job_id):  # not one of ours: no need to ask DynamoDB
            return None
        item = self._get(JOB_PARTITION, job_id)
        return _job(item) if item else None

    def claim(self, job_id: str) -> AnalysisJob | None:
        """Lambda delivers an asynchronous event at least once: a duplicate must not run a
        job twice, so the claim is conditional on the job still being queued."""
        if not is_record_id(job_id):
            return None
        item = self._conditional(
            {
                "Key": {"pk": _text(JOB_PARTITION), "sk": _text(job_id)},
                "UpdateExpression": "SET job_status = :running, started = :now, #ttl = :ttl",
                "ConditionExpression": "job_status = :queued",
                "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":running": _text("running"),
                    ":queued": _text("queued"),
                    ":now": _text(time_text(utc_now())),
                    ":ttl": self._expires(),
                },
                "ReturnValues": "ALL_NEW",
            }
        )
        return None if item is None else _job(item)

    def update_steps(self, job_id: str, steps: Sequence[StepProgress]) -> bool:
        if not is_record_id(job_id):
            return False
        item = self._conditional(
            {
                "Key": {"pk": _text(JOB_PARTITION), "sk": _text(job_id)},
                "UpdateExpression": "SET steps = :steps",
                "ConditionExpression": "job_status = :running",
                "ExpressionAttributeValues": {
                    ":steps": _text(steps_to_json(steps)),
                    ":running": _text("running"),
                },
            }
        )
        return item is not None

    def list_recent(self, limit: int = 20) -> list[AnalysisJob]:
        check_list_limit(limit)
        return [_job(item) for item in self._newest(JOB_PARTITION, limit)]

    def close(self) -> None:
        pass  # the boto3 client is shared for the container's life (aws_clients)


def _summary(item: Item) -> ReportSummary:
    counts = item["counts"]["M"]
    return ReportSummary(
        id=item["sk"]["S"],
        created=time_from_text(item["created"]["S"]),
        title=item["title"]["S"],
        model=item["model"]["S"],
        job_id=item["job_id"]["S"],
        check=ReportCheck(*(int(counts[name]["N"]) for name in _COUNTS)),
    )


class DynamoReportStore(_Table):
    """Reports in the planner table; see the module's docstring."""

    def put(self, report: Report) -> None:
        body = report_body(report)  # checks the whole report and its size before any call
        item: Item = {
            "pk": _text(REPORT_PARTITION),
            "sk": _text(report.id),
            "created": _text(time_text(report.created)),
            "title": _text(report.title),
            "model": _text(report.model),
            "job_id": _text(report.job_id),
            "counts": {"M": {name: {"N": str(getattr(report.check, name))} for name in _COUNTS}},
            "body": {"B": body},
        }
        self._call("write", lambda: self._client.put_item(TableName=self.table, Item=item))

    def get(self, report_id: str) -> Report | None:
        if not is_record_id(report_id):
            return None
        item = self._get(REPORT_PARTITION, report_id)
        return None if item is None else report_from_body(_summary(item), bytes(item["body"]["B"]))

    def list_reports(self, limit: int = 20, before: str | None = None) -> list[ReportSummary]:
        check_list_limit(limit)
        if before is not None and not is_record_id(before):
            raise InvalidInputError(f"before {before!r} is not a report id (32 hex digits)")
        names = {f"#{name}": name for name in _SUMMARY}  # names, not bodies: no reserved words
        items = self._newest(
            REPORT_PARTITION,
            limit,
            before,
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        return [_summary(item) for item in items]

    def delete(self, report_id: str) -> bool:
        if not is_record_id(report_id):
            return False
        answer = self._call(
            "write",
            lambda: self._client.delete_item(
                TableName=self.table,
                Key={"pk": _text(REPORT_PARTITION), "sk": _text(report_id)},
                ReturnValues="ALL_OLD",
            ),
        )
        return bool(answer.get("Attributes"))

    def close(self) -> None:
        pass  # the boto3 client is shared for the container's life (aws_clients)
