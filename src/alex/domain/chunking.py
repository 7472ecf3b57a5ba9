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
from alex.ports import Tokenizer

# A sentence ends at . ! ? (or their CJK forms) followed by space; a paragraph at a blank line.
_BOUNDARY = re.compile(
    r"\n\s*\n|(?<=[.!?;:])\s+|(?<=[\u3002\uff01\uff1f])|\n(?=\s*(?:[-*#>]|\d+[.)])\s)"
)


@dataclass(frozen=True, slots=True)
class ChunkingPolicy:
    max_pieces: int = 254
    overlap_pieces: int = 32

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


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _BOUNDARY.finditer(text):
        if match.start() > position:
            spans.append((position, match.start()))
        position = max(position, match.end())
    if position < len(text):
        spans.append((position, len(text)))
    # Trim whitespace so spans start and end on content.
    trimmed = []
    for start, end in spans:
        segment = text[start:end]
        left = len(segment) - len(segment.lstrip())
        right = len(segment.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
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
        units: list[_Unit] = []
        for start, end in _sentence_spans(text):
            units.extend(self._fit_unit(start, end, offsets, starts))
        return self._pack(text, units)

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

    def _pack(self, text: str, units: list[_Unit]) -> list[StoredChunk]:
        limit, overlap = self.policy.max_pieces, self.policy.overlap_pieces
        chunks: list[StoredChunk] = []
        current: list[_Unit] = []
        total = 0
        for unit in units:
            if current and total + unit.pieces > limit:
                chunks.append(self._emit(text, current, len(chunks)))
                # Carry trailing sentences into the next chunk, up to the overlap budget.
                carried: list[_Unit] = []
                carried_total = 0
                for previous in reversed(current):
                    if carried_total + previous.pieces > overlap:
                        break
                    carried.insert(0, previous)
                    carried_total += previous.pieces
                if carried_total + unit.pieces > limit:
                    carried, carried_total = [], 0
                current, total = carried, carried_total
            current.append(unit)
            total += unit.pieces
        if current:
            chunks.append(self._emit(text, current, len(chunks)))
        return self._verified(text, chunks)

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
