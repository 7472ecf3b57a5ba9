"""The ingest, search and document use cases on the in-memory fakes: idempotence, atomic
replace, batch validation, limits, delete, filters, progress. Ranking quality with the real
model is in tests/functional/test_hybrid_search.py.
"""

from __future__ import annotations

import pytest

from alex.domain.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from alex.ingest import IngestRequest
from alex.services import Services
from tests.fakes import FakeEmbedder


@pytest.fixture
def services(fake_services: Services) -> Services:
    return fake_services


def test_same_document_twice_is_stored_once(services: Services) -> None:
    first = services.ingest.ingest("Alpha Corp raised its dividend by 7%.", {"ticker": "ALPH"})
    second = services.ingest.ingest("Alpha Corp raised its dividend by 7%.", {"ticker": "ALPH"})
    assert first.document_id == second.document_id
    assert (first.status, second.status) == ("created", "unchanged")
    assert services.documents.count() == (1, 1)


def test_only_new_or_changed_text_is_embedded(services: Services) -> None:
    embedder = services.embedder
    assert isinstance(embedder, FakeEmbedder)
    services.ingest.ingest("Delta Co. opened a plant.", {"ticker": "DLT"}, "delta")
    assert embedder.texts_embedded == 1
    services.ingest.ingest("Delta Co. opened a plant.", {"ticker": "DLT"}, "delta")
    services.ingest.ingest("Delta Co. opened a plant.", {"ticker": "DLTA"}, "delta")
    assert embedder.texts_embedded == 1  # unchanged, then a metadata-only update
    services.ingest.ingest("Delta Co. opened two plants.", {"ticker": "DLTA"}, "delta")
    assert embedder.texts_embedded == 2


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
