"""Reciprocal rank fusion: the one hybrid ranking every store uses, so results agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from alex.domain.models import ChunkHit

# 60 is the textbook constant; on bench/eval a smaller one, which trusts each list's top
# ranks more, scored better (docs/performance.md).
RRF_K = 20


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ChunkHit]],
    k: int,
    rrf_k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[ChunkHit]:
    """Fuse ranked lists: each hit scores sum(weight / (rrf_k + rank)) over the lists it is in."""
    scores: dict[tuple[str, int], float] = {}
    first_seen: dict[tuple[str, int], ChunkHit] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, hit in enumerate(ranking, start=1):
            key = (hit.document_id, hit.chunk_ordinal)
            scores[key] = scores.get(key, 0.0) + weight / (rrf_k + rank)
            first_seen.setdefault(key, hit)
    ordered = sorted(scores, key=lambda key: (-scores[key], key))
    return [replace(first_seen[key], score=scores[key]) for key in ordered[:k]]
