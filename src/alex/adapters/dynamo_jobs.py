"""Research jobs in a DynamoDB table: the cloud's :class:`~alex.ports.ClaimingJobStore`.

The run happens in another invocation than the request that queued it, so the state lives
in a table (partition key ``job_id``, string). Each item holds the job's JSON (``job``),
its status (``job_status``, for the conditional claim) and ``expires_at`` (epoch seconds),
the table's TTL attribute. Reads are strongly consistent: a client polls right after
submitting.

The JSON is the record's own fields (:class:`~alex.research.jobs.ResearchJob`): those of
the API's job answer, without ``result.message`` and with ``error.kind`` (the domain
error) where the answer has ``error.status`` (HTTP, the door's business).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from alex.adapters.aws_clients import dynamo_call, error_code
from alex.domain.errors import StoreUnavailableError
from alex.domain.jobs import INTERNAL_ERROR, JobFailure
from alex.research.jobs import ResearchJob

logger = logging.getLogger("alex.research.cloud")

# Jobs are kept a week after their last change; DynamoDB's TTL (on TTL_ATTRIBUTE, epoch
# seconds) then deletes them.
JOB_TTL_SECONDS = 7 * 24 * 3600
TTL_ATTRIBUTE = "expires_at"
# DynamoDB's item limit is 400 KB; a job's JSON stays below this, or is stored as failed.
# (A job's texts are capped: it is tens of KB at most, so this is a last defence.)
MAX_JOB_JSON_BYTES = 350_000
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")

_JOB_JSON = TypeAdapter(ResearchJob)
# Items written before jobs had a domain record kept the error's HTTP status instead of its
# kind; they live a week (the TTL) and are read back with the kind that status came from.
_KIND_OF_OLD_STATUS = {
    404: "NotFoundError",
    413: "PayloadTooLargeError",
    422: "InvalidInputError",
    502: "ResearchFailedError",
    503: "StoreUnavailableError",
}


def job_to_json(job: ResearchJob) -> str:
    return _JOB_JSON.dump_json(job).decode("utf-8")


def job_from_json(text: str) -> ResearchJob:
    raw = json.loads(text)
    error = raw.get("error")
    if isinstance(error, dict) and "kind" not in error:
        error["kind"] = _KIND_OF_OLD_STATUS.get(int(error.get("status") or 500), INTERNAL_ERROR)
    return _JOB_JSON.validate_python(raw)


class DynamoJobStore:
    """Research jobs in a DynamoDB table; see the module's docstring."""

    def __init__(
        self,
        table: str,
        client: Any,
        ttl_seconds: int = JOB_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock

    def put(self, job: ResearchJob) -> None:
        body = job_to_json(job)
        if len(body.encode("utf-8")) > MAX_JOB_JSON_BYTES:
            logger.error("Research job %s is too large for the job table", job.job_id)
            stored = f" (stored as document {job.result.document_id})" if job.result else ""
            message = f"The result is too large to keep as a job{stored}"
            job = job.failed(JobFailure(message, INTERNAL_ERROR))
            body = job_to_json(job)
        item = {
            "job_id": {"S": job.job_id},
            "job_status": {"S": job.status},
            "job": {"S": body},
            TTL_ATTRIBUTE: {"N": str(int(self._clock()) + self._ttl)},
        }
        self._call("write", lambda: self._client.put_item(TableName=self.table, Item=item))

    def get(self, job_id: str) -> ResearchJob | None:
        if not _JOB_ID.match(job_id):  # not one of ours: no need to ask DynamoDB
            return None
        answer = self._call(
            "read",
            lambda: self._client.get_item(
                TableName=self.table, Key={"job_id": {"S": job_id}}, ConsistentRead=True
            ),
        )
        item = answer.get("Item")
        if not item:
            return None
        return job_from_json(item["job"]["S"])

    def claim(self, job_id: str) -> bool:
        """Mark a queued job as taken; False if it is not queued (run or running elsewhere).

        Lambda delivers an asynchronous event at least once: a duplicate must not run a job
        twice."""
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}},
                UpdateExpression="SET job_status = :running",
                ConditionExpression="job_status = :queued",
                ExpressionAttributeValues={
                    ":running": {"S": "running"},
                    ":queued": {"S": "queued"},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailableError(
                f"Cannot update the research job table {self.table}: {error_code(error)}"
            ) from None
        return True

    def _call(self, what: str, action: Callable[[], Any]) -> Any:
        return dynamo_call(what, f"the research job table {self.table}", action)
