"""Hybrid search on the real local model and store: what each mode finds that the other misses.

The other use-case tests run on the in-memory fakes (tests/unit/test_ingest_search.py); these
are about the real model's ranking, so they load it.
"""

from __future__ import annotations

import json

import pytest

from alex.domain.validation import document_id_for
from alex.ingest import IngestRequest
from alex.services import Services
from tests.conftest import FIXTURES

TOP = 3


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
