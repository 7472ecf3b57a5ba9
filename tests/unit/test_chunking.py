"""Chunks fit the model (<= max word pieces), cover the text, overlap, and end on sentences."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alex.adapters.wordpiece import WordPieceTokenizer
from alex.domain.chunking import Chunker, ChunkingPolicy

TOKENIZER = WordPieceTokenizer()
WORDS = [
    *("revenue", "margin", "guidance", "ticker", "NWSC", "dividend", "yield", "inflation"),
    *("Übernahme", "supercalifragilistic", "4.82%", "$1.2bn", "株式", "emoji🙂", "rate-cut"),
]


def sentence(index: int) -> str:
    return f"Sentence {index} says the company grew revenue {index}% while margins held steady."


def test_short_text_is_one_chunk_trimmed() -> None:
    chunks = Chunker(TOKENIZER).split("  Apple makes phones.  \n")
    assert [c.text for c in chunks] == ["Apple makes phones."]


def test_whitespace_only_text_has_no_chunks() -> None:
    assert Chunker(TOKENIZER).split(" \n\t ") == []


def test_long_text_chunks_fit_and_cover_every_sentence() -> None:
    text = " ".join(sentence(i) for i in range(200))
    chunker = Chunker(TOKENIZER, ChunkingPolicy(max_pieces=254, overlap_pieces=32))
    chunks = chunker.split(text)
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunker.count_pieces(chunk.text) <= 254
        assert text[chunk.start : chunk.end] == chunk.text
        # Sentence boundaries: every chunk starts a sentence and ends one.
        assert chunk.text.startswith("Sentence ")
        assert chunk.text.endswith(".")
    joined = " ".join(c.text for c in chunks)
    for i in range(200):
        assert sentence(i) in joined
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_consecutive_chunks_overlap_by_at_most_the_budget() -> None:
    text = " ".join(sentence(i) for i in range(120))
    chunker = Chunker(TOKENIZER, ChunkingPolicy(max_pieces=128, overlap_pieces=40))
    chunks = chunker.split(text)
    for previous, current in itertools.pairwise(chunks):
        assert current.start < previous.end, "chunks must overlap"
        overlap = text[current.start : previous.end]
        assert 0 < chunker.count_pieces(overlap) <= 40


def test_paragraph_boundaries_are_preferred() -> None:
    paragraph = " ".join(f"word{i}" for i in range(60))
    text = "\n\n".join(f"Para {n}: {paragraph}" for n in range(8))
    chunks = Chunker(TOKENIZER, ChunkingPolicy(max_pieces=254, overlap_pieces=0)).split(text)
    for chunk in chunks:
        assert chunk.text.startswith("Para ")


def test_a_sentence_longer_than_the_limit_is_split_not_truncated() -> None:
    giant = " ".join(f"token{i}" for i in range(2000))  # no sentence boundary at all
    chunker = Chunker(TOKENIZER, ChunkingPolicy(max_pieces=254, overlap_pieces=0))
    chunks = chunker.split(giant)
    assert all(chunker.count_pieces(c.text) <= 254 for c in chunks)
    words = " ".join(c.text for c in chunks).split()
    assert words == giant.split(), "every word kept once, in order, none cut in half"


@pytest.mark.parametrize("max_pieces", [4, 300])
def test_policy_rejects_nonsense(max_pieces: int) -> None:
    with pytest.raises(ValueError):
        ChunkingPolicy(max_pieces=max_pieces, overlap_pieces=200)


text_strategy = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.sampled_from([".", "!", "?", "\n\n", "\n- ", ";", "。"]),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    ),
    max_size=900,
).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy, max_pieces=st.integers(16, 254), overlap=st.integers(0, 7))
def test_property_every_chunk_fits_and_no_word_is_lost(
    text: str, max_pieces: int, overlap: int
) -> None:
    chunker = Chunker(TOKENIZER, ChunkingPolicy(max_pieces=max_pieces, overlap_pieces=overlap))
    chunks = chunker.split(text)
    for chunk in chunks:
        assert chunker.count_pieces(chunk.text) <= max_pieces
        assert text[chunk.start : chunk.end] == chunk.text
    # Every word piece of the text lies inside some chunk: nothing silently dropped.
    covered = [(c.start, c.end) for c in chunks]
    for start, end in TOKENIZER.piece_offsets(text):
        assert any(s <= start and end <= e for s, e in covered), (start, end, text[start:end])


def test_boundary_regex_does_not_split_decimals() -> None:
    text = "Revenue was $4.82 billion. Margin was 61.3%. " * 80
    chunks = Chunker(TOKENIZER, ChunkingPolicy(max_pieces=64, overlap_pieces=0)).split(text)
    for chunk in chunks:
        assert not re.match(r"^\d", chunk.text), chunk.text[:20]
