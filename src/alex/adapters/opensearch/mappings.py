"""The two indexes' settings and mappings, as created before the first write.

``<prefix>-chunks`` holds one doc per chunk (BM25 text, the Faiss HNSW vector, typed
metadata terms); ``<prefix>-documents`` one record per version of a document. The store
compares the live mappings with these before using an index.
"""

from __future__ import annotations

from typing import Any

from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL

Json = dict[str, Any]

# 2: words split as FTS5's unicode61 splits them (was the standard tokenizer).
SCHEMA_VERSION = "2"
ANALYZER = "alex_text"
# The separators of the ``pattern`` tokenizer (a Java regex): a word is a run of letters and
# digits, as FTS5's ``unicode61`` tokenizer makes it (token characters "L* N* Co",
# https://sqlite.org/fts5.html#unicode61_tokenizer). The ``standard`` tokenizer (UAX #29)
# keeps "Orvane's", "4.82", "7,342" and "net_income" whole, so "Orvane" would not match
# "Orvane's" in the cloud while it does locally.
# https://docs.opensearch.org/latest/analyzers/tokenizers/pattern/
WORD_SEPARATORS = r"[^\p{L}\p{N}]+"
TOKENIZER = "alex_words"


def chunk_index_body(
    dimension: int = EMBEDDING_DIMENSION, model_name: str = EMBEDDING_MODEL
) -> Json:
    """``PUT <prefix>-chunks``: the chunk index, created once before the first write."""
    return {
        "settings": {
            "index": {"knn": True},
            "analysis": {
                "tokenizer": {TOKENIZER: {"type": "pattern", "pattern": WORD_SEPARATORS}},
                "analyzer": {
                    # The local FTS5 table's "porter unicode61 remove_diacritics 2": the same
                    # words, lowercase, diacritics dropped, Porter-stemmed.
                    ANALYZER: {
                        "type": "custom",
                        "tokenizer": TOKENIZER,
                        "filter": ["lowercase", "asciifolding", "porter_stem"],
                    }
                },
            },
        },
        "mappings": {
            "_meta": _index_meta("chunks", dimension, model_name),
            "dynamic": "strict",
            "properties": {
                "document_id": {"type": "keyword"},
                "revision": {"type": "keyword"},
                "uid": {"type": "keyword"},
                "ordinal": {"type": "integer"},
                "start": {"type": "integer", "index": False},
                "end": {"type": "integer", "index": False},
                "text": {"type": "text", "analyzer": ANALYZER},
                "meta_terms": {"type": "keyword", "ignore_above": 4096},
                "metadata": {"type": "object", "enabled": False},
                "embedding": {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {"name": "hnsw", "engine": "faiss", "space_type": "innerproduct"},
                },
            },
        },
    }


def document_index_body(
    dimension: int = EMBEDDING_DIMENSION, model_name: str = EMBEDDING_MODEL
) -> Json:
    """``PUT <prefix>-documents``: one record per version of a document."""
    return {
        "mappings": {
            "_meta": _index_meta("documents", dimension, model_name),
            "dynamic": "strict",
            "properties": {
                "document_id": {"type": "keyword"},
                "revision": {"type": "keyword"},
                "uid": {"type": "keyword"},
                "deleted": {"type": "boolean"},
                "source_id": {"type": "keyword", "index": False},
                "text": {"type": "text", "index": False},
                "text_sha256": {"type": "keyword", "index": False},
                "meta_terms": {"type": "keyword", "ignore_above": 4096},
                "metadata": {"type": "object", "enabled": False},
                "chunk_count": {"type": "integer"},
                "chars": {"type": "integer", "index": False},
                "preview": {"type": "text", "index": False},
                "created_at": {"type": "date"},
                "updated_at": {"type": "date"},
            },
        },
    }


def _index_meta(kind: str, dimension: int, model_name: str) -> Json:
    return {
        "alex_index": kind,
        "schema_version": SCHEMA_VERSION,
        "model": model_name,
        "dimension": dimension,
    }
