"""Split text into chunks the embedding model takes whole.

Chunks are contiguous spans of the original text that end on paragraph or sentence
boundaries where possible, hold at most ``max_pieces`` word pieces (so nothing is ever
truncated by the model) and overlap their predecessor by up to ``overlap_pieces``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from alex.domain.models import StoredChunk
from alex.domain.tokenizer import Tokenizer

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\n(?=[ \t]*(?:[-*#>]|\d+[.)])[ \t])")
# A sentence ends at . ! ? followed by space (not inside "4.82"), or at a CJK full stop.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])")


# Chosen on bench/eval (docs/performance.md): 0-16 pieces of overlap scored best; 16 keeps a
# little context across a boundary. Chunks end on sentences, so overlap matters less here.
CHUNK_OVERLAP = 16


@dataclass(frozen=True, slots=True)
class ChunkingPolicy:
    max_pieces: int = 254
    overlap_pieces: int = CHUNK_OVERLAP

    def __post_init__(self) -> None:
        if self.max_pieces < 8:
            raise ValueError("max_pieces must be at least 8")
        if not 0 <= self.overlap_pieces < self.max_pieces // 2:
            raise ValueError("overlap_pieces must be from 0 to half of max_pieces")


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int  # character offsets into the text
    end: int
    pieces: int


def _spans(text: str, pattern: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of ``text[start:end]`` between matches, trimmed of whitespace."""
    spans: list[tuple[int, int]] = []
    position = start
    for match in pattern.finditer(text, start, end):
        spans.append((position, match.start()))
        position = max(position, match.end())
    spans.append((position, end))
    trimmed = []
    for left, right in spans:
        segment = text[left:right]
        stripped = segment.strip()
        if stripped:
            offset = left + len(segment) - len(segment.lstrip())
            trimmed.append((offset, offset + len(stripped)))
    return trimmed


class Chunker:
    def __init__(self, tokenizer: Tokenizer, policy: ChunkingPolicy | None = None) -> None:
        self._tokenizer = tokenizer
        self.policy = policy or ChunkingPolicy()

    def count_pieces(self, text: str) -> int:
        return len(self._tokenizer.piece_offsets(text))

    def split(self, text: str) -> list[StoredChunk]:
        offsets = self._tokenizer.piece_offsets(text)
        if not offsets:
            return []
        first, last = offsets[0][0], offsets[-1][1]
        if len(offsets) <= self.policy.max_pieces:
            return [StoredChunk(0, text[first:last], first, last)]
        starts = [start for start, _ in offsets]
        paragraphs = []
        for paragraph_start, paragraph_end in _spans(text, _PARAGRAPH_BREAK, 0, len(text)):
            units: list[_Unit] = []
            for start, end in _spans(text, _SENTENCE_BREAK, paragraph_start, paragraph_end):
                units.extend(self._fit_unit(start, end, offsets, starts))
            if units:
                paragraphs.append(units)
        return self._pack(text, paragraphs)

    def _pieces_between(self, starts: list[int], start: int, end: int) -> int:
        return bisect.bisect_left(starts, end) - bisect.bisect_left(starts, start)

    def _fit_unit(
        self, start: int, end: int, offsets: list[tuple[int, int]], starts: list[int]
    ) -> list[_Unit]:
        """A sentence as one unit, or cut at word starts if it alone is over the limit."""
        count = self._pieces_between(starts, start, end)
        if count == 0:
            return []
        if count <= self.policy.max_pieces:
            return [_Unit(start, end, count)]
        first = bisect.bisect_left(starts, start)
        stop = bisect.bisect_left(starts, end)
        units = []
        while first < stop:
            cut = min(first + self.policy.max_pieces, stop)
            if cut < stop:
                # Back off to a piece that starts a word, so no word is split across chunks.
                word_cut = cut
                while word_cut > first + 1 and offsets[word_cut][0] == offsets[word_cut - 1][1]:
                    word_cut -= 1
                if word_cut > first + 1:
                    cut = word_cut
            unit_end = offsets[cut - 1][1]
            units.append(_Unit(offsets[first][0], unit_end, cut - first))
            first = cut
        return units

    def _pack(self, text: str, paragraphs: list[list[_Unit]]) -> list[StoredChunk]:
        """Fill chunks with whole paragraphs; break inside one only when a chunk would stay
        under half full; start each chunk with the previous one's last sentences (overlap)."""
        limit = self.policy.max_pieces
        chunks: list[StoredChunk] = []
        current: list[_Unit] = []

        def close() -> list[_Unit]:
            chunks.append(self._emit(text, current, len(chunks)))
            return self._overlap(current)

        for paragraph in paragraphs:
            size = sum(unit.pieces for unit in paragraph)
            total = sum(unit.pieces for unit in current)
            if current and total + size > limit and total >= limit // 2:
                current = close()
            for unit in paragraph:
                if current and sum(u.pieces for u in current) + unit.pieces > limit:
                    current = close()
                    if sum(u.pieces for u in current) + unit.pieces > limit:
                        current = []
                current.append(unit)
        if current:
            chunks.append(self._emit(text, current, len(chunks)))
        return self._verified(text, chunks)

    def _overlap(self, units: list[_Unit]) -> list[_Unit]:
        """The trailing sentences of a closed chunk that fit the overlap budget."""
        carried: list[_Unit] = []
        budget = self.policy.overlap_pieces
        for unit in reversed(units):
            if unit.pieces > budget:
                break
            carried.insert(0, unit)
            budget -= unit.pieces
        return carried if len(carried) < len(units) else []

    @staticmethod
    def _emit(text: str, units: list[_Unit], ordinal: int) -> StoredChunk:
        start, end = units[0].start, units[-1].end
        return StoredChunk(ordinal, text[start:end], start, end)

    def _verified(self, text: str, chunks: list[StoredChunk]) -> list[StoredChunk]:
        """Re-count each chunk on its own: a span can tokenise differently out of context."""
        result: list[StoredChunk] = []
        for chunk in chunks:
            if self.count_pieces(chunk.text) <= self.policy.max_pieces:
                result.append(StoredChunk(len(result), chunk.text, chunk.start, chunk.end))
                continue
            offsets = [
                (chunk.start + s, chunk.start + e)
                for s, e in self._tokenizer.piece_offsets(chunk.text)
            ]
            middle = offsets[len(offsets) // 2][0]
            halves = [
                StoredChunk(0, text[chunk.start : middle].rstrip(), chunk.start, middle),
                StoredChunk(0, text[middle : chunk.end], middle, chunk.end),
            ]
            for half in self._verified(text, halves):
                end = half.start + len(half.text)
                result.append(StoredChunk(len(result), half.text, half.start, end))
        return result
