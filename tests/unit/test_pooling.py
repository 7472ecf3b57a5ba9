"""The pure-Python pooling (SageMaker path, no numpy on Lambda) against the local model's
numpy pooling: within 1e-6, so cloud and local vectors stay one space."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from alex.adapters.local_embedder import mean_pool_normalise_batch
from alex.domain.pooling import mean_pool_normalise

TOLERANCE = 1e-6


def numpy_pooled(tokens: np.ndarray) -> np.ndarray:
    """The local embedder's pooling of one unpadded text (every token weight 1)."""
    return mean_pool_normalise_batch(tokens[None], np.ones((1, len(tokens))))[0]


@pytest.mark.parametrize(
    ("tokens", "dimension", "scale", "seed"),
    [
        (1, 384, 1.0, 0),  # a pooled answer: one "token", only re-normalised
        (2, 384, 0.5, 1),
        (7, 384, 0.3, 2),
        (256, 384, 0.5, 3),  # a full-length chunk: [CLS] + 254 pieces + [SEP]
        (512, 384, 2.0, 4),
        (40, 8, 10.0, 5),
        (3, 1, 1.0, 6),
    ],
)
def test_agrees_with_the_numpy_pooling_on_random_token_vectors(
    tokens: int, dimension: int, scale: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Like real token vectors: a shared direction plus noise, float32 as the model gives.
    shared = rng.normal(size=dimension)
    values = (scale * (shared + rng.normal(size=(tokens, dimension)))).astype(np.float32)
    # Through JSON, as the endpoint's answer arrives.
    rows = json.loads(json.dumps(values.tolist()))

    pooled = mean_pool_normalise(rows)

    assert isinstance(pooled, list) and len(pooled) == dimension
    assert all(type(value) is float for value in pooled)
    np.testing.assert_allclose(pooled, numpy_pooled(values), rtol=0, atol=TOLERANCE)
    assert math.isclose(math.hypot(*pooled), 1.0, abs_tol=1e-12)


def test_equals_the_masked_numpy_pooling_of_a_padded_batch() -> None:
    """The local model pools padded batches with a mask; the endpoint sends real tokens only."""
    rng = np.random.default_rng(7)
    lengths = [3, 256, 1, 40]
    width = max(lengths)
    hidden = rng.normal(size=(len(lengths), width, 384)).astype(np.float32)  # padding: noise
    mask = np.zeros((len(lengths), width))
    for row, length in enumerate(lengths):
        mask[row, :length] = 1

    batch = mean_pool_normalise_batch(hidden, mask)

    for row, length in enumerate(lengths):
        pooled = mean_pool_normalise(hidden[row, :length].tolist())
        np.testing.assert_allclose(pooled, batch[row], rtol=0, atol=TOLERANCE)


def test_agrees_on_the_local_models_token_vectors_in_the_endpoints_answer_shapes(
    embedder: Any,
) -> None:
    """Real token vectors as the SageMaker tests record them ([1][T][384] per input, through
    JSON), short and truncated to 256 tokens: pure pooling = numpy pooling = the embedding."""
    texts = [
        "Northwind Semiconductor raised full-year guidance to $5.1bn.",
        "How leveraged is the company?",
        " ".join(f"revenue{i % 7} margin{i % 5}" for i in range(300)),  # cut at 256 tokens
    ]
    expected = embedder.embed_array(texts)
    for text, vector, tokens in zip(
        texts, expected, embedder.token_vectors(texts, max_tokens=256), strict=True
    ):
        (answer,) = json.loads(json.dumps([[tokens.tolist()]]))  # one input's entry
        assert len(answer) == 1 and len(answer[0][0]) == 384
        pooled = mean_pool_normalise(answer[0])
        np.testing.assert_allclose(pooled, numpy_pooled(tokens), rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(pooled, vector, rtol=0, atol=1e-5, err_msg=text)
    assert len(tokens) == 256


def test_a_zero_mean_stays_zero_like_the_numpy_pooling() -> None:
    rows = [[1.0, -2.0], [-1.0, 2.0]]
    assert mean_pool_normalise(rows) == [0.0, 0.0]
    np.testing.assert_array_equal(numpy_pooled(np.asarray(rows, dtype=np.float32)), [0.0, 0.0])


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([], ValueError),  # no tokens
        ([[1.0, 2.0], [3.0]], ValueError),  # ragged
        ([[1.0, "x"]], TypeError),
        ([[1.0, None]], TypeError),
        ([[1.0, [2.0]]], TypeError),
        ([[math.inf], [-math.inf]], ValueError),
        ([[1e308], [1e308]], OverflowError),
    ],
)
def test_bad_token_vectors_raise(rows: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        mean_pool_normalise(rows)


def test_nan_comes_out_for_the_caller_to_check() -> None:
    assert all(math.isnan(value) for value in mean_pool_normalise([[math.nan, 1.0]]))
