"""The fakes are faithful: one ingest-and-search scenario gives the same answers on the
in-memory fakes as on the real model and SQLite store (the contract suite,
tests/unit/test_vector_store_contract.py, pins each store on its own).

Compared: every ingest status and chunk count (same tokenizer and chunker), what is stored
and listed, filters, deletion, and which document keyword search finds for an identifier.
Vectors and scores are not compared: the fake embedder is not the model.
"""

from __future__ import annotations

from typing import Any

from alex.ingest import IngestRequest
from alex.services import Services

LONG = " ".join(f"Sentence {n} of the Corvane annual report on sensor margins." for n in range(120))


def scenario(services: Services) -> dict[str, Any]:
    ingest, documents, search = services.ingest, services.documents, services.search
    first = ingest.ingest_many(
        [
            IngestRequest(LONG, {"ticker": "CRVN", "year": 2025}, "corvane-annual"),
            IngestRequest("Northwind ticker NWND beat estimates.", {"ticker": "NWND"}, "nw"),
            IngestRequest("Rates fell and banks rallied.", {"topic": "macro", "flag": True}),
            IngestRequest(
                "Filing ZXQW-7 names a new auditor.", {"tags": ["audit", 7], "flag": True}
            ),
        ]
    )
    again = [
        ingest.ingest(LONG, {"ticker": "CRVN", "year": 2025}, "corvane-annual"),  # unchanged
        ingest.ingest("Northwind ticker NWND beat estimates.", {"ticker": "NWND", "q": 3}, "nw"),
        ingest.ingest("Northwind ticker NWND missed estimates.", {"ticker": "NWND"}, "nw"),
    ]
    rates = first[2].document_id
    documents.delete(rates)
    listed, total = documents.list_documents(50, 0, None)
    return {
        "results": [(r.document_id, r.status, r.chunks) for r in first + again],
        "count": documents.count(),
        "listed": sorted((d.id, d.chunk_count, d.chars, list(d.metadata.items())) for d in listed),
        "total": total,
        "texts": {d.id: documents.get(d.id).text for d in listed},
        "filtered": {
            str(filters): sorted(d.id for d in documents.list_documents(50, 0, filters)[0])
            for filters in (
                {"ticker": "CRVN"},
                {"year": 2025.0},
                {"tags": 7},
                {"flag": True},
                {"flag": 1},
            )
        },
        "zxqw": search.search("ZXQW-7", 3, "keyword")[0].document_id,
        "nwnd": {h.document_id for h in search.search("NWND", 5, "keyword")},
        "deleted": [h.document_id for h in search.search("banks rallied", 5, "keyword")],
        "integrity": documents.check_integrity(),
    }


def test_the_fakes_answer_the_scenario_as_the_real_stack(
    fake_services: Services, services: Services
) -> None:
    on_fakes, on_real = scenario(fake_services), scenario(services)
    assert on_fakes == on_real
    statuses = [status for _, status, _ in on_real["results"]]
    assert statuses == ["created"] * 4 + ["unchanged", "updated", "updated"]
    assert on_real["results"][0][2] > 2  # the long report is several chunks on both
    assert on_real["deleted"] == [] and on_real["integrity"] == []
