"""The one interface the domain needs from outside: something that finds word pieces.

It lives here, not in ``alex.ports`` (which re-exports it), so that the domain's chunker
depends on nothing outside the domain.
"""

from __future__ import annotations

from typing import Protocol


class Tokenizer(Protocol):
    """Counts and locates word pieces, so chunks fit the model without truncation."""

    def piece_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each word piece of ``text`` (no special tokens)."""
        ...
