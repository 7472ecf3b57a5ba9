"""The search use case: semantic, keyword and hybrid (``domain/fusion.py``), with filters."""

from __future__ import annotations

from dataclasses import dataclass

from alex.domain.errors import InvalidInputError
from alex.domain.fusion import SEMANTIC_WEIGHT, hybrid_fusion
from alex.domain.models import ChunkHit, Filters
from alex.domain.validation import Limits, validate_filters, validate_query
from alex.ports import Embedder, VectorStore


@dataclass(frozen=True, slots=True)
class HybridPolicy:
    """How hybrid search fuses the two rankings (tuned on bench/eval; docs/performance.md)."""

    # The semantic share of the convex mix; the keyword share is the rest.
    semantic_weight: float = SEMANTIC_WEIGHT
    # Each mode contributes max(candidates_factor * k, min_candidates) hits to the fusion.
    candidates_factor: int = 4
    min_candidates: int = 20


class SearchService:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        limits: Limits | None = None,
        hybrid: HybridPolicy | None = None,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self.limits = limits or Limits()
        self.hybrid = hybrid or HybridPolicy()

    def search(
        self, query: object, k: object = 5, mode: object = "hybrid", filters: object = None
    ) -> list[ChunkHit]:
        text, count, search_mode = validate_query(query, k, mode, self.limits)
        clean_filters = validate_filters(filters)
        if search_mode == "keyword":
            return self._store.keyword(text, count, clean_filters)
        if search_mode == "semantic":
            return self._semantic(text, count, clean_filters)
        policy = self.hybrid
        candidates = max(count * policy.candidates_factor, policy.min_candidates)
        semantic = self._semantic(text, candidates, clean_filters)
        keyword = self._store.keyword(text, candidates, clean_filters)
        return hybrid_fusion(text, semantic, keyword, count, policy.semantic_weight)

    def _semantic(self, text: str, k: int, filters: Filters) -> list[ChunkHit]:
        pieces = len(self._embedder.tokenizer.piece_offsets(text))
        if pieces > self._embedder.max_pieces:
            raise InvalidInputError(
                f"'query' has {pieces} word pieces; the model reads at most "
                f"{self._embedder.max_pieces}: shorten it"
            )
        vector = self._embedder.embed([text])
        return self._store.semantic(vector[0], k, filters)
