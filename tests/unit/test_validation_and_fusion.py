from __future__ import annotations

import pytest

from alex.domain.errors import InvalidInputError, PayloadTooLargeError
from alex.domain.fusion import reciprocal_rank_fusion
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


def _hit(doc: str, ordinal: int = 0) -> ChunkHit:
    return ChunkHit(document_id=doc, chunk_ordinal=ordinal, text=doc, score=0.0)


def test_rrf_rewards_agreement_and_keeps_singletons() -> None:
    semantic = [_hit("a"), _hit("b"), _hit("c")]
    keyword = [_hit("c"), _hit("d"), _hit("a")]
    fused = reciprocal_rank_fusion([semantic, keyword], k=4, rrf_k=60)
    assert [h.document_id for h in fused] == ["a", "c", "b", "d"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)
    assert fused[2].score == pytest.approx(1 / 62)


def test_rrf_distinguishes_chunks_of_one_document() -> None:
    fused = reciprocal_rank_fusion([[_hit("a", 0), _hit("a", 1)]], k=5)
    assert [(h.document_id, h.chunk_ordinal) for h in fused] == [("a", 0), ("a", 1)]


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
