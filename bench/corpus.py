"""The embedding cache of the synthetic corpus (``tests.support.text``) for the benchmarks.

Embedding 100k chunks takes tens of minutes on a laptop, so vectors are cached under
``bench/.cache/`` (git-ignored) and reused by later runs; the cache grows in parts, so an
interrupted build resumes where it stopped.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.support.text import paragraph

CACHE = Path(__file__).parent / ".cache"


def cached_corpus(
    count: int, words: int = 60, seed: int = 11, part: int = 5_000, log: bool = True
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """``count`` single-chunk texts and their vectors, from the cache or embedded now."""
    from alex.adapters.local_embedder import LocalEmbedder

    folder = CACHE / f"corpus-w{words}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts: list[str] = []
    vectors: list[npt.NDArray[np.float32]] = []
    embedder: LocalEmbedder | None = None
    for start in range(0, count, part):
        size = min(part, count - start)
        part_texts = [paragraph(rng, words) for _ in range(part)][:size]
        texts.extend(part_texts)
        path = folder / f"part-{start // part:04d}.npy"
        meta = folder / f"part-{start // part:04d}.json"
        if path.exists() and meta.exists() and json.loads(meta.read_text())["size"] >= size:
            vectors.append(np.load(path)[:size])
            continue
        embedder = embedder or LocalEmbedder()
        started = time.perf_counter()
        embedded = embedder.embed_array(part_texts)
        np.save(path, embedded)
        meta.write_text(json.dumps({"size": size}))
        vectors.append(embedded)
        if log:
            rate = size / (time.perf_counter() - started)
            print(
                f"  embedded corpus part {start // part} ({start + size:,}/{count:,})"
                f" at {rate:.0f}/s",
                flush=True,
            )
    return texts, np.concatenate(vectors)[:count]
