"""Stable transaction ids: the same activity gets the same id in every import, so importing a
file again (or its export in another format) adds nothing.

The id hashes the normalised fields that make the activity what it is (date, account, type,
symbol, quantity, unit price, fee, currency; numbers without trailing zeros, so ``1.50`` and
``1.5`` agree) plus an occurrence counter: the second of two identical rows in one file is a
second activity (two equal purchases on one day), and gets its own id. The note is left out
on purpose: correcting a note and importing again must not double the activity."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from alex.portfolio.formats.fields import tidy
from alex.portfolio.model import Transaction

_SEPARATOR = "\x1f"  # the ASCII unit separator: no field can hold it (notes are not hashed)


def transaction_key(transaction: Transaction) -> str:
    """The normalised fields, joined: equal keys are the same activity."""
    t = transaction
    return _SEPARATOR.join(
        (
            t.date.isoformat(),
            t.account,
            t.type.value,
            t.symbol or "",
            format(tidy(t.quantity), "f"),
            format(tidy(t.unit_price), "f"),
            format(tidy(t.fee), "f"),
            t.currency,
        )
    )


def transaction_id(transaction: Transaction, occurrence: int = 0) -> str:
    """32 hex digits (128 bits of SHA-256) for the ``occurrence``-th (from 0) identical copy."""
    return _hash(transaction_key(transaction), occurrence)


def _hash(key: str, occurrence: int) -> str:
    return hashlib.sha256(f"{key}{_SEPARATOR}{occurrence}".encode()).hexdigest()[:32]


def transaction_ids(transactions: Iterable[Transaction]) -> list[str]:
    """The id of each transaction of one file, in order; identical ones are counted so that
    each copy has its own id, whatever their positions in the file."""
    seen: Counter[str] = Counter()
    ids = []
    for transaction in transactions:
        key = transaction_key(transaction)
        ids.append(_hash(key, seen[key]))
        seen[key] += 1
    return ids
