"""The use cases on the real local model and store: idempotence, atomic replace, hybrid search."""

from __future__ import annotations

import json

import pytest

from alex.domain.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from alex.domain.validation import document_id_for
from alex.ingest import IngestRequest
from alex.services import Services
from tests.conftest import FIXTURES

TOP = 3


def test_same_document_twice_is_stored_once(services: Services) -> None:
    first = services.ingest.ingest("Alpha Corp raised its dividend by 7%.", {"ticker": "ALPH"})
    second = services.ingest.ingest("Alpha Corp raised its dividend by 7%.", {"ticker": "ALPH"})
    assert first.document_id == second.document_id
    assert (first.status, second.status) == ("created", "unchanged")
    assert services.documents.count() == (1, 1)


def test_new_metadata_for_the_same_text_updates_without_duplicating(services: Services) -> None:
    services.ingest.ingest("Beta Inc. cut guidance.", {"ticker": "BETA"})
    result = services.ingest.ingest("Beta Inc. cut guidance.", {"ticker": "BETA", "topic": "x"})
    assert result.status == "updated"
    assert services.documents.get(result.document_id).metadata == {"ticker": "BETA", "topic": "x"}
    assert services.documents.count() == (1, 1)


def test_changed_text_under_the_same_id_replaces_every_chunk(services: Services) -> None:
    long_v1 = " ".join(f"Version one sentence {i} about widgets and gadgets." for i in range(150))
    first = services.ingest.ingest(long_v1, {"v": 1}, "report.md")
    assert first.chunks > 2
    second = services.ingest.ingest("Version two is short: sprockets only.", {"v": 2}, "report.md")
    assert second.document_id == first.document_id and second.status == "updated"
    assert services.documents.count() == (1, 1)
    assert services.search.search("widgets and gadgets", 5, "keyword") == []
    hits = services.search.search("sprockets", 5, "keyword")
    assert [h.document_id for h in hits] == [first.document_id]
    assert services.documents.check_integrity() == []


def test_batch_validates_everything_before_storing_anything(services: Services) -> None:
    good = IngestRequest("A good document.", {})
    with pytest.raises(InvalidInputError, match="document 1: 'text' is empty"):
        services.ingest.ingest_many([good, IngestRequest("   ", {})])
    assert services.documents.count() == (0, 0)
    results = services.ingest.ingest_many([good, IngestRequest("Another one.", {"a": [1, 2]})])
    assert [r.status for r in results] == ["created", "created"]


def test_text_the_model_cannot_read_is_refused_before_anything_is_stored(
    services: Services,
) -> None:
    invisible = "\u200b\u200b\u200b"  # zero-width spaces: not whitespace, but no word pieces
    with pytest.raises(InvalidInputError, match="document 1: 'text' has no words"):
        services.ingest.ingest_many([IngestRequest("Fine text."), IngestRequest(invisible)])
    assert services.documents.count() == (0, 0)


def test_a_batch_that_fails_in_planning_changes_no_stored_metadata(services: Services) -> None:
    """Planning (the metadata refresh included) finishes before the first write."""
    stored = services.ingest.ingest("Gamma Ltd. beat estimates.", {"ticker": "GAMA"})
    newer = IngestRequest("Gamma Ltd. beat estimates.", {"ticker": "GAMA", "note": "new"})
    with pytest.raises(InvalidInputError, match="document 1: 'text' has no words"):
        services.ingest.ingest_many([newer, IngestRequest("\u200b\u200b")])
    assert services.documents.get(stored.document_id).metadata == {"ticker": "GAMA"}


def test_progress_reaches_the_total(services: Services) -> None:
    seen: list[tuple[int, int]] = []
    services.ingest.ingest("Already here.")
    requests = [IngestRequest("Already here.")] + [
        IngestRequest(" ".join(f"Doc {n} sentence {i} about rates." for i in range(60)))
        for n in range(6)
    ]
    services.ingest.ingest_many(requests, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (1, 7) and seen[-1] == (7, 7)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_limits_are_enforced(services: Services) -> None:
    with pytest.raises(PayloadTooLargeError):
        services.ingest.ingest("x" * (services.ingest.limits.max_text_chars + 1))
    with pytest.raises(InvalidInputError, match="word pieces"):
        services.search.search("word " * 300, 5, "semantic")
    assert services.documents.count() == (0, 0)


def test_delete_and_not_found(services: Services) -> None:
    result = services.ingest.ingest("Gamma plc listed in London.")
    services.documents.delete(result.document_id)
    with pytest.raises(NotFoundError):
        services.documents.get(result.document_id)
    with pytest.raises(NotFoundError):
        services.documents.delete(result.document_id)


def test_filters_narrow_every_mode(services: Services) -> None:
    services.ingest.ingest("Rates fell and banks rallied.", {"ticker": "BANK", "topic": "macro"})
    services.ingest.ingest("Rates fell and builders rallied.", {"ticker": "HOME", "topic": "macro"})
    for mode in ("semantic", "keyword", "hybrid"):
        hits = services.search.search("rates fell", 5, mode, {"ticker": "HOME"})
        assert [h.metadata["ticker"] for h in hits] == ["HOME"], mode


@pytest.fixture
def hybrid_corpus(services: Services) -> dict[str, object]:
    corpus = json.loads((FIXTURES / "hybrid_corpus.json").read_text("utf-8"))
    services.ingest.ingest_many(
        [IngestRequest(d["text"], d["metadata"], d["id"]) for d in corpus["documents"]]
    )
    return corpus


def _ranked(services: Services, query: str, mode: str) -> list[str]:
    return [h.document_id for h in services.search.search(query, TOP, mode)]


def test_hybrid_finds_the_number_semantic_misses(services: Services, hybrid_corpus: dict) -> None:  # type: ignore[type-arg]
    for case in hybrid_corpus["semantic_misses"]:
        expected = document_id_for("", case["expected"])
        assert expected not in _ranked(services, case["query"], "semantic"), case
        assert _ranked(services, case["query"], "keyword")[0] == expected
        assert _ranked(services, case["query"], "hybrid")[0] == expected


def test_hybrid_finds_the_paraphrase_keyword_misses(
    services: Services, hybrid_corpus: dict
) -> None:  # type: ignore[type-arg]
    for case in hybrid_corpus["keyword_misses"]:
        expected = document_id_for("", case["expected"])
        assert expected not in _ranked(services, case["query"], "keyword"), case
        assert _ranked(services, case["query"], "semantic")[0] == expected
        assert expected in _ranked(services, case["query"], "hybrid")


def test_hybrid_puts_exact_identifiers_first(services: Services, hybrid_corpus: dict) -> None:  # type: ignore[type-arg]
    for case in hybrid_corpus["identifiers"]:
        assert _ranked(services, case["query"], "hybrid")[0] == document_id_for(
            "", case["expected"]
        )
