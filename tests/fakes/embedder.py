"""An ``Embedder`` without a model: hashed bag of words, deterministic, in microseconds.

Texts that share content words get near vectors, so "the obviously related text first"
still holds on fakes; paraphrases without shared words do not (that needs the real model).
The tokenizer is Alex's own WordPiece, the one production uses, so chunking is identical.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Sequence
from functools import cache

from alex.adapters.minilm_tokenizer import MiniLMModel
from alex.adapters.wordpiece import WordPieceTokenizer
from alex.ports import Vectors
from tests.fakes.text import content_words


@cache
def shared_tokenizer() -> WordPieceTokenizer:
    """One tokenizer per test run (~60 ms to load; read-only once built)."""
    return WordPieceTokenizer()


@cache
def _slot(word: str, dimension: int) -> tuple[int, float]:
    """The dimension a word lands in and its sign (signed hashing: collisions cancel out)."""
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % dimension, 1.0 if value >> 63 else -1.0


class FakeEmbedder(MiniLMModel):
    """all-MiniLM-L6-v2's name, dimension, piece limit and tokenizer; hashed words as vectors."""

    def __init__(self) -> None:
        self._tokenizer = shared_tokenizer()
        self._lock = threading.Lock()
        self.texts_embedded = 0
        """How many texts were embedded (a skipped re-embedding shows here)."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            self.texts_embedded += len(texts)
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        values = [0.0] * self.dimension
        for word in content_words(text):
            slot, sign = _slot(word, self.dimension)
            values[slot] += sign
        norm = math.sqrt(sum(value * value for value in values))
        if norm == 0.0:
            # No content words: one fixed unit vector, as a model has some vector for anything.
            values[0], norm = 1.0, 1.0
        return [value / norm for value in values]
