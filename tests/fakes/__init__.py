"""In-memory fakes of Alex's ports, for use-case tests that run in milliseconds.

* ``FakeEmbedder``: hashed bag of words, the real WordPiece tokenizer (chunking as in production).
* ``InMemoryVectorStore``: the ``VectorStore`` port in a dict.
* ``InMemoryPortfolioStore``: the ``PortfolioStore`` port in dicts, with the real stores' checks.
* ``InMemoryAnalysisJobStore``, ``InMemoryReportStore``: the planner's two ports in dicts.
* ``tests.fakes.opensearch``: ``FakeOpenSearch``, an in-memory collection, and
  ``fake_opensearch_store``, the real ``OpenSearchStore`` on it (imported from there, not
  here, so that only the tests using it depend on the OpenSearch store's module).
* Chat model: ``tests/scripted_model.py`` (``ScriptedModel``, ``opener``) is the fake.

``tests/unit/test_vector_store_contract.py`` runs one contract over every store (and
``tests/unit/test_portfolio_store_contract.py`` over every portfolio store,
``tests/unit/test_planner_store_contract.py`` over every job and report store), and
``tests/functional/test_fakes_faithful.py`` runs one scenario on the fakes and on the real stack.
"""

from tests.fakes.embedder import FakeEmbedder
from tests.fakes.planner import InMemoryAnalysisJobStore, InMemoryReportStore
from tests.fakes.portfolio import InMemoryPortfolioStore
from tests.fakes.vector_store import InMemoryVectorStore

__all__ = [
    "FakeEmbedder",
    "InMemoryAnalysisJobStore",
    "InMemoryPortfolioStore",
    "InMemoryReportStore",
    "InMemoryVectorStore",
]
