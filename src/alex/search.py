"""The search use case: semantic, keyword and hybrid (reciprocal rank fusion), with filters."""

from __future__ import annotations

from alex.domain.errors import InvalidInputError
from alex.domain.fusion import reciprocal_rank_fusion
from alex.domain.models import ChunkHit, Filters
from alex.domain.validation import Limits, validate_filters, validate_query
from alex.ports import Embedder, VectorStore

# Each mode of a hybrid search contributes this many times k candidates to the fusion.
HYBRID_CANDIDATES_FACTOR = 4
HYBRID_MIN_CANDIDATES = 20


class SearchService:
    def __init__(
        self, embedder: Embedder, store: VectorStore, limits: Limits | None = None
    ) -> None:
        self._embedder = embedder
        self._store = store
        self.limits = limits or Limits()

    def search(
        self, query: object, k: object = 5, mode: object = "hybrid", filters: object = None
    ) -> list[ChunkHit]:
        text, count, search_mode = validate_query(query, k, mode, self.limits)
        clean_filters = validate_filters(filters)
        if search_mode == "keyword":
            return self._store.keyword(text, count, clean_filters)
        if search_mode == "semantic":
            return self._semantic(text, count, clean_filters)
        candidates = max(count * HYBRID_CANDIDATES_FACTOR, HYBRID_MIN_CANDIDATES)
        rankings = [
            self._semantic(text, candidates, clean_filters),
            self._store.keyword(text, candidates, clean_filters),
        ]
        return reciprocal_rank_fusion(rankings, count)

    def _semantic(self, text: str, k: int, filters: Filters) -> list[ChunkHit]:
        pieces = len(self._embedder.tokenizer.piece_offsets(text))
        if pieces > self._embedder.max_pieces:
            raise InvalidInputError(
                f"'query' has {pieces} word pieces; the model reads at most "
                f"{self._embedder.max_pieces}: shorten it"
            )
        vector = self._embedder.embed([text])
        return self._store.semantic(vector[0], k, filters)
