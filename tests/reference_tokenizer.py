"""The ``tokenizers`` (Rust) tokenizer of all-MiniLM-L6-v2: the reference that Alex's own
pure-Python WordPiece (``alex.adapters.wordpiece``) is tested against. Test-only: Alex itself
does not depend on ``tokenizers``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from alex.adapters.wordpiece import MAX_SEQ_LENGTH, TOKENIZER_FILE, VENDORED_DIR


class ReferenceTokenizer:
    """The tokenizer without the file's 128-token truncation and padding."""

    def __init__(self, model_dir: Path | None = None) -> None:
        """``model_dir`` holds a ``tokenizer.json``; by default the vendored, pinned one."""
        path = (VENDORED_DIR if model_dir is None else Path(model_dir)) / TOKENIZER_FILE
        try:
            # No truncation, no padding (tokenizer.json has both at 128), as Alex's own.
            self._pieces = Tokenizer.from_file(str(path))
            self._pieces.no_truncation()
            self._pieces.no_padding()
            cls_id, sep_id = self._pieces.token_to_id("[CLS]"), self._pieces.token_to_id("[SEP]")
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise ValueError(f"Cannot read tokenizer {path}: {exc}") from exc
        if cls_id is None or sep_id is None:
            raise ValueError(f"{path} has no [CLS]/[SEP] tokens")
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
