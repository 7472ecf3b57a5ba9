"""Sentence vectors from token vectors: the one pooling every embedder uses.

The local model and the SageMaker endpoint (Hugging Face ``feature-extraction``, which
returns one vector per token) both end here, so their vectors share one space.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


def mean_pool_normalise(token_vectors: npt.ArrayLike, mask: npt.ArrayLike) -> FloatArray:
    """Mean of each text's token vectors where ``mask`` is 1, scaled to unit length.

    ``token_vectors`` is (texts, tokens, dim); ``mask`` is (texts, tokens), 0 on padding.
    """
    hidden = np.asarray(token_vectors, dtype=np.float32)
    weights = np.asarray(mask, dtype=np.float32)[:, :, None]
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), np.float32(1e-9))
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    result: FloatArray = (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return result
