"""Merge the embedding calls of concurrent requests into shared model batches.

Sixteen clients each sending one document would otherwise run sixteen batch-of-one model
calls at once, each wanting every core: slower than one batch of sixteen. Callers queue
their texts; one worker thread embeds whatever is queued together and hands each caller
its rows. Nobody waits for company: a lone caller runs at once, and callers arriving while
the model is busy form the next batch.

No numpy here: the ingest use case runs behind this queue on AWS Lambda too, which ships
without numpy (there a call has no company, so it costs one idle thread and nothing else).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from alex.ports import Embedder, Tokenizer, Vectors

IDLE_EXIT_S = 30.0


@dataclass
class _Request:
    texts: Sequence[str]
    result: Future[Vectors] = field(default_factory=Future)


class BatchingEmbedder:
    def __init__(self, inner: Embedder, max_batch: int = 64) -> None:
        self._inner = inner
        self._max_batch = max_batch
        self._queue: list[_Request] = []
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    @property
    def max_pieces(self) -> int:
        return self._inner.max_pieces

    @property
    def tokenizer(self) -> Tokenizer:
        return self._inner.tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return self._inner.embed(texts)
        request = _Request(texts)
        with self._ready:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="alex-embedder", daemon=True
                )
                self._worker.start()
            self._queue.append(request)
            self._ready.notify()
        return request.result.result()

    def _take_batch(self) -> list[_Request] | None:
        """Wait for work; take everything queued, up to max_batch texts.

        None after ``IDLE_EXIT_S`` without work: the worker ends, and the next caller
        starts a new one (so idle instances hold no thread).
        """
        with self._ready:
            if not self._queue:
                self._ready.wait(IDLE_EXIT_S)
            if not self._queue:
                self._worker = None
                return None
            batch: list[_Request] = []
            size = 0
            while self._queue and (
                not batch or size + len(self._queue[0].texts) <= self._max_batch
            ):
                request = self._queue.pop(0)
                batch.append(request)
                size += len(request.texts)
            return batch

    def _work(self) -> None:
        while (batch := self._take_batch()) is not None:
            try:
                vectors = self._inner.embed([text for r in batch for text in r.texts])
            except BaseException as error:  # every waiting caller gets the error
                for request in batch:
                    request.result.set_exception(error)
                continue
            offset = 0
            for request in batch:
                count = len(request.texts)
                request.result.set_result(list(vectors[offset : offset + count]))
                offset += count
