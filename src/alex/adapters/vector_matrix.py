"""Every chunk vector in one float32 matrix in RAM, for exact scans in milliseconds.

SQLite stays the source of truth; the store keeps this matrix in step with its own
writes and reloads it when another process has written (``PRAGMA data_version``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float32]


class VectorMatrix:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._vectors: FloatMatrix = np.empty((0, dimension), dtype=np.float32)
        self._ids: IdArray = np.empty(0, dtype=np.int64)
        self._size = 0
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return int(self._vectors.nbytes + self._ids.nbytes)

    def replace_all(self, ids: IdArray, vectors: FloatMatrix) -> None:
        self._vectors = np.array(vectors, dtype=np.float32, order="C").reshape(-1, self.dimension)
        self._ids = np.asarray(ids, dtype=np.int64).copy()
        self._size = len(self._ids)
        self._row_of = {int(chunk_id): row for row, chunk_id in enumerate(self._ids)}

    def add(self, ids: Iterable[int], vectors: FloatMatrix) -> None:
        new_ids = np.fromiter(ids, dtype=np.int64)
        needed = self._size + len(new_ids)
        if needed > len(self._ids):
            # Grow by doubling, so appends cost O(1) amortised.
            capacity = max(needed, 2 * len(self._ids), 1024)
            vectors_grown = np.empty((capacity, self.dimension), dtype=np.float32)
            vectors_grown[: self._size] = self._vectors[: self._size]
            ids_grown = np.empty(capacity, dtype=np.int64)
            ids_grown[: self._size] = self._ids[: self._size]
            self._vectors, self._ids = vectors_grown, ids_grown
        self._vectors[self._size : needed] = vectors
        self._ids[self._size : needed] = new_ids
        for offset, chunk_id in enumerate(new_ids):
            self._row_of[int(chunk_id)] = self._size + offset
        self._size = needed

    def remove(self, ids: Iterable[int]) -> None:
        """Remove rows by moving the last row into each hole."""
        for chunk_id in ids:
            row = self._row_of.pop(int(chunk_id), None)
            if row is None:
                continue
            last = self._size - 1
            if row != last:
                moved = int(self._ids[last])
                self._vectors[row] = self._vectors[last]
                self._ids[row] = moved
                self._row_of[moved] = row
            self._size = last

    def top_k(
        self, query: FloatMatrix, k: int, allowed_ids: Iterable[int] | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` ids with the highest dot product with ``query`` (cosine, for unit vectors)."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if allowed_ids is None:
            rows = None
            scores = self._vectors[: self._size] @ query
        else:
            rows = np.fromiter(
                (self._row_of[i] for i in allowed_ids if i in self._row_of), dtype=np.int64
            )
            scores = self._vectors[rows] @ query
        if len(scores) == 0:
            return []
        count = min(k, len(scores))
        # The k largest without negating (a copy of every score): partition around len - k.
        best = np.argpartition(scores, len(scores) - count)[len(scores) - count :]
        best = best[np.argsort(-scores[best], kind="stable")]
        positions = best if rows is None else rows[best]
        return [(int(self._ids[p]), float(s)) for p, s in zip(positions, scores[best], strict=True)]
