from __future__ import annotations

from dataclasses import replace

import pytest

from alex.domain.errors import InvalidInputError, PayloadTooLargeError
from alex.domain.fusion import content_words, coverage, hybrid_fusion
from alex.domain.models import ChunkHit
from alex.domain.validation import (
    Limits,
    document_id_for,
    validate_filters,
    validate_metadata,
    validate_query,
    validate_text,
)

LIMITS = Limits(max_text_chars=100)


@pytest.mark.parametrize("text", ["", "   \n\t", None, 42, ["a"]])
def test_text_must_be_a_non_empty_string(text: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_text(text, LIMITS)


def test_text_over_the_limit_is_too_large() -> None:
    with pytest.raises(PayloadTooLargeError, match="101 characters"):
        validate_text("x" * 101, LIMITS)


@pytest.mark.parametrize(
    "metadata",
    [
        [1, 2],
        "ticker",
        {"nested": {"a": 1}},
        {"list": [{"a": 1}]},
        {"bad key!": 1},
        {"nan": float("nan")},
        {"k" * 65: 1},
    ],
)
def test_metadata_must_be_an_object_of_scalars_or_lists(metadata: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_metadata(metadata, LIMITS)


def test_good_metadata_passes_unchanged() -> None:
    metadata = {
        "ticker": "AAPL",
        "tickers": ["AAPL", "MSFT"],
        "year": 2026,
        "ok": True,
        "ratio": 1.5,
        "none": None,
    }
    assert validate_metadata(metadata, LIMITS) == metadata
    assert validate_metadata(None, LIMITS) == {}


def test_filters_are_scalar_equality() -> None:
    assert validate_filters({"ticker": "AAPL", "year": 2026}) == {"ticker": "AAPL", "year": 2026}
    with pytest.raises(InvalidInputError):
        validate_filters({"ticker": ["AAPL"]})
    with pytest.raises(InvalidInputError):
        validate_filters({"ticker": None})


@pytest.mark.parametrize(
    ("query", "k", "mode"),
    [
        ("", 5, "hybrid"),
        ("q", 0, "hybrid"),
        ("q", 101, "hybrid"),
        ("q", True, "hybrid"),
        ("q", 5, "fuzzy"),
        (5, 5, "hybrid"),
    ],
)
def test_bad_queries_are_refused(query: object, k: object, mode: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_query(query, k, mode, Limits())


def test_document_ids_are_stable_and_keyed_by_caller_id_when_given() -> None:
    assert document_id_for("same text", None) == document_id_for("same text", None)
    assert document_id_for("text one", None) != document_id_for("text two", None)
    assert document_id_for("v1", "report.md") == document_id_for("v2", "report.md")
    assert document_id_for("v1", "report.md") != document_id_for("v1", None)


def _hit(doc: str, ordinal: int = 0, score: float = 0.0, text: str | None = None) -> ChunkHit:
    return ChunkHit(document_id=doc, chunk_ordinal=ordinal, text=text or doc, score=score)


def _order(hits: list[ChunkHit]) -> list[str]:
    return [hit.document_id for hit in hits]


def test_fusion_reproduces_the_worked_example_of_its_docstring() -> None:
    query = "Northwind gross margin"
    a = _hit("A", score=0.52, text="Northwind's gross margin rose to 61%.")
    b = _hit("B", score=0.61, text="The margin of safety in chips is thin.")
    c = _hit("C", score=0.66, text="Profitability at the chip maker improved.")
    keyword = [replace(a, score=8.0), replace(b, score=2.0)]
    fused = hybrid_fusion(query, [c, b, a], keyword, k=3, semantic_weight=0.6)
    assert _order(fused) == ["A", "B", "C"]
    assert [round(hit.score, 3) for hit in fused] == [0.712, 0.399, 0.396]


def test_a_strong_keyword_hit_is_not_buried_by_a_weak_semantic_list() -> None:
    """An identifier query: the chunk that contains it wins, though the semantic list ranks
    it low and ranks first a chunk that keyword search also found (rank fusion put that one
    first: 1/21 + 1/22 against 1/31 + 1/21)."""
    query = "CUSIP 912828ZT6"
    exact = _hit("exact", score=0.18, text="Holding CUSIP 912828ZT6 matures in 2030.")
    near = _hit("near", score=0.35, text="A CUSIP identifies a US security.")
    semantic = [near] + [_hit(f"s{n}", score=0.34 - n / 100) for n in range(9)] + [exact]
    keyword = [replace(exact, score=12.0), replace(near, score=6.0)]
    assert _order(hybrid_fusion(query, semantic, keyword, k=3))[0] == "exact"


def test_a_strong_semantic_hit_is_not_buried_by_weak_keyword_matches() -> None:
    """A paraphrase: a chunk that shares one common word with the query and is second in the
    semantic list does not outrank the chunk that answers in other words (rank fusion put it
    first: 1/22 + 1/21 against 1/21)."""
    query = "how indebted is the snack maker compared with its cash earnings"
    answer = _hit("answer", score=0.71, text="Net debt is 2.8 times adjusted EBITDA.")
    weak = _hit("weak", score=0.40, text="Cash flow for the quarter.")
    noise = [_hit(f"k{n}", score=8.0 - n, text=f"Cash note {n}.") for n in range(4)]
    keyword = [replace(weak, score=9.0), *noise]
    assert _order(hybrid_fusion(query, [answer, weak], keyword, k=3))[0] == "answer"


def test_agreement_between_the_lists_ranks_first() -> None:
    both = _hit("both", score=0.5, text="gross margin guidance")
    fused = hybrid_fusion(
        "gross margin guidance",
        [_hit("sem", score=0.55), both],
        [replace(both, score=5.0), _hit("kw", score=4.0, text="gross margin guidance")],
        k=3,
    )
    assert _order(fused)[0] == "both"


def test_fusion_with_one_empty_list_keeps_the_others_order() -> None:
    semantic = [_hit("a", score=0.9), _hit("b", score=0.5)]
    assert _order(hybrid_fusion("anything", semantic, [], k=5)) == ["a", "b"]
    keyword = [_hit("x", score=3.0, text="alpha beta"), _hit("y", score=1.0, text="alpha beta")]
    assert _order(hybrid_fusion("alpha beta", [], keyword, k=5)) == ["x", "y"]


def test_fusion_distinguishes_chunks_of_one_document() -> None:
    fused = hybrid_fusion("q", [_hit("a", 0, 0.5), _hit("a", 1, 0.4)], [], k=5)
    assert [(h.document_id, h.chunk_ordinal) for h in fused] == [("a", 0), ("a", 1)]


def test_coverage_counts_content_words_case_insensitively() -> None:
    words = content_words("What is the Gross MARGIN of NWSC?")
    assert words == {"gross", "margin", "nwsc"}
    assert coverage(words, "nwsc gross margin") == 1.0
    assert coverage(words, "the margin") == pytest.approx(1 / 3)
    assert coverage(frozenset(), "anything") == 0.0


def test_keyword_terms_drop_function_words_but_never_everything() -> None:
    from alex.domain.keywords import keyword_terms

    assert keyword_terms("What is the revenue of NWSC in 2024?") == ["revenue", "NWSC", "2024?"]
    assert keyword_terms("what is it") == ["what", "is", "it"]
    assert keyword_terms("  ?? ") == []


@pytest.mark.parametrize("bad", ["a\x00b", "lone \ud800 surrogate"])
def test_text_ids_queries_and_values_must_be_encodable(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="NUL character or an unpaired surrogate"):
        validate_text(bad, LIMITS)
    with pytest.raises(InvalidInputError):
        validate_query(bad, 5, "hybrid", Limits())
    with pytest.raises(InvalidInputError):
        validate_metadata({"k": bad}, LIMITS)
    with pytest.raises(InvalidInputError):
        validate_filters({"k": bad})


def test_integers_must_fit_sqlite() -> None:
    assert validate_metadata({"n": 2**63 - 1}, LIMITS) == {"n": 2**63 - 1}
    for huge in (2**63, -(2**63) - 1):
        with pytest.raises(InvalidInputError, match="64 bits"):
            validate_metadata({"n": huge}, LIMITS)
        with pytest.raises(InvalidInputError, match="64 bits"):
            validate_filters({"n": huge})
