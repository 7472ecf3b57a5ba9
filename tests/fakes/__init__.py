"""In-memory fakes of Alex's ports, for use-case tests that run in milliseconds.

* ``FakeEmbedder``: hashed bag of words, the real WordPiece tokenizer (chunking as in production).
* ``InMemoryVectorStore``: the ``VectorStore`` port in a dict.
* ``FakeOpenSearch`` / ``fake_opensearch_store``: the real ``OpenSearchStore`` on an
  in-memory collection.
* Chat model: ``tests/scripted_model.py`` (``ScriptedModel``, ``opener``) is the fake.

``tests/unit/test_vector_store_contract.py`` runs one contract over every store, and
``tests/functional/test_fakes_faithful.py`` runs one scenario on the fakes and on the real stack.
"""

from tests.fakes.embedder import FakeEmbedder
from tests.fakes.opensearch import FakeOpenSearch, fake_opensearch_store
from tests.fakes.vector_store import InMemoryVectorStore

__all__ = ["FakeEmbedder", "FakeOpenSearch", "InMemoryVectorStore", "fake_opensearch_store"]
