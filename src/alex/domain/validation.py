"""Validation of what callers send, with messages that say what to fix."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from alex.domain.errors import InvalidInputError, PayloadTooLargeError
from alex.domain.models import Filters, Metadata, MetadataValue, Scalar, SearchMode

METADATA_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")
# SQLite stores integers in 64 bits: a larger one could be stored as JSON but never matched.
INT64 = range(-(2**63), 2**63)
# One research run: its topic, and the pages it may be given.
MAX_RESEARCH_TOPIC_CHARS = 200
MAX_RESEARCH_URLS = 10
# The longest URL Alex reads (a research run's, a setting's, a redirect's): browsers and
# servers commonly stop near here, and a research job keeps its URLs for as long as it lives.
MAX_URL_CHARS = 2_048
SEARCH_MODES: tuple[SearchMode, ...] = ("semantic", "keyword", "hybrid")


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits for one document and one request."""

    max_text_chars: int = 1_000_000
    max_metadata_keys: int = 64
    max_metadata_json_chars: int = 16_384
    max_list_items: int = 256
    max_source_id_chars: int = 512
    max_batch_documents: int = 1_000
    max_query_chars: int = 2_000
    max_k: int = 100


def shortened(text: str, limit: int = 200) -> str:
    """``text`` cut to its first ``limit`` characters and "…", for quoting it in a message.

    A message that quotes what a caller sent (a URL of 1.5 MB, say) stays short: errors are
    logged and kept with research jobs.
    """
    return text if len(text) <= limit else text[:limit] + "…"


def _encodable(value: str) -> bool:
    """No NUL and no lone surrogate ("\\ud800"): JSON allows both, UTF-8 and SQLite do not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _check_encodable(value: str, field: str) -> str:
    if not _encodable(value):
        raise InvalidInputError(
            f"'{field}' contains a NUL character or an unpaired surrogate: not valid text"
        )
    return value


def validate_text(text: object, limits: Limits, *, field: str = "text") -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"'{field}' must be a string, not {type(text).__name__}")
    if not text.strip():
        raise InvalidInputError(f"'{field}' is empty: send the document's text")
    if len(text) > limits.max_text_chars:
        raise PayloadTooLargeError(
            f"'{field}' has {len(text):,} characters; the limit is {limits.max_text_chars:,}. "
            "Split the document or raise ALEX_MAX_TEXT_CHARS."
        )
    return _check_encodable(text, field)


def _is_scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value in INT64
    if isinstance(value, str):
        return _encodable(value)
    return value is None or isinstance(value, bool)


def _check_key(key: object, where: str) -> str:
    if not isinstance(key, str) or not METADATA_KEY.match(key):
        raise InvalidInputError(
            f"{where} key {key!r} is not allowed: use 1-64 letters, digits, '_', '-' or '.'"
        )
    return key


def validate_metadata(metadata: object, limits: Limits) -> Metadata:
    """A JSON object whose values are scalars or lists of scalars."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"'metadata' must be a JSON object, not {type(metadata).__name__}")
    if len(metadata) > limits.max_metadata_keys:
        raise InvalidInputError(
            f"'metadata' has {len(metadata)} keys; the limit is {limits.max_metadata_keys}"
        )
    clean: Metadata = {}
    for key, value in metadata.items():
        _check_key(key, "metadata")
        if isinstance(value, list):
            if len(value) > limits.max_list_items:
                raise InvalidInputError(
                    f"metadata '{key}' has {len(value)} items; the limit is {limits.max_list_items}"
                )
            if not all(_is_scalar(item) for item in value):
                raise InvalidInputError(
                    f"metadata '{key}' must be a list of strings, numbers, booleans or nulls "
                    "(integers within 64 bits, text without NUL or unpaired surrogates)"
                )
            clean[key] = cast(MetadataValue, list(value))
        elif _is_scalar(value):
            clean[key] = cast(Scalar, value)
        else:
            raise InvalidInputError(
                f"metadata '{key}' must be a string, number, boolean, null or a list of those "
                "(integers within 64 bits, text without NUL or unpaired surrogates)"
            )
    if len(canonical_json(clean)) > limits.max_metadata_json_chars:
        raise PayloadTooLargeError(
            f"'metadata' is over {limits.max_metadata_json_chars:,} characters of JSON"
        )
    return clean


def validate_source_id(source_id: object, limits: Limits) -> str | None:
    if source_id is None:
        return None
    if not isinstance(source_id, str) or not source_id.strip():
        raise InvalidInputError("'id' must be a non-empty string when given")
    _check_encodable(source_id, "id")
    if len(source_id) > limits.max_source_id_chars:
        raise InvalidInputError(f"'id' is over {limits.max_source_id_chars} characters")
    return source_id


def validate_filters(filters: object) -> Filters:
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise InvalidInputError("'filters' must be a JSON object of key: value")
    clean: dict[str, Scalar] = {}
    for key, value in filters.items():
        _check_key(key, "filter")
        if value is None or not _is_scalar(value):
            raise InvalidInputError(
                f"filter '{key}' must be a string, number or boolean (equality match; "
                "integers within 64 bits, text without NUL or unpaired surrogates)"
            )
        clean[key] = cast(Scalar, value)
    return clean


def validate_query(
    query: object, k: object, mode: object, limits: Limits
) -> tuple[str, int, SearchMode]:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("'query' must be a non-empty string")
    _check_encodable(query, "query")
    if len(query) > limits.max_query_chars:
        raise InvalidInputError(f"'query' is over {limits.max_query_chars:,} characters")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limits.max_k:
        raise InvalidInputError(f"'k' must be an integer from 1 to {limits.max_k}")
    if mode not in SEARCH_MODES:
        raise InvalidInputError(f"'mode' must be one of {', '.join(SEARCH_MODES)}")
    return query, k, mode


def parse_key_values(values: Iterable[str], what: str) -> dict[str, str]:
    """``["ticker=AAPL", ...]`` (CLI options, query parameters) as a dict of strings."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{what} {value!r} must look like key=value")
        pairs[key] = wanted
    return pairs


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_id_for(text: str, source_id: str | None) -> str:
    """The id of a document: from the caller's id when given, else from the text itself.

    A retried ingest therefore lands on the same id and never duplicates; a changed
    text under the same caller id replaces the old version.
    """
    basis = f"id\x00{source_id}" if source_id is not None else f"text\x00{text}"
    return sha256_hex(basis)[:32]
