"""LocalEmbedder (ONNX Runtime all-MiniLM-L6-v2) against sentence-transformers' vectors.

The reference vectors in tests/fixtures/embedding_reference.json were made by
scripts/make_embedding_reference.py with sentence-transformers and torch.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from alex.adapters import local_embedder
from alex.adapters.local_embedder import (
    MODEL_NAME,
    WEIGHTS_SHA256,
    EmbedderUnavailableError,
    LocalEmbedder,
    WordPieceTokenizer,
    default_model_dir,
)

REFERENCE_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "embedding_reference.json"
PARITY_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE_PATH.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


@pytest.fixture(scope="module")
def vectors(reference: dict[str, Any], embedder: LocalEmbedder) -> npt.NDArray[np.float32]:
    """The embedder's vectors for the reference texts, computed once."""
    return embedder.embed_array(reference["texts"])


@pytest.fixture(scope="module")
def embedder_batch1() -> LocalEmbedder:
    return LocalEmbedder(batch_size=1)


@pytest.fixture(scope="module")
def long_text(reference: dict[str, Any], embedder: LocalEmbedder) -> str:
    texts: list[str] = reference["texts"]
    text = max(texts, key=lambda t: len(embedder.tokenizer.piece_offsets(t)))
    assert len(embedder.tokenizer.piece_offsets(text)) > 2 * embedder.max_pieces
    return text


def test_reference_fixture_covers_truncation(
    reference: dict[str, Any], embedder: LocalEmbedder
) -> None:
    assert reference["model"] == MODEL_NAME
    assert len(reference["texts"]) >= 36
    counts = [len(embedder.tokenizer.piece_offsets(t)) for t in reference["texts"]]
    assert sum(c > embedder.max_pieces for c in counts) >= 3
    assert embedder.max_pieces in counts  # exactly at the limit
    assert embedder.max_pieces + 1 in counts  # one piece over


def test_parity_with_sentence_transformers(
    reference: dict[str, Any], vectors: npt.NDArray[np.float32]
) -> None:
    got = vectors
    want = np.asarray(reference["vectors"], dtype=np.float32)
    assert got.shape == want.shape
    per_text = np.abs(got - want).max(axis=1)
    print(f"max abs diff vs sentence-transformers: {per_text.max():.3g}")
    worst = int(per_text.argmax())
    assert per_text.max() <= PARITY_TOLERANCE, (
        f"text {worst} ({reference['texts'][worst][:60]!r}) differs by {per_text[worst]:.3g}"
    )


def test_shape_dtype_and_unit_norm(
    reference: dict[str, Any], vectors: npt.NDArray[np.float32]
) -> None:
    assert vectors.shape == (len(reference["texts"]), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_properties(embedder: LocalEmbedder) -> None:
    assert embedder.model_name == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert embedder.max_pieces == 254
    assert isinstance(embedder.tokenizer, WordPieceTokenizer)


def test_embed_empty(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed_array([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32
    assert embedder.embed([]) == []


def test_embed_answers_the_port_with_plain_lists_of_the_same_float32_values(
    reference: dict[str, Any], embedder: LocalEmbedder, vectors: npt.NDArray[np.float32]
) -> None:
    """The port's rows are Python floats (no numpy on Lambda); nothing is lost converting."""
    texts: list[str] = reference["texts"][:5]
    rows = embedder.embed(texts)
    assert isinstance(rows, list) and len(rows) == len(texts)
    assert all(isinstance(row, list) and len(row) == 384 for row in rows)
    assert all(type(value) is float for row in rows for value in row)
    np.testing.assert_array_equal(np.asarray(rows, dtype=np.float32), vectors[:5])


def test_order_preserved(
    reference: dict[str, Any], embedder: LocalEmbedder, vectors: npt.NDArray[np.float32]
) -> None:
    texts: list[str] = reference["texts"]
    forward = vectors
    backward = embedder.embed_array(texts[::-1])
    np.testing.assert_allclose(backward[::-1], forward, atol=1e-6)
    for i in (0, 17, len(texts) - 1):
        np.testing.assert_allclose(embedder.embed([texts[i]])[0], forward[i], atol=1e-6)


def test_batch_size_invariance(
    reference: dict[str, Any],
    vectors: npt.NDArray[np.float32],
    embedder_batch1: LocalEmbedder,
) -> None:
    np.testing.assert_allclose(embedder_batch1.embed_array(reference["texts"]), vectors, atol=1e-6)


def test_piece_offsets_map_to_text(embedder: LocalEmbedder) -> None:
    text = "AAPL Q3 revenue $85.8bn, +5% y/y;\tunbelievably\nstrong quarter."
    spans = embedder.tokenizer.piece_offsets(text)
    assert spans
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        previous_end = end
    # The pieces cover every non-space character, in order.
    assert "".join(text[s:e] for s, e in spans) == "".join(text.split())
    # No [CLS]/[SEP]: a single word is one or more pieces of that word only.
    assert embedder.tokenizer.piece_offsets("hello") == [(0, 5)]


def test_piece_offsets_non_ascii(embedder: LocalEmbedder) -> None:
    for text in ("Die Straße zur Börse", "日経平均株価は上昇", "Prices: €100 ₹8,300 🚀"):
        spans = embedder.tokenizer.piece_offsets(text)
        assert spans
        assert all(0 <= s < e <= len(text) for s, e in spans)
        assert all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_piece_offsets_no_128_limit(embedder: LocalEmbedder) -> None:
    text = " ".join(f"word{i % 50} revenue" for i in range(500))  # 1000 words
    spans = embedder.tokenizer.piece_offsets(text)
    assert len(spans) > 1000
    assert spans[-1][1] == len(text)


def test_truncation_keeps_first_254_pieces(long_text: str, embedder: LocalEmbedder) -> None:
    spans = embedder.tokenizer.piece_offsets(long_text)
    prefix = long_text[: spans[embedder.max_pieces - 1][1]]
    assert len(embedder.tokenizer.piece_offsets(prefix)) == embedder.max_pieces
    full, head = embedder.embed_array([long_text, prefix])
    np.testing.assert_allclose(full, head, atol=1e-6)
    # The cut is exactly at 254 pieces: 255 pieces give the same vector, 253 do not.
    one_more = long_text[: spans[embedder.max_pieces][1]]
    one_less = long_text[: spans[embedder.max_pieces - 2][1]]
    vec_more, vec_less = embedder.embed_array([one_more, one_less])
    np.testing.assert_allclose(vec_more, head, atol=1e-6)
    assert np.abs(vec_less - head).max() > 1e-4


def test_no_fixed_padding(embedder: LocalEmbedder) -> None:
    """A text's vector does not depend on the other texts in its batch (padding masked out)."""
    alone = embedder.embed_array(["Hello world"])[0]
    with_long = embedder.embed_array(["Hello world", "stock market " * 200])[0]
    np.testing.assert_allclose(with_long, alone, atol=1e-6)


def test_sha256_mismatch_is_refused(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(default_model_dir(), model_dir)
    weights = model_dir / "model.safetensors"
    with weights.open("r+b") as fh:  # flip one byte in the tensor data
        fh.seek(-1000, 2)
        byte = fh.read(1)
        fh.seek(-1000, 2)
        fh.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(EmbedderUnavailableError, match="sha256") as info:
        LocalEmbedder(model_dir=model_dir)
    assert WEIGHTS_SHA256 in str(info.value)
    assert "uv sync" in str(info.value)


def test_missing_model_files(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match=r"model\.safetensors.*uv sync"):
        LocalEmbedder(model_dir=tmp_path)
    with pytest.raises(EmbedderUnavailableError, match=r"tokenizer\.json"):
        WordPieceTokenizer(model_dir=tmp_path)


def test_pinned_hash_matches_package() -> None:
    weights = default_model_dir() / "model.safetensors"
    assert local_embedder.sha256_of(weights) == WEIGHTS_SHA256


def test_rejects_single_string(embedder: LocalEmbedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("not a list")
    with pytest.raises(TypeError):
        embedder.embed_array("not a list")


def test_token_vectors_are_what_the_endpoint_returns_and_pool_to_the_embedding(
    embedder: LocalEmbedder,
) -> None:
    """feature-extraction's per-token output, mean-pooled (pure Python, as on the SageMaker
    path), is the sentence vector."""
    from alex.domain.pooling import mean_pool_normalise

    texts = ["Northwind raised guidance.", "Kurz: Umsatz +5 % im dritten Quartal."]
    for text, expected in zip(texts, embedder.embed(texts), strict=True):
        (tokens,) = embedder.token_vectors([text])
        assert (
            tokens.shape[1] == 384
            and tokens.shape[0] == len(embedder.tokenizer.piece_offsets(text)) + 2
        )
        pooled = mean_pool_normalise(tokens.tolist())
        np.testing.assert_allclose(pooled, expected, atol=1e-5)
    long_text = "revenue " * 600
    (cut,) = embedder.token_vectors([long_text], max_tokens=512)
    assert cut.shape == (512, 384)


def test_vendored_tokenizer_is_the_packaged_one_and_pinned() -> None:
    """The cloud path counts pieces with the vendored file: it must be the model's own."""
    from alex.adapters.local_embedder import default_model_dir
    from alex.adapters.wordpiece import TOKENIZER_SHA256, VENDORED_DIR

    vendored = (VENDORED_DIR / "tokenizer.json").read_bytes()
    assert vendored == (default_model_dir() / "tokenizer.json").read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == TOKENIZER_SHA256
