"""Retrieval quality on bench/eval: recall@5, MRR and nDCG@10 per mode and per query kind,
against the course project's method, and a sweep over chunk size, overlap and fusion.

The queries are split in two halves (``split_queries``: alternate queries of each kind, in id
order): defaults are chosen on the tuning half only, and the held-out half says whether the
choice generalises. Both are reported; neither is ever tuned on alone.

Documents are ranked by their best chunk. Relevance is graded (2 answers the query, 1 is
related): recall@5 counts documents of grade >= 1, MRR is the reciprocal rank of the first
grade-2 document, nDCG@10 uses gains 2^grade - 1. Questions with no answer are scored apart:
a search always returns something, so what matters is whether their best score is lower.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

EVAL = Path(__file__).parent / "eval"
KINDS = ("paraphrase", "identifier", "deep_fact", "multi")


@dataclass(frozen=True)
class Config:
    max_pieces: int = 254
    overlap: int = 16
    semantic_weight: float = 0.6
    candidates_factor: int = 4

    def label(self) -> str:
        return (
            f"chunk {self.max_pieces}/overlap {self.overlap}, "
            f"semantic weight {self.semantic_weight:g}, x{self.candidates_factor}"
        )


def load_eval() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    documents = [
        json.loads(line)
        for path in sorted(EVAL.glob("corpus_*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    queries = [
        q
        for path in sorted(EVAL.glob("queries_*.json"))
        for q in json.loads(path.read_text("utf-8"))
    ]
    return documents, queries


def split_queries(
    queries: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tuning, held-out): alternate queries of each kind, in id order, so both halves hold
    every kind in the same proportion."""
    tuning: list[dict[str, Any]] = []
    held_out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for query in sorted(queries, key=lambda q: str(q["id"])):
        kind = str(query["kind"])
        (tuning if seen.get(kind, 0) % 2 == 0 else held_out).append(query)
        seen[kind] = seen.get(kind, 0) + 1
    return tuning, held_out


class CachingEmbedder:
    """The real embedder, remembering vectors by text: the sweep re-embeds the same chunks."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[str, Sequence[float]] = {}
        self.model_name, self.dimension = inner.model_name, inner.dimension
        self.max_pieces, self.tokenizer = inner.max_pieces, inner.tokenizer

    def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return [self.cache[t] for t in texts]


def metrics(ranked: list[str], relevant: dict[str, int]) -> dict[str, float]:
    related = {doc for doc, grade in relevant.items() if grade >= 1}
    answers = {doc for doc, grade in relevant.items() if grade >= 2}
    recall = len(related & set(ranked[:5])) / len(related)
    mrr = next((1 / rank for rank, doc in enumerate(ranked, 1) if doc in answers), 0.0)
    dcg = sum(
        (2 ** relevant.get(doc, 0) - 1) / math.log2(rank + 1)
        for rank, doc in enumerate(ranked[:10], 1)
    )
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(ideal, 1))
    return {"recall@5": recall, "mrr": mrr, "ndcg@10": dcg / idcg}


def documents_in_order(hits: Sequence[Any], id_of: dict[str, str]) -> list[str]:
    ranked: list[str] = []
    for hit in hits:
        doc = id_of[hit.document_id]
        if doc not in ranked:
            ranked.append(doc)
    return ranked


def summarise(per_query: list[tuple[dict[str, Any], dict[str, float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in ("recall@5", "mrr", "ndcg@10"):
        out[name] = statistics.mean(m[name] for _, m in per_query)
        for kind in KINDS:
            values = [m[name] for q, m in per_query if q["kind"] == kind]
            if values:
                out[f"{name} {kind}"] = statistics.mean(values)
    return out


_STORES: dict[tuple[int, int], tuple[Any, dict[str, str]]] = {}


def indexed(
    config: Config, embedder: Any, documents: list[dict[str, Any]]
) -> tuple[Any, dict[str, str]]:
    """The eval corpus ingested with this config's chunking (kept for configs that share it)."""
    from alex.adapters.sqlite_store import SqliteStore
    from alex.domain.chunking import Chunker, ChunkingPolicy
    from alex.domain.validation import document_id_for
    from alex.ingest import IngestRequest, IngestService

    key = (config.max_pieces, config.overlap)
    if key not in _STORES:
        folder = Path(tempfile.mkdtemp(prefix="alex-eval-"))
        store = SqliteStore(folder / "eval.sqlite3", embedder.dimension, embedder.model_name)
        ingest = IngestService(embedder, store, overlap_pieces=config.overlap)
        ingest.chunker = Chunker(
            embedder.tokenizer, ChunkingPolicy(config.max_pieces, config.overlap)
        )
        ingest.ingest_many([IngestRequest(d["text"], d["metadata"], d["id"]) for d in documents])
        store.warm_up()  # as `alex serve` does: keyword search from the in-memory index
        _STORES[key] = store, {document_id_for("", d["id"]): d["id"] for d in documents}
    return _STORES[key]


def evaluate(
    config: Config,
    embedder: Any,
    documents: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    modes: Sequence[str] = ("semantic", "keyword", "hybrid"),
) -> dict[str, dict[str, float]]:
    from alex.search import HybridPolicy, SearchService

    store, id_of = indexed(config, embedder, documents)
    policy = HybridPolicy(
        semantic_weight=config.semantic_weight, candidates_factor=config.candidates_factor
    )
    search = SearchService(embedder, store, hybrid=policy)
    results: dict[str, dict[str, float]] = {}
    answerable = [q for q in queries if q["relevant"]]
    for mode in modes:
        per_query = []
        for query in answerable:
            hits = search.search(query["query"], 50, mode)
            per_query.append((query, metrics(documents_in_order(hits, id_of), query["relevant"])))
        results[mode] = summarise(per_query)
    if "semantic" in modes:
        # Best semantic score for questions with no answer, against answerable ones.
        best = {q["id"]: search.search(q["query"], 1, "semantic")[0].score for q in queries}
        results["semantic"]["top score, no-answer"] = statistics.mean(
            best[q["id"]] for q in queries if not q["relevant"]
        )
        results["semantic"]["top score, answerable"] = statistics.mean(
            best[q["id"]] for q in answerable
        )
    return results


def course_baseline(
    embedder: Any, documents: list[dict[str, Any]], queries: list[dict[str, Any]]
) -> dict[str, float]:
    """The course project's method: one vector per whole document, the first token's output
    (CLS, not pooled), the text truncated at 512 tokens as the endpoint requires; cosine."""

    def cls_vectors(texts: list[str], max_tokens: int) -> np.ndarray:
        hidden = embedder.inner.token_vectors(texts, max_tokens=max_tokens)
        vectors = np.stack([h[0] for h in hidden]).astype(np.float64)
        normalised: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return normalised

    doc_vectors = cls_vectors([d["text"] for d in documents], 512)
    answerable = [q for q in queries if q["relevant"]]
    query_vectors = cls_vectors([q["query"] for q in answerable], 512)
    scores = query_vectors @ doc_vectors.T
    per_query = []
    for row, query in enumerate(answerable):
        ranked = [documents[i]["id"] for i in np.argsort(-scores[row])]
        per_query.append((query, metrics(ranked, query["relevant"])))
    return summarise(per_query)


SWEEP = [
    Config(),
    Config(semantic_weight=0.4),
    Config(semantic_weight=0.5),
    Config(semantic_weight=0.7),
    Config(semantic_weight=0.8),
    Config(candidates_factor=2),
    Config(candidates_factor=10),
    Config(max_pieces=128, overlap=0),
    Config(max_pieces=128, overlap=16),
    Config(max_pieces=192, overlap=32),
    Config(max_pieces=254, overlap=0),
    Config(max_pieces=254, overlap=64),
]


def run_quality(sweep: bool = True) -> dict[str, Any]:
    from alex.adapters.local_embedder import LocalEmbedder

    documents, queries = load_eval()
    tuning, held_out = split_queries(queries)
    embedder = CachingEmbedder(LocalEmbedder())
    report: dict[str, Any] = {
        "documents": len(documents),
        "queries": len(queries),
        "no_answer_queries": sum(not q["relevant"] for q in queries),
        "tuning_queries": len(tuning),
        "held_out_queries": len(held_out),
    }
    report["default"] = evaluate(Config(), embedder, documents, queries)
    report["tuning"] = evaluate(Config(), embedder, documents, tuning)
    report["held_out"] = evaluate(Config(), embedder, documents, held_out)
    report["course_baseline"] = course_baseline(embedder, documents, queries)
    if sweep:
        rows = []
        for config in SWEEP:
            row: dict[str, Any] = {"config": config.label()}
            for half, chosen in (("tuning", tuning), ("held-out", held_out)):
                hybrid = evaluate(config, embedder, documents, chosen, modes=("hybrid",))["hybrid"]
                row[f"{half} ndcg@10"] = hybrid["ndcg@10"]
            rows.append(row)
        report["sweep"] = rows
    return report


if __name__ == "__main__":
    print(json.dumps(run_quality(), indent=2))
