"""Sentence vectors from token vectors: the mean pooling every embedder uses, in plain Python.

The SageMaker endpoint (Hugging Face ``feature-extraction``) returns one vector per token,
and the cloud path (AWS Lambda) ships without numpy, so the pooling here is pure Python.
The local model pools the same way with numpy over padded batches (``local_embedder``);
``tests/unit/test_pooling.py`` keeps the two within 1e-6 of each other, so cloud and local
vectors share one space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Same floor as the numpy pooling: an all-zero mean stays zero instead of dividing by zero.
_MIN_NORM = 1e-12


def mean_pool_normalise(token_vectors: Sequence[Sequence[float]]) -> list[float]:
    """The mean of one text's token vectors, scaled to unit length.

    ``token_vectors`` is (tokens, dim), every token counted (weight 1): the endpoint
    answers only for real tokens, never padding. Sums are exact (``math.fsum``) and the
    arithmetic float64, so this is at least as precise as the float32 numpy pooling.
    Raises ValueError for no tokens, ragged rows or infinities of both signs,
    OverflowError for sums beyond float range, TypeError for values that are not numbers;
    NaN in, NaN out (callers check the result with ``math.isfinite``).
    """
    if not token_vectors:
        raise ValueError("no token vectors to pool")
    dimension = len(token_vectors[0])
    if any(len(vector) != dimension for vector in token_vectors):
        raise ValueError("token vectors of different lengths")
    count = len(token_vectors)
    pooled = [math.fsum(column) / count for column in zip(*token_vectors, strict=True)]
    norm = math.sqrt(math.fsum(value * value for value in pooled))
    divisor = max(norm, _MIN_NORM)
    return [value / divisor for value in pooled]
