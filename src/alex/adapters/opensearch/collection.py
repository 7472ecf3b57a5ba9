"""Requests to a collection's two indexes, and what their failures mean to a user.

``Collection`` holds the client and the store's settings; it creates and checks the indexes,
searches and pages through them, runs ``_bulk`` writes (re-sending throttled items) and
turns OpenSearch errors into ``StoreUnavailableError`` messages that say what to fix.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

from alex import retry
from alex.adapters.opensearch.bulk import (
    PartialWrite,
    dumps,
    error_reason,
    error_type,
    split_by_size,
    succeeded,
    summarise_failures,
)
from alex.adapters.opensearch.client import SERVICE
from alex.adapters.opensearch.mappings import Json, chunk_index_body, document_index_body
from alex.adapters.opensearch.terms import new_revision, utcnow
from alex.domain.errors import StoreUnavailableError
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL

logger = logging.getLogger(__name__)

DEFAULT_INDEX_PREFIX = "alex"
PAGE_SIZE = 1000  # hits per search page (search_after); max_result_window is 10,000
T = TypeVar("T")


class Collection:
    """The chunk and document indexes of one collection, behind one signed client."""

    def __init__(
        self,
        client: OpenSearch,
        *,
        dimension: int = EMBEDDING_DIMENSION,
        model_name: str = EMBEDDING_MODEL,
        index_prefix: str = DEFAULT_INDEX_PREFIX,
        endpoint: str | None = None,
        region: str | None = None,
        settle_seconds: float = 120.0,
        bulk_attempts: int = retry.OPENSEARCH_BULK_ITEMS.attempts,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = utcnow,
        new_revision: Callable[[], str] = new_revision,
        new_uid: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._client = client
        self.dimension = dimension
        self.model_name = model_name
        self.chunks_index = f"{index_prefix}-chunks"
        self.documents_index = f"{index_prefix}-documents"
        self.endpoint = endpoint or "the collection"
        self.region = region
        self.settle_seconds = settle_seconds
        self._bulk_backoff = retry.OPENSEARCH_BULK_ITEMS.with_attempts(bulk_attempts)
        self._sleep = sleep
        self._jitter = jitter
        self._clock = clock
        self._new_revision = new_revision
        self._new_uid = new_uid
        self._lock = threading.Lock()
        self._ready = False

    # Errors ------------------------------------------------------------------------------
    def _call(self, what: str, permission: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except TransportError as error:
            raise self._unavailable(what, permission, error) from error

    def _unavailable(
        self, what: str, permission: str, error: TransportError
    ) -> StoreUnavailableError:
        status = error.status_code
        where = f"{self.endpoint}" + (f" ({self.region})" if self.region else "")
        if status in (401, 403):
            return StoreUnavailableError(
                f"OpenSearch Serverless refused to {what} (HTTP {status}) at {where}. The "
                "caller's IAM identity must be a principal of the collection's data access "
                f"policy with {permission} on this index, and its IAM policy must allow "
                "aoss:APIAccessAll; a new or changed data access policy takes about a minute "
                f"to apply. Requests are signed for service '{SERVICE}' in region "
                f"{self.region or 'the configured region'}: it must be the collection's."
            )
        if isinstance(error, OpenSearchConnectionError):
            return StoreUnavailableError(
                f"Cannot reach OpenSearch Serverless at {where} to {what}: {error.error}. "
                "Check OPENSEARCH_ENDPOINT and the collection's network policy."
            )
        if status == 429:
            return StoreUnavailableError(
                f"OpenSearch Serverless is throttling requests (HTTP 429) at {where}; could "
                f"not {what} after retrying with backoff. Try again shortly, or raise the "
                "collection's maximum capacity (OCUs)."
            )
        return StoreUnavailableError(
            f"OpenSearch Serverless could not {what} at {where}: HTTP {status} "
            f"{error_type(error)}: {error_reason(error)}"
        )

    # Indexes ----------------------------------------------------------------------------
    def _ensure(self, create: bool) -> bool:
        """True once both indexes exist with the expected layout; creates them if asked."""
        with self._lock:
            if self._ready:
                return True
            bodies = {
                self.chunks_index: chunk_index_body(self.dimension, self.model_name),
                self.documents_index: document_index_body(self.dimension, self.model_name),
            }
            for name, body in bodies.items():
                exists = self._call(
                    f"check index {name}",
                    "aoss:DescribeIndex",
                    functools.partial(self._client.indices.exists, index=name),
                )
                if not exists:
                    if not create:
                        return False
                    self._create_index(name, body)
            problems = self._mapping_problems()
            if problems:
                raise StoreUnavailableError(
                    "The OpenSearch indexes are not what this version of Alex expects: "
                    + "; ".join(problems)
                    + ". Use another index prefix or re-ingest into new indexes."
                )
            self._ready = True
            return True

    def _create_index(self, name: str, body: Json) -> None:
        try:
            self._client.indices.create(index=name, body=body)
        except TransportError as error:
            if error_type(error) == "resource_already_exists_exception":
                return  # another process created it first: fine, checked below
            raise self._unavailable(f"create index {name}", "aoss:CreateIndex", error) from error
        logger.info("created OpenSearch index %s", name)

    def _mapping_problems(self) -> list[str]:
        """Differences between the live mappings and the ones this module creates."""
        problems: list[str] = []
        expected = {
            self.chunks_index: chunk_index_body(self.dimension, self.model_name)["mappings"],
            self.documents_index: document_index_body(self.dimension, self.model_name)["mappings"],
        }
        for name, wanted in expected.items():
            answer: Json = self._call(
                f"read the mapping of {name}",
                "aoss:DescribeIndex",
                functools.partial(self._client.indices.get_mapping, index=name),
            )
            entry: Json = answer.get(name) or next(iter(answer.values()), None) or {}
            mappings: Json = entry.get("mappings", {})
            meta = mappings.get("_meta", {})
            for key, value in wanted["_meta"].items():
                if meta.get(key) != value:
                    problems.append(f"{name} has {key}={meta.get(key)!r}, not {value!r}")
            properties = mappings.get("properties", {})
            for field, spec in wanted["properties"].items():
                live = properties.get(field)
                if live is None or any(live.get(k) != v for k, v in spec.items() if k != "method"):
                    problems.append(f"{name}.{field} is mapped as {live!r}, not {spec!r}")
                elif "method" in spec:
                    live_method = live.get("method", {})
                    for key, value in spec["method"].items():
                        if live_method.get(key) != value:
                            problems.append(
                                f"{name}.{field} uses {key}={live_method.get(key)!r}, not {value!r}"
                            )
        return problems

    # Low-level requests ----------------------------------------------------------------
    def _search(self, index: str, body: Json, what: str) -> list[Json]:
        try:
            answer = self._client.search(index=index, body=body)
        except TransportError as error:
            if error.status_code == 404 and error_type(error) == "index_not_found_exception":
                return []
            raise self._unavailable(what, "aoss:ReadDocument", error) from error
        hits: list[Json] = answer.get("hits", {}).get("hits", [])
        return hits

    def _scan(self, index: str, query: Json, fields: Sequence[str], what: str) -> Iterator[Json]:
        """Every hit of ``query``, ``PAGE_SIZE`` at a time, in ``uid`` order (search_after)."""
        after: list[Any] | None = None
        while True:
            body: Json = {
                "size": PAGE_SIZE,
                "query": query,
                "sort": [{"uid": "asc"}],
                "_source": {"includes": list(fields)} if fields else False,
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(index, body, what)
            yield from hits
            if len(hits) < PAGE_SIZE:
                return
            after = hits[-1]["sort"]

    def _bulk(
        self, actions: list[tuple[Json, Json | None]], what: str, permission: str
    ) -> list[Json]:
        """Run bulk actions; items throttled (429) are sent again with backoff.

        Returns each action's result (``{"_id", "status", "error"?...}``) in order.
        """
        results: list[Json] = [{} for _ in actions]
        pending = list(range(len(actions)))
        for _ in retry.attempts(self._bulk_backoff, sleep=self._sleep, jitter=self._jitter):
            for batch in split_by_size(pending, actions):
                lines: list[str] = []
                for index in batch:
                    action, source = actions[index]
                    lines.append(dumps(action))
                    if source is not None:
                        lines.append(dumps(source))
                payload = "\n".join(lines) + "\n"
                answer = self._call(
                    what, permission, functools.partial(self._client.bulk, body=payload)
                )
                items = answer.get("items", [])
                if len(items) != len(batch):
                    raise StoreUnavailableError(
                        f"OpenSearch Serverless answered {len(items)} results for {len(batch)} "
                        f"bulk actions while trying to {what}"
                    )
                for index, item in zip(batch, items, strict=True):
                    results[index] = next(iter(item.values()))
            pending = [index for index in pending if results[index].get("status") == 429]
            if not pending:
                break
        return results

    def _index_all(self, index: str, sources: list[Json], noun: str) -> list[str]:
        """Index new documents (service-generated ids); their ids, or ``PartialWrite``."""
        if not sources:
            return []
        actions: list[tuple[Json, Json | None]] = [
            ({"index": {"_index": index}}, source) for source in sources
        ]
        results = self._bulk(actions, f"store {noun}", "aoss:WriteDocument")
        stored = [r["_id"] for r in results if succeeded(r) and r.get("_id")]
        failed = [r for r in results if not succeeded(r)]
        if failed:
            raise PartialWrite(
                f"OpenSearch Serverless stored {len(stored)} of {len(sources)} {noun}: "
                f"{summarise_failures(failed)}.",
                stored,
            )
        return stored

    def _remove_written(self, index: str, ids: list[str], noun: str) -> tuple[bool, str]:
        """Delete what a failed write stored: (removed, a sentence saying so)."""
        if not ids:
            return True, ""
        try:
            self._delete_ids(index, ids)
        except StoreUnavailableError as error:
            return False, (
                f"The {len(ids)} {noun} it did store could not be removed ({error.message}); "
                "they are hidden from searches and reported by check_integrity()."
            )
        return True, f"The {len(ids)} {noun} it did store were removed again."

    def _delete_ids(self, index: str, ids: Iterable[str]) -> int:
        actions: list[tuple[Json, Json | None]] = [
            ({"delete": {"_index": index, "_id": doc_id}}, None) for doc_id in ids
        ]
        if not actions:
            return 0
        results = self._bulk(actions, f"delete items in {index}", "aoss:WriteDocument")
        failed = [r for r in results if not succeeded(r) and r.get("status") != 404]
        if failed:
            raise StoreUnavailableError(
                f"OpenSearch Serverless could not delete {len(failed)} of {len(actions)} items "
                f"from {index}: {summarise_failures(failed)}"
            )
        return len(actions)
