"""How values are written into the indexes and read back.

Metadata as typed ``key=type:value`` keywords and equality filters on them, Faiss scores
back to cosines, vectors rounded to float32, and revisions (sortable by write time).
"""

from __future__ import annotations

import time
import uuid
from array import array
from datetime import UTC, datetime
from typing import Any

from alex.domain.models import Filters, Metadata
from alex.ports import Vector

Json = dict[str, Any]


def _typed(value: object) -> str | None:
    """A scalar as ``type:value``: booleans, numbers (2025 == 2025.0) and strings apart."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, int):
        return f"n:{value}"
    if isinstance(value, float):
        return f"n:{int(value)}" if value.is_integer() and abs(value) < 2**63 else f"n:{value!r}"
    return f"s:{value}"


def meta_terms(metadata: Metadata) -> list[str]:
    """``key=type:value`` for every scalar and every list item of the metadata."""
    terms: set[str] = set()
    for key, value in metadata.items():
        items: list[object] = list(value) if isinstance(value, list) else [value]
        for item in items:
            typed = _typed(item)
            if typed is not None:
                terms.add(f"{key}={typed}")
    return sorted(terms)


def filter_clauses(filters: Filters) -> list[Json]:
    """Equality filters as ``term`` clauses on ``meta_terms`` (None matches nothing)."""
    return [
        {"term": {"meta_terms": f"{key}={_typed(value) or 'none:'}"}}
        for key, value in sorted(filters.items())
    ]


def score_to_cosine(score: float) -> float:
    """Faiss ``innerproduct`` score back to the inner product (= cosine for unit vectors).

    OpenSearch scores ``d = -x.y`` as ``1 / (1 + d)`` when ``d >= 0`` and ``1 - d`` otherwise.
    """
    if score >= 1.0:
        return score - 1.0
    return 1.0 - 1.0 / score if score > 0 else -1.0


def new_revision() -> str:
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"


def revision_ns(revision: str) -> int:
    try:
        return int(revision[:20])
    except ValueError:
        return 0


def utcnow() -> datetime:
    return datetime.now(UTC)


def float32(vector: Vector) -> list[float]:
    """The vector as Python floats rounded to float32, the precision the index keeps.

    Rounding here (``array('f')``, no numpy on Lambda) makes what is sent independent of
    how precisely the embedder computed, and keeps request bodies as they always were.
    """
    return array("f", vector).tolist()
