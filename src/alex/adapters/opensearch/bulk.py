"""``_bulk`` request bodies (NDJSON, split by size) and reading their per-item answers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from opensearchpy.exceptions import TransportError

Json = dict[str, Any]

MAX_BULK_BYTES = 5_000_000  # per _bulk request; OpenSearch suggests 5-15 MB


class PartialWrite(Exception):
    """A bulk write in which some items failed; ``stored`` are the ids that succeeded."""

    def __init__(self, message: str, stored: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.stored = stored


def dumps(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def split_by_size(
    indexes: list[int], actions: list[tuple[Json, Json | None]]
) -> Iterator[list[int]]:
    batch: list[int] = []
    size = 0
    for index in indexes:
        action, source = actions[index]
        cost = len(dumps(action)) + (len(dumps(source)) if source is not None else 0) + 2
        if batch and size + cost > MAX_BULK_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(index)
        size += cost
    if batch:
        yield batch


def succeeded(result: Json) -> bool:
    status = result.get("status", 0)
    return isinstance(status, int) and 200 <= status < 300 and "error" not in result


def error_type(error: TransportError) -> str:
    info = error.info
    if isinstance(info, dict):
        detail = info.get("error")
        if isinstance(detail, dict):
            return str(detail.get("type", ""))
        if isinstance(detail, str):
            return detail
    return str(error.error or "")


def error_reason(error: TransportError) -> str:
    info = error.info
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        return str(info["error"].get("reason", ""))
    return str(info or error.error or "")[:300]


def summarise_failures(failed: list[Json]) -> str:
    """``2 x 400 illegal_argument_exception: reason; ...`` (most common first)."""
    counts: Counter[str] = Counter()
    for result in failed:
        detail = result.get("error") or {}
        if isinstance(detail, dict):
            text = (
                f"{result.get('status')} {detail.get('type', 'error')}: {detail.get('reason', '')}"
            )
        else:
            text = f"{result.get('status')} {detail}"
        counts[text] += 1
    return "; ".join(f"{count} x {text}" for text, count in counts.most_common(3))
