"""What every all-MiniLM-L6-v2 embedder (local or endpoint) shares with the Embedder port.

Both use Alex's own WordPiece tokenizer (``alex.adapters.wordpiece``, pure Python, the same
pieces and offsets as Hugging Face's ``tokenizers``), so chunking and the embedder count
word pieces identically everywhere, Lambda included.
"""

from __future__ import annotations

from alex.adapters.wordpiece import MAX_SEQ_LENGTH, WordPieceTokenizer
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL

__all__ = ["MAX_SEQ_LENGTH", "MiniLMModel"]


class MiniLMModel:
    """What every all-MiniLM-L6-v2 embedder (local or endpoint) shares with the Embedder port."""

    _tokenizer: WordPieceTokenizer

    @property
    def model_name(self) -> str:
        return EMBEDDING_MODEL

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIMENSION

    @property
    def max_pieces(self) -> int:
        """Word pieces embedded per text, without truncation: 256 minus [CLS] and [SEP]."""
        return MAX_SEQ_LENGTH - 2

    @property
    def tokenizer(self) -> WordPieceTokenizer:
        return self._tokenizer
