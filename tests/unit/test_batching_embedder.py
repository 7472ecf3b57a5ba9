"""Concurrent callers share model calls and each gets exactly its own rows (plain lists:
the queue runs on AWS Lambda too, without numpy)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from alex.adapters.batching_embedder import BatchingEmbedder


class RecordingEmbedder:
    """A deterministic stand-in: row i is [len(text), hash-ish]; records every call."""

    model_name, dimension, max_pieces, tokenizer = "fake", 2, 254, None

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on
        self.gate = threading.Event()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.gate.wait(5)
        self.calls.append(len(texts))
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return [row(t) for t in texts]


def row(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)))]


def test_concurrent_callers_are_batched_and_get_their_own_rows() -> None:
    inner = RecordingEmbedder()
    embedder = BatchingEmbedder(inner, max_batch=64)  # type: ignore[arg-type]
    texts = [[f"text {n}-{i}" for i in range(n % 3 + 1)] for n in range(24)]
    results: dict[int, Sequence[Sequence[float]]] = {}

    def call(n: int) -> None:
        results[n] = embedder.embed(texts[n])

    threads = [threading.Thread(target=call, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    inner.gate.set()  # the first call waited: the others queued up behind it
    for thread in threads:
        thread.join(10)
    for n, rows in results.items():
        assert rows == [row(t) for t in texts[n]]
    assert len(results) == 24
    assert sum(inner.calls) == sum(len(t) for t in texts)
    assert len(inner.calls) < 24, "calls were merged"


def test_an_error_reaches_every_caller_of_that_batch_and_the_worker_survives() -> None:
    inner = RecordingEmbedder(fail_on="boom")
    inner.gate.set()
    embedder = BatchingEmbedder(inner)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="model failed"):
        embedder.embed(["boom"])
    assert embedder.embed(["fine"]) == [row("fine")]
    assert len(embedder.embed([])) == 0


def test_an_idle_worker_ends_and_the_next_call_starts_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import alex.adapters.batching_embedder as module

    monkeypatch.setattr(module, "IDLE_EXIT_S", 0.05)
    inner = RecordingEmbedder()
    inner.gate.set()
    embedder = BatchingEmbedder(inner)  # type: ignore[arg-type]
    embedder.embed(["one"])
    first = embedder._worker
    assert first is not None
    first.join(2)
    assert not first.is_alive() and embedder._worker is None
    assert embedder.embed(["two"]) == [[3.0, float(sum(map(ord, "two")))]]
    assert embedder._worker is not None and embedder._worker is not first
