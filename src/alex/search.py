"""The search use case: semantic, keyword and hybrid (reciprocal rank fusion), with filters."""

from __future__ import annotations

from dataclasses import dataclass

from alex.domain.errors import InvalidInputError
from alex.domain.fusion import RRF_K, reciprocal_rank_fusion
from alex.domain.models import ChunkHit, Filters
from alex.domain.validation import Limits, validate_filters, validate_query
from alex.ports import Embedder, VectorStore


@dataclass(frozen=True, slots=True)
class HybridPolicy:
    """How hybrid search fuses the two rankings (tuned on bench/eval; docs/performance.md)."""

    rrf_k: int = RRF_K
    semantic_weight: float = 1.0
    keyword_weight: float = 1.0
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
        rankings = [
            self._semantic(text, candidates, clean_filters),
            self._store.keyword(text, candidates, clean_filters),
        ]
        weights = [policy.semantic_weight, policy.keyword_weight]
        return reciprocal_rank_fusion(rankings, count, policy.rrf_k, weights)

    def _semantic(self, text: str, k: int, filters: Filters) -> list[ChunkHit]:
        pieces = len(self._embedder.tokenizer.piece_offsets(text))
        if pieces > self._embedder.max_pieces:
            raise InvalidInputError(
                f"'query' has {pieces} word pieces; the model reads at most "
                f"{self._embedder.max_pieces}: shorten it"
            )
        vector = self._embedder.embed([text])
        return self._store.semantic(vector[0], k, filters)
