"""The cloud :class:`~alex.ports.PortfolioStore`: one DynamoDB table, single-table design.

One partition per portfolio, ``pk = "PORTFOLIO#<name>"`` (one today: ``default``), and a
sort key per record (identifiers never hold ``#``: ``portfolio_checks``):

=====================================  ===================================================
``sk``                                 attributes
=====================================  ===================================================
``ACCOUNT#<id>``                       ``name``, ``kind``, ``currency``
``INSTRUMENT#<symbol>``                ``name``, ``type``, ``currency``, ``asset_class``,
                                       ``region``, ``sector`` (maps of numbers)
``PROPOSAL#<symbol>``                  ``asset_class``, ``region``, ``sector`` (maps of
                                       numbers), ``confidence`` (number), ``reason``,
                                       ``model``, ``proposed_on`` (ISO)
``TX#<id>``                            ``date`` (ISO), ``account``, ``type``, ``symbol``
                                       (absent for cash moves), ``quantity``,
                                       ``unit_price``, ``fee`` (numbers), ``currency``,
                                       ``note``, ``batch`` (the write that added it)
``BATCH#<batch>``                      ``count``: the commit mark of one transaction write
``PRICE#<symbol>#<YYYY-MM-DD>``        ``close`` (number), ``currency``
``FX#<base>#<quote>#<YYYY-MM-DD>``     ``rate`` (number)
``TARGET#<dimension>``                 ``weights`` (map of numbers)
``SETTINGS``                           ``base_currency``, ``monthly_spending``,
                                       ``stale_price_days``, ``risk_thresholds`` (map),
                                       ``projection`` (map of the inputs set; numbers)
=====================================  ===================================================

ISO dates sort as strings, so "the last price on or before a day" is one Query on the
sort-key range ``PRICE#<symbol>#`` .. ``PRICE#<symbol>#<day>``, newest first, limit 1.
Decimals are DynamoDB numbers (exact to 38 digits; ``portfolio_checks`` keeps inside that).

Atomic batches: DynamoDB's transactions hold at most 100 writes, and an import holds
thousands. So a batch of transactions is written in transactions of 100 conditional puts,
each item tagged with a fresh batch id, and then one ``BATCH#<batch>`` item commits the
whole: readers see a transaction only if its batch is committed. A failure before the mark
leaves nothing visible (and the written items are deleted on the way out; any that remain
are invisible and overwritten by a later import of the same id). The puts are conditional
(``attribute_not_exists(sk)``, or "still the uncommitted leftover read before"): two imports
racing cannot both add the same id. Reads are strongly consistent.

Prices and FX rates are written with ``BatchWriteItem`` (25 a call): a put replaces the
same day's record, so a batch cut short by a failure is completed by writing it again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from alex.adapters import portfolio_checks as checks
from alex.adapters.aws_clients import PK_SK_TABLE, dynamo_call
from alex.domain.errors import InvalidInputError, StoreUnavailableError
from alex.portfolio.model import (
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    PortfolioSettings,
    Price,
    ProjectionDefaults,
    ProposedClassification,
    RecordedTransaction,
    Transaction,
    TransactionType,
    Weights,
)

# The table, on demand ($0 idle). infrastructure/serverless.yml's PortfolioTable repeats it,
# adding ``TableName`` (tests/deploy/test_service_config.py checks they agree).
TABLE_DEFINITION: dict[str, Any] = PK_SK_TABLE
DEFAULT_PORTFOLIO = "default"
_TRANSACTION_WRITES = 100  # TransactWriteItems' limit
_BATCH_WRITES = 25  # BatchWriteItem's limit
_BATCH_READS = 100  # BatchGetItem's limit
_RETRIES = 5

Item = dict[str, Any]
T = TypeVar("T")


def _number(value: Decimal) -> dict[str, str]:
    return {"N": str(value)}


def _weights(weights: Weights) -> dict[str, Any]:
    return {"M": {bucket: _number(share) for bucket, share in weights.shares.items()}}


def _weights_from(value: dict[str, Any]) -> Weights:
    return Weights({bucket: Decimal(share["N"]) for bucket, share in value["M"].items()})


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _transaction_item(entry: RecordedTransaction, batch: str) -> Item:
    t = entry.transaction
    item: Item = {
        "sk": {"S": f"TX#{entry.id}"},
        "date": {"S": t.date.isoformat()},
        "account": {"S": t.account},
        "type": {"S": t.type.value},
        "quantity": _number(t.quantity),
        "unit_price": _number(t.unit_price),
        "fee": _number(t.fee),
        "currency": {"S": t.currency},
        "note": {"S": t.note},
        "batch": {"S": batch},
    }
    if t.symbol is not None:
        item["symbol"] = {"S": t.symbol}
    return item


def _transaction(item: Item) -> RecordedTransaction:
    return RecordedTransaction(
        item["sk"]["S"].removeprefix("TX#"),
        Transaction(
            date=date.fromisoformat(item["date"]["S"]),
            account=item["account"]["S"],
            type=TransactionType(item["type"]["S"]),
            symbol=item["symbol"]["S"] if "symbol" in item else None,
            quantity=Decimal(item["quantity"]["N"]),
            unit_price=Decimal(item["unit_price"]["N"]),
            fee=Decimal(item["fee"]["N"]),
            currency=item["currency"]["S"],
            note=item["note"]["S"],
        ),
    )


def _price(item: Item) -> Price:
    _, symbol, day = item["sk"]["S"].split("#")
    return Price(
        symbol, date.fromisoformat(day), Decimal(item["close"]["N"]), item["currency"]["S"]
    )


def _rate(item: Item) -> FxRate:
    _, base, quote, day = item["sk"]["S"].split("#")
    return FxRate(date.fromisoformat(day), base, quote, Decimal(item["rate"]["N"]))


class DynamoPortfolioStore:
    """A portfolio in a DynamoDB table (``TABLE_DEFINITION``); see the module's docstring."""

    def __init__(
        self,
        table: str,
        client: Any,
        portfolio: str = DEFAULT_PORTFOLIO,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        checks.check_id(portfolio, "portfolio", "name")
        self.table = table
        self._client = client
        self._pk = f"PORTFOLIO#{portfolio}"
        self._sleep = sleep

    # DynamoDB calls ---------------------------------------------------------------------
    def _call(self, what: str, action: Callable[[], Any]) -> Any:
        return dynamo_call(
            what,
            f"the portfolio table {self.table}",
            action,
            "Nothing from this request was stored.",
        )

    def _key(self, sk: str) -> Item:
        return {"pk": {"S": self._pk}, "sk": {"S": sk}}

    def _put(self, item: Item) -> None:
        full = {"pk": {"S": self._pk}, **item}
        self._call("write", lambda: self._client.put_item(TableName=self.table, Item=full))

    def _get(self, sk: str) -> Item | None:
        answer = self._call(
            "read",
            lambda: self._client.get_item(
                TableName=self.table, Key=self._key(sk), ConsistentRead=True
            ),
        )
        item: Item | None = answer.get("Item")
        return item

    def _query(self, low: str, high: str | None = None, **extra: Any) -> list[Item]:
        """Items whose sort key starts with ``low`` or, given ``high``, lies between them."""
        if high is None:
            condition = "pk = :pk AND begins_with(sk, :low)"
            values = {":pk": {"S": self._pk}, ":low": {"S": low}}
        else:
            condition = "pk = :pk AND sk BETWEEN :low AND :high"
            values = {":pk": {"S": self._pk}, ":low": {"S": low}, ":high": {"S": high}}
        request = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
            **extra,
        }
        items: list[Item] = []
        while True:
            page = self._call("read", lambda: self._client.query(**request))
            items.extend(page.get("Items", []))
            if "Limit" in extra or "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _write_batch(self, items: Sequence[Item]) -> None:
        """Put ``items`` with BatchWriteItem, retrying what DynamoDB leaves unprocessed."""
        for chunk in _chunks(items, _BATCH_WRITES):
            pending: list[Item] = [
                {"PutRequest": {"Item": {"pk": {"S": self._pk}, **item}}} for item in chunk
            ]
            for attempt in range(_RETRIES):
                answer = self._call(
                    "write",
                    partial(self._client.batch_write_item, RequestItems={self.table: pending}),
                )
                pending = answer.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    break
                self._sleep(0.05 * 2**attempt)
            if pending:
                raise StoreUnavailableError(
                    f"The portfolio table {self.table} is throttling writes: "
                    f"{len(pending)} records were not written; write them again."
                )

    # Accounts and instruments -----------------------------------------------------------
    def put_account(self, account: Account) -> None:
        checks.check_account(account)
        self._put(
            {
                "sk": {"S": f"ACCOUNT#{account.id}"},
                "name": {"S": account.name},
                "kind": {"S": account.kind.value},
                "currency": {"S": account.currency},
            }
        )

    @staticmethod
    def _account(item: Item) -> Account:
        return Account(
            item["sk"]["S"].removeprefix("ACCOUNT#"),
            item["name"]["S"],
            AccountKind(item["kind"]["S"]),
            item["currency"]["S"],
        )

    def get_account(self, account_id: str) -> Account | None:
        item = self._get(f"ACCOUNT#{account_id}")
        return self._account(item) if item else None

    def list_accounts(self) -> list[Account]:
        return [self._account(item) for item in self._query("ACCOUNT#")]

    def delete_account(self, account_id: str) -> bool:
        # Counted, then deleted: DynamoDB cannot make a delete conditional on items that are
        # not in the same transaction, so an import racing this call may add a transaction
        # to the account after the count (the account would then be missing under it; the
        # import's own account check runs before its writes). Uncommitted leftovers are not
        # transactions (they are invisible) and do not keep the account.
        checks.check_account_unused(account_id, len(self.list_transactions(account_id)))
        answer = self._call(
            "write",
            lambda: self._client.delete_item(
                TableName=self.table, Key=self._key(f"ACCOUNT#{account_id}"), ReturnValues="ALL_OLD"
            ),
        )
        return bool(answer.get("Attributes"))

    def put_instrument(self, instrument: Instrument) -> None:
        checks.check_instrument(instrument)
        self._put(
            {
                "sk": {"S": f"INSTRUMENT#{instrument.symbol}"},
                "name": {"S": instrument.name},
                "type": {"S": instrument.type.value},
                "currency": {"S": instrument.currency},
                "asset_class": _weights(instrument.asset_class),
                "region": _weights(instrument.region),
                "sector": _weights(instrument.sector),
            }
        )

    @staticmethod
    def _instrument(item: Item) -> Instrument:
        return Instrument(
            symbol=item["sk"]["S"].removeprefix("INSTRUMENT#"),
            name=item["name"]["S"],
            type=InstrumentType(item["type"]["S"]),
            currency=item["currency"]["S"],
            asset_class=_weights_from(item["asset_class"]),
            region=_weights_from(item["region"]),
            sector=_weights_from(item["sector"]),
        )

    def get_instrument(self, symbol: str) -> Instrument | None:
        item = self._get(f"INSTRUMENT#{symbol}")
        return self._instrument(item) if item else None

    def list_instruments(self) -> list[Instrument]:
        return [self._instrument(item) for item in self._query("INSTRUMENT#")]

    # Proposed classifications -----------------------------------------------------------
    def put_proposal(self, proposal: ProposedClassification) -> None:
        held = self._get(f"INSTRUMENT#{proposal.symbol}")
        checks.check_proposal(proposal, {proposal.symbol} if held else set())
        item: Item = {
            "sk": {"S": f"PROPOSAL#{proposal.symbol}"},
            "asset_class": _weights(proposal.asset_class),
            "region": _weights(proposal.region),
            "sector": _weights(proposal.sector),
            "confidence": _number(proposal.confidence),
            "reason": {"S": proposal.reason},
            "model": {"S": proposal.model},
            "proposed_on": {"S": proposal.proposed_on.isoformat()},
        }
        # Instruments are never deleted, so the check above cannot go stale before the put.
        self._put(item)

    @staticmethod
    def _proposal(item: Item) -> ProposedClassification:
        return ProposedClassification(
            symbol=item["sk"]["S"].removeprefix("PROPOSAL#"),
            asset_class=_weights_from(item["asset_class"]),
            region=_weights_from(item["region"]),
            sector=_weights_from(item["sector"]),
            confidence=Decimal(item["confidence"]["N"]),
            reason=item["reason"]["S"],
            model=item["model"]["S"],
            proposed_on=date.fromisoformat(item["proposed_on"]["S"]),
        )

    def get_proposal(self, symbol: str) -> ProposedClassification | None:
        item = self._get(f"PROPOSAL#{symbol}")
        return self._proposal(item) if item else None

    def list_proposals(self) -> list[ProposedClassification]:
        return [self._proposal(item) for item in self._query("PROPOSAL#")]

    def delete_proposal(self, symbol: str) -> bool:
        answer = self._call(
            "write",
            lambda: self._client.delete_item(
                TableName=self.table, Key=self._key(f"PROPOSAL#{symbol}"), ReturnValues="ALL_OLD"
            ),
        )
        return bool(answer.get("Attributes"))

    # Transactions -----------------------------------------------------------------------
    def _committed(self) -> set[str]:
        return {item["sk"]["S"].removeprefix("BATCH#") for item in self._query("BATCH#")}

    def _stored_batches(self, ids: Sequence[str]) -> dict[str, str]:
        """The batch each of ``ids`` was written by, for those with an item."""
        found: dict[str, str] = {}
        for chunk in _chunks(ids, _BATCH_READS):
            keys: list[Item] = [self._key(f"TX#{one}") for one in chunk]
            while keys:
                request = {
                    self.table: {
                        "Keys": keys,
                        "ConsistentRead": True,
                        "ProjectionExpression": "sk, #batch",
                        "ExpressionAttributeNames": {"#batch": "batch"},
                    }
                }
                answer = self._call(
                    "read", partial(self._client.batch_get_item, RequestItems=request)
                )
                for item in answer.get("Responses", {}).get(self.table, []):
                    found[item["sk"]["S"].removeprefix("TX#")] = item["batch"]["S"]
                keys = answer.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
        return found

    def add_transactions(self, entries: Sequence[RecordedTransaction]) -> int:
        accounts = {account.id for account in self.list_accounts()}
        unique = checks.check_transactions(entries, accounts)
        committed = self._committed()
        stored = self._stored_batches([entry.id for entry in unique])
        new = [e for e in unique if e.id not in stored or stored[e.id] not in committed]
        if not new:
            return 0
        batch = uuid.uuid4().hex
        written: list[RecordedTransaction] = []
        try:
            for chunk in _chunks(new, _TRANSACTION_WRITES):
                puts = [
                    self._conditional_put(entry, batch, stored.get(entry.id)) for entry in chunk
                ]
                self._call("write", partial(self._client.transact_write_items, TransactItems=puts))
                written.extend(chunk)
            self._put({"sk": {"S": f"BATCH#{batch}"}, "count": _number(Decimal(len(new)))})
        except StoreUnavailableError:
            self._undo(written, batch)
            raise
        return len(new)

    def _conditional_put(
        self, entry: RecordedTransaction, batch: str, leftover: str | None
    ) -> Item:
        put: Item = {
            "TableName": self.table,
            "Item": {"pk": {"S": self._pk}, **_transaction_item(entry, batch)},
        }
        if leftover is None:
            put["ConditionExpression"] = "attribute_not_exists(sk)"
        else:  # an uncommitted write's item: replaced only if it is still that one
            put["ConditionExpression"] = "#batch = :leftover"
            put["ExpressionAttributeNames"] = {"#batch": "batch"}
            put["ExpressionAttributeValues"] = {":leftover": {"S": leftover}}
        return {"Put": put}

    def _undo(self, written: Sequence[RecordedTransaction], batch: str) -> None:
        """Delete what this batch wrote, best effort: uncommitted, it is invisible anyway."""
        from botocore.exceptions import BotoCoreError, ClientError

        for entry in written:
            with suppress(BotoCoreError, ClientError):
                self._client.delete_item(
                    TableName=self.table,
                    Key=self._key(f"TX#{entry.id}"),
                    ConditionExpression="#batch = :batch",
                    ExpressionAttributeNames={"#batch": "batch"},
                    ExpressionAttributeValues={":batch": {"S": batch}},
                )

    def list_transactions(
        self, account: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[RecordedTransaction]:
        committed = self._committed()
        chosen = [
            entry
            for entry in (
                _transaction(item) for item in self._query("TX#") if item["batch"]["S"] in committed
            )
            if (account is None or entry.transaction.account == account)
            and (start is None or entry.transaction.date >= start)
            and (end is None or entry.transaction.date <= end)
        ]
        return sorted(chosen, key=lambda entry: (entry.transaction.date, entry.id))

    def delete_transaction(self, transaction_id: str) -> bool:
        answer = self._call(
            "write",
            lambda: self._client.delete_item(
                TableName=self.table, Key=self._key(f"TX#{transaction_id}"), ReturnValues="ALL_OLD"
            ),
        )
        old = answer.get("Attributes")
        return bool(old) and old["batch"]["S"] in self._committed()

    def replace_transaction(self, transaction_id: str, entry: RecordedTransaction) -> bool:
        # One DynamoDB transaction: the old item deleted (if it is still the committed one
        # read here), the new one put and its batch committed, all or none. A transaction
        # cannot touch one item twice, so a same-id edit (a note changed) is one put.
        accounts = {account.id for account in self.list_accounts()}
        checks.check_transactions([entry], accounts)
        committed = self._committed()
        stored = self._stored_batches(sorted({transaction_id, entry.id}))  # no key twice
        old_batch = stored.get(transaction_id)
        if old_batch is None or old_batch not in committed:
            return False
        leftover = stored.get(entry.id)
        if entry.id != transaction_id and leftover in committed:
            raise InvalidInputError(f"transaction {entry.id!r} is stored already")
        batch = uuid.uuid4().hex
        put = self._conditional_put(entry, batch, leftover)
        old_is_still_there = {
            "ConditionExpression": "#batch = :old",
            "ExpressionAttributeNames": {"#batch": "batch"},
            "ExpressionAttributeValues": {":old": {"S": old_batch}},
        }
        items: list[Item]
        if entry.id == transaction_id:
            put["Put"].update(old_is_still_there)
            items = [put]
        else:
            delete = {
                "Delete": {
                    "TableName": self.table,
                    "Key": self._key(f"TX#{transaction_id}"),
                    **old_is_still_there,
                }
            }
            items = [delete, put]
        mark = {
            "Put": {
                "TableName": self.table,
                "Item": {
                    **self._key(f"BATCH#{batch}"),
                    "count": _number(Decimal(1)),
                },
            }
        }
        self._call(
            "write", partial(self._client.transact_write_items, TransactItems=[*items, mark])
        )
        return True

    # Prices and FX rates ----------------------------------------------------------------
    def put_prices(self, prices: Sequence[Price]) -> None:
        checked = checks.check_all(prices, checks.check_price, "price")
        # One item per key: BatchWriteItem refuses a key twice; the last record wins.
        items = {
            f"PRICE#{p.symbol}#{p.date.isoformat()}": {
                "close": _number(p.close),
                "currency": {"S": p.currency},
            }
            for p in checked
        }
        self._write_batch([{"sk": {"S": sk}, **item} for sk, item in items.items()])

    def last_price(self, symbol: str, on: date) -> Price | None:
        items = self._query(
            f"PRICE#{symbol}#", f"PRICE#{symbol}#{on.isoformat()}", ScanIndexForward=False, Limit=1
        )
        return _price(items[0]) if items else None

    def list_prices(self, symbol: str) -> list[Price]:
        return [_price(item) for item in self._query(f"PRICE#{symbol}#")]

    def put_fx_rates(self, rates: Sequence[FxRate]) -> None:
        checked = checks.check_all(rates, checks.check_fx_rate, "FX rate")
        items = {f"FX#{r.base}#{r.quote}#{r.date.isoformat()}": r.rate for r in checked}
        self._write_batch([{"sk": {"S": sk}, "rate": _number(rate)} for sk, rate in items.items()])

    def last_fx_rate(self, base: str, quote: str, on: date) -> FxRate | None:
        prefix = f"FX#{base}#{quote}#"
        items = self._query(prefix, prefix + on.isoformat(), ScanIndexForward=False, Limit=1)
        return _rate(items[0]) if items else None

    def list_fx_rates(self, base: str, quote: str) -> list[FxRate]:
        return [_rate(item) for item in self._query(f"FX#{base}#{quote}#")]

    # Targets and settings ---------------------------------------------------------------
    def put_target(self, dimension: str, weights: Weights) -> None:
        checks.check_target(dimension, weights)
        sk = f"TARGET#{dimension}"
        if weights.known:
            self._put({"sk": {"S": sk}, "weights": _weights(weights)})
        else:
            key = self._key(sk)
            self._call("write", lambda: self._client.delete_item(TableName=self.table, Key=key))

    def targets(self) -> dict[str, Weights]:
        return {
            item["sk"]["S"].removeprefix("TARGET#"): _weights_from(item["weights"])
            for item in self._query("TARGET#")
        }

    def get_settings(self) -> PortfolioSettings:
        item = self._get("SETTINGS")
        if item is None:
            return PortfolioSettings()
        return PortfolioSettings(
            base_currency=item["base_currency"]["S"],
            monthly_spending=(
                Decimal(item["monthly_spending"]["N"]) if "monthly_spending" in item else None
            ),
            stale_price_days=int(item["stale_price_days"]["N"]),
            risk_thresholds=_weights_from(item["risk_thresholds"]).shares,
            # Absent from an item written before the projection's inputs were kept.
            projection=ProjectionDefaults.from_text(
                {name: n["N"] for name, n in item.get("projection", {"M": {}})["M"].items()}
            ),
        )

    def put_settings(self, settings: PortfolioSettings) -> None:
        checks.check_settings(settings)
        item: Item = {
            "sk": {"S": "SETTINGS"},
            "base_currency": {"S": settings.base_currency},
            "stale_price_days": _number(Decimal(settings.stale_price_days)),
            "risk_thresholds": _weights(Weights(settings.risk_thresholds)),
            "projection": {
                "M": {name: {"N": text} for name, text in settings.projection.as_text().items()}
            },
        }
        if settings.monthly_spending is not None:
            item["monthly_spending"] = _number(settings.monthly_spending)
        self._put(item)

    def close(self) -> None:
        pass  # the boto3 client is shared for the container's life (aws_clients)
