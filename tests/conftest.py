"""Shared fixtures: every test gets its own data folder and .env, never the user's.

``services`` runs on the real model and SQLite store; ``fake_services`` on the in-memory fakes
of ``tests/fakes`` (no model load, no file): use it unless the test is about the model or store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from alex.config import Settings, load_settings
from alex.services import Services
from tests.fakes import FakeEmbedder, InMemoryVectorStore
from tests.pagesite import PageSite

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Alex at a temporary .env and data folder; clear variables a developer may have set."""
    # Every ALEX_* variable, and the ones that choose the cloud or OpenAI (a developer's
    # OPENAI_API_KEY would send the research tests to OpenAI).
    inherited = [name for name in os.environ if name.startswith("ALEX_")]
    for name in (
        *inherited,
        "OPENAI_API_KEY",
        "SAGEMAKER_ENDPOINT",
        "OPENSEARCH_ENDPOINT",
        "DEFAULT_AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    monkeypatch.setenv("ALEX_ENV_FILE", str(env_file))
    monkeypatch.setenv("ALEX_DATA_DIR", str(tmp_path / "data"))
    return env_file


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real local model, loaded once for the whole run."""
    from alex.adapters.local_embedder import LocalEmbedder

    return LocalEmbedder()


@pytest.fixture
def settings(isolated_settings: Path) -> Settings:
    return load_settings()


@pytest.fixture
def services(settings: Settings, embedder, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    built = Services(settings, embedder=embedder)  # the session's model, not loaded again
    yield built
    built.close()


@pytest.fixture
def fake_services(settings: Settings) -> Iterator[Services]:
    """The use cases on a hashed bag-of-words embedder and an in-memory store."""
    built = Services(settings, embedder=FakeEmbedder(), store=InMemoryVectorStore())
    yield built
    built.close()


@pytest.fixture
def site() -> Iterator[PageSite]:
    """The loopback fixture web site (tests/pagesite.py); allow-list ``site.host_port``."""
    with PageSite() as running:
        yield running
