"""What can be checked remotely about the stored versions, and removing what is left over.

See the package docstring for what cannot be checked (what AWS manages).
"""

from __future__ import annotations

from collections import Counter

from alex.adapters.opensearch.collection import Collection
from alex.adapters.opensearch.mappings import Json
from alex.adapters.opensearch.terms import revision_ns


class IntegrityChecks(Collection):
    """``check_integrity`` and ``purge_superseded`` over every record and chunk."""

    def _inventory(self) -> tuple[dict[str, Json], list[Json], list[Json], int]:
        """Newest record per document, every record, every chunk (ids, no text), cutoff ns."""
        record_fields = ("document_id", "revision", "deleted", "chunk_count")
        records = [
            {**hit["_source"], "_id": hit["_id"]}
            for hit in self._scan(
                self.documents_index, {"match_all": {}}, record_fields, "read records"
            )
        ]
        chunk_fields = ("document_id", "revision", "ordinal")
        chunks = [
            {**hit["_source"], "_id": hit["_id"]}
            for hit in self._scan(self.chunks_index, {"match_all": {}}, chunk_fields, "read chunks")
        ]
        newest: dict[str, Json] = {}
        for record in records:
            known = newest.get(record["document_id"])
            if known is None or record["revision"] > known["revision"]:
                newest[record["document_id"]] = record
        cutoff = int((self._clock().timestamp() - self.settle_seconds) * 1e9)
        return newest, records, chunks, cutoff

    def _leftovers(
        self, newest: dict[str, Json], records: list[Json], chunks: list[Json], cutoff: int
    ) -> tuple[list[Json], list[Json]]:
        """Settled records and chunks that no current version references."""
        old_records = [
            r
            for r in records
            if revision_ns(r["revision"]) < cutoff
            and newest[r["document_id"]]["revision"] != r["revision"]
        ]
        old_chunks = []
        for chunk in chunks:
            current = newest.get(chunk["document_id"])
            live = current is not None and not current.get("deleted")
            if revision_ns(chunk["revision"]) < cutoff and not (
                live and current is not None and current["revision"] == chunk["revision"]
            ):
                old_chunks.append(chunk)
        return old_records, old_chunks

    def check_integrity(self) -> list[str]:
        """What can be checked remotely: see the module docstring for what cannot."""
        if not self._ensure(create=False):
            return []
        problems = self._mapping_problems()
        newest, records, chunks, cutoff = self._inventory()
        ordinals: dict[tuple[str, str], Counter[int]] = {}
        for chunk in chunks:
            ordinals.setdefault((chunk["document_id"], chunk["revision"]), Counter())[
                chunk["ordinal"]
            ] += 1
        mismatched = duplicates = 0
        for document_id, record in newest.items():
            if record.get("deleted") or revision_ns(record["revision"]) >= cutoff:
                continue
            seen = ordinals.get((document_id, record["revision"]), Counter())
            if set(seen) != set(range(record["chunk_count"])):
                mismatched += 1
            duplicates += sum(count - 1 for count in seen.values())
        old_records, old_chunks = self._leftovers(newest, records, chunks, cutoff)
        if mismatched:
            problems.append(f"{mismatched} documents whose chunk count disagrees with their chunks")
        if duplicates:
            problems.append(
                f"{duplicates} duplicate chunks (a retried write stored them twice; searches "
                "show each once)"
            )
        if old_records or old_chunks:
            problems.append(
                f"{len(old_records)} superseded document records and {len(old_chunks)} chunks "
                "of superseded, deleted or failed versions awaiting removal (hidden from "
                "searches; purge_superseded() removes them)"
            )
        return problems

    def purge_superseded(self) -> int:
        """Delete settled superseded records and chunks, and tombstones with nothing left."""
        if not self._ensure(create=False):
            return 0
        newest, records, chunks, cutoff = self._inventory()
        old_records, old_chunks = self._leftovers(newest, records, chunks, cutoff)
        tombstones = [
            r for r in newest.values() if r.get("deleted") and revision_ns(r["revision"]) < cutoff
        ]
        removed = self._delete_ids(self.chunks_index, [c["_id"] for c in old_chunks])
        removed += self._delete_ids(self.documents_index, [r["_id"] for r in old_records])
        # Tombstones last: everything older than them is gone now.
        removed += self._delete_ids(self.documents_index, [r["_id"] for r in tombstones])
        return removed
