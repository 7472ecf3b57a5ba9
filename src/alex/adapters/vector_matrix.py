"""Every chunk vector in RAM, for exact nearest-neighbour scans in a few milliseconds.

SQLite stays the source of truth; the store keeps this matrix in step with its own
writes and reloads it when another process has written (``PRAGMA data_version``).

A plain scan reads all 384 floats of every vector (154 MB at 100k chunks), which is bound
by memory bandwidth. Instead the vectors are kept rotated into their principal axes
(an orthonormal basis, so dot products are unchanged) and split into a *head* of the
first ``HEAD_DIMS`` axes, which carries ~98% of the energy, and a *tail*. A search scans
only the heads, then uses Cauchy-Schwarz, ``|tail_x . tail_q| <= |tail_x| |tail_q|``, to
bound every vector's full score; only vectors whose upper bound can reach the k-th best
exact score are scored in full. The result is exactly the brute-force top k, in about
half the time (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float32]
Scores = npt.NDArray[np.floating[Any]]
Grown = TypeVar("Grown", bound=np.generic)

HEAD_DIMS = 192
# A basis is fitted once there are this many vectors, and again whenever the count doubles.
MIN_VECTORS_FOR_BASIS = 4_096
BASIS_SAMPLE = 20_000
# Float32 rounding of the rotated dot products is ~1e-6; the bound keeps this much slack.
SLACK = 1e-4


class VectorMatrix:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._basis: FloatMatrix | None = None  # columns: principal axes, or None (identity)
        self._basis_size = 0
        self._head: FloatMatrix = np.empty((0, dimension), dtype=np.float32)
        self._tail: FloatMatrix = np.empty((0, 0), dtype=np.float32)
        self._tail_norm: FloatMatrix = np.empty(0, dtype=np.float32)
        self._ids: IdArray = np.empty(0, dtype=np.int64)
        self._size = 0
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        arrays = (self._head, self._tail, self._tail_norm, self._ids)
        return int(sum(array.nbytes for array in arrays))

    # Building ---------------------------------------------------------------------
    def replace_all(self, ids: IdArray, vectors: FloatMatrix) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        self._ids = np.array(ids, dtype=np.int64)
        self._size = len(self._ids)
        self._row_of = {int(chunk_id): row for row, chunk_id in enumerate(self._ids)}
        self._fit_basis(vectors)
        self._head, self._tail, self._tail_norm = self._split(vectors)

    def _fit_basis(self, vectors: FloatMatrix) -> None:
        """Principal axes of (a sample of) the vectors, or none while there are few."""
        if len(vectors) < MIN_VECTORS_FOR_BASIS:
            self._basis, self._basis_size = None, 0
            return
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), min(BASIS_SAMPLE, len(vectors)), replace=False)]
        _, _, axes = np.linalg.svd(sample.astype(np.float64), full_matrices=False)
        self._basis = np.ascontiguousarray(axes.T, dtype=np.float32)
        self._basis_size = len(vectors)

    def _split(self, vectors: FloatMatrix) -> tuple[FloatMatrix, FloatMatrix, FloatMatrix]:
        if self._basis is None:
            empty = np.empty((len(vectors), 0), dtype=np.float32)
            return (
                np.array(vectors, dtype=np.float32, order="C"),
                empty,
                np.zeros(len(vectors), dtype=np.float32),
            )
        rotated = vectors @ self._basis
        tail = np.ascontiguousarray(rotated[:, HEAD_DIMS:])
        return (
            np.ascontiguousarray(rotated[:, :HEAD_DIMS]),
            tail,
            np.linalg.norm(tail, axis=1).astype(np.float32),
        )

    def _all_vectors(self) -> FloatMatrix:
        """The stored vectors in the original axes (to refit the basis)."""
        rotated = np.hstack([self._head[: self._size], self._tail[: self._size]])
        return rotated if self._basis is None else rotated @ self._basis.T

    def add(self, ids: Iterable[int], vectors: FloatMatrix) -> None:
        new_ids = np.fromiter(ids, dtype=np.int64)
        head, tail, norms = self._split(
            np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        )
        needed = self._size + len(new_ids)
        if needed > len(self._ids):
            # Grow by doubling, so appends cost O(1) amortised.
            capacity = max(needed, 2 * len(self._ids), 1024)
            self._head = _grown(self._head, capacity, self._size)
            self._tail = _grown(self._tail, capacity, self._size)
            self._tail_norm = _grown(self._tail_norm, capacity, self._size)
            self._ids = _grown(self._ids, capacity, self._size)
        self._head[self._size : needed] = head
        self._tail[self._size : needed] = tail
        self._tail_norm[self._size : needed] = norms
        self._ids[self._size : needed] = new_ids
        for offset, chunk_id in enumerate(new_ids):
            self._row_of[int(chunk_id)] = self._size + offset
        self._size = needed
        if self._size >= max(MIN_VECTORS_FOR_BASIS, 2 * self._basis_size):
            ids_now = self._ids[: self._size].copy()
            self.replace_all(ids_now, self._all_vectors())

    def remove(self, ids: Iterable[int]) -> None:
        """Remove rows by moving the last row into each hole."""
        for chunk_id in ids:
            row = self._row_of.pop(int(chunk_id), None)
            if row is None:
                continue
            last = self._size - 1
            if row != last:
                moved = int(self._ids[last])
                for array in (self._head, self._tail, self._tail_norm, self._ids):
                    array[row] = array[last]
                self._row_of[moved] = row
            self._size = last

    # Searching --------------------------------------------------------------------
    def top_k(
        self, query: FloatMatrix, k: int, allowed_ids: Iterable[int] | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` ids with the highest dot product with ``query``: exactly brute force's."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        rotated = query if self._basis is None else query @ self._basis
        query_head, query_tail = rotated[: self._head.shape[1]], rotated[self._head.shape[1] :]
        if allowed_ids is None:
            rows: IdArray = np.arange(self._size, dtype=np.int64)
            head_scores = self._head[: self._size] @ query_head
        else:
            rows = np.fromiter(
                (self._row_of[i] for i in allowed_ids if i in self._row_of), dtype=np.int64
            )
            head_scores = self._head[rows] @ query_head
        if len(rows) == 0:
            return []
        count = min(k, len(rows))
        if self._basis is None:
            candidates = np.arange(len(rows))
        else:
            # Score the best heads in full; the k-th of those is a floor for the answer.
            probe = _largest(head_scores, min(len(rows), max(4 * count, 50)))
            floor = np.partition(
                self._full(rows[probe], head_scores[probe], query_tail), len(probe) - count
            )[len(probe) - count]
            bound = float(np.linalg.norm(query_tail))
            upper = head_scores + bound * self._tail_norm[rows]
            candidates = np.flatnonzero(upper >= floor - SLACK)
        scores = self._full(rows[candidates], head_scores[candidates], query_tail)
        best = _largest(scores, count)
        best = best[np.argsort(-scores[best], kind="stable")]
        chosen = rows[candidates[best]]
        return [(int(self._ids[r]), float(s)) for r, s in zip(chosen, scores[best], strict=True)]

    def _full(self, rows: IdArray, head_scores: Scores, query_tail: FloatMatrix) -> Scores:
        if self._tail.shape[1] == 0:
            return head_scores
        result: Scores = head_scores + self._tail[rows] @ query_tail
        return result


def _largest(values: Scores, count: int) -> IdArray:
    """Positions of the ``count`` largest values, unordered."""
    return np.argpartition(values, len(values) - count)[len(values) - count :]


def _grown(array: npt.NDArray[Grown], capacity: int, size: int) -> npt.NDArray[Grown]:
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:size] = array[:size]
    return grown
