"""The portfolio's figures as plain JSON values, for scripts (``--json``) and, next, the HTTP
routes. Pure.

Money is a string holding the decimal rounded to its currency's minor unit (half to even,
``model.round_money``): exact, where a JSON number would go through a binary float. Quantities,
prices, rates and shares are strings of the exact decimal. Dates are ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alex.portfolio.allocation import Allocation
from alex.portfolio.files import ImportReport
from alex.portfolio.model import ProposedClassification, round_money
from alex.portfolio.service import PortfolioProjection, PortfolioView
from alex.portfolio.valuation import Quote, Total
from alex.portfolio.xray import XRay


def money(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else str(round_money(amount, currency))


def exact(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _total(total: Total) -> dict[str, Any]:
    return {
        "currency": total.currency,
        "value": money(total.value, total.currency),
        "known": money(total.known, total.currency),
        "unknown": list(total.unknown),
    }


def _quote(quote: Quote) -> dict[str, Any]:
    return {
        "name": quote.name,
        "date": quote.date.isoformat() if quote.date else None,
        "status": quote.status.value,
    }


def _allocation(allocation: Allocation, view: PortfolioView) -> dict[str, Any]:
    targets = view.targets.get(allocation.dimension, {})
    drifts = view.drift.get(allocation.dimension, {})
    names = [b.name for b in allocation.buckets]
    names += sorted(set(targets) - set(names))  # targeted but not held
    values = {b.name: b.value for b in allocation.buckets}
    return {
        "currency": allocation.currency,
        "buckets": [
            {
                "name": name,
                "value": money(values.get(name, Decimal(0)), allocation.currency),
                "share": exact(allocation.share(name)),
                "target": exact(targets.get(name)),
                "drift": exact(drifts.get(name)),
            }
            for name in names
        ],
        "excluded": list(allocation.excluded),
        # Symbols in ``unknown`` here with a proposal waiting: not counted until accepted.
        "proposed": sorted(
            p.symbol
            for p in view.proposals
            if allocation.dimension.value in p.weights()
            and p.symbol in view.instruments
            and not getattr(view.instruments[p.symbol], allocation.dimension.value).known
        ),
    }


def proposal_json(proposal: ProposedClassification, name: str | None) -> dict[str, Any]:
    """One proposed classification: weights by dimension (empty: not proposed, the
    instrument has its own), per cent as exact strings; confidence 0 to 1."""
    return {
        "symbol": proposal.symbol,
        "name": name,
        "asset_class": _shares(proposal.asset_class.shares),
        "region": _shares(proposal.region.shares),
        "sector": _shares(proposal.sector.shares),
        "confidence": exact(proposal.confidence),
        "reason": proposal.reason,
        "model": proposal.model,
        "proposed_on": proposal.proposed_on.isoformat(),
    }


def _name(view: PortfolioView, symbol: str) -> str | None:
    instrument = view.instruments.get(symbol)
    return instrument.name if instrument else None


def _shares(shares: dict[str, Decimal]) -> dict[str, str]:
    return {bucket: format(share, "f") for bucket, share in shares.items()}


def view_json(view: PortfolioView) -> dict[str, Any]:
    """``alex portfolio show --json``."""
    valuation = view.valuation
    base = valuation.base_currency
    accounts = {a.id: a for a in view.accounts}
    return {
        "as_of": view.as_of.isoformat(),
        "base_currency": base,
        "stale_price_days": valuation.stale_days,
        "transactions": view.transactions,
        "total": _total(valuation.total),
        "accounts": [
            {
                "id": account.id,
                "name": account.name,
                "kind": account.kind.value,
                "currency": account.currency,
                "total": _total(valuation.accounts[account.id]),
            }
            for account in view.accounts
        ],
        "holdings": [
            {
                "account": held.holding.account,
                "symbol": held.holding.symbol,
                "name": view.instruments[held.holding.symbol].name
                if held.holding.symbol in view.instruments
                else None,
                "currency": held.holding.currency,
                "quantity": exact(held.holding.quantity),
                "price": exact(held.price.close) if held.price else None,
                "price_currency": held.price.currency if held.price else None,
                "price_date": held.price.date.isoformat() if held.price else None,
                "value": money(held.value, held.holding.currency),
                "value_in_account": money(
                    held.value_in_account, accounts[held.holding.account].currency
                ),
                "value_in_base": money(held.value_in_base, base),
                "cost_basis": money(held.holding.cost_basis, held.holding.currency),
                "unrealised_gain": money(held.unrealised_gain, held.holding.currency),
                "quotes": [_quote(q) for q in held.quotes],
            }
            for held in valuation.holdings
        ],
        "cash": [
            {
                "account": cash.account,
                "currency": cash.currency,
                "amount": money(cash.amount, cash.currency),
                "value_in_base": money(cash.value_in_base, base),
            }
            for cash in valuation.cash
        ],
        "realised_gain": {
            currency: money(gain, currency)
            for currency, gain in view.ledger.realised_gain().items()
        },
        "income_by_year": [
            {"year": year, "currency": currency, "amount": money(amount, currency)}
            for (year, currency), amount in view.ledger.income_by_year().items()
        ],
        "allocations": {
            dimension.value: _allocation(allocation, view)
            for dimension, allocation in view.allocations.items()
        },
        "stale": [_quote(q) for q in valuation.stale],
        "missing": [_quote(q) for q in valuation.missing],
        "proposed_classifications": [
            proposal_json(p, _name(view, p.symbol)) for p in view.proposals
        ],
    }


def projection_json(result: PortfolioProjection) -> dict[str, Any]:
    """``alex portfolio project --json``: inputs, outcome and the table by year (nominal)."""
    projection = result.projection
    inputs = result.inputs
    currency = result.currency
    return {
        "as_of": result.as_of.isoformat(),
        "currency": currency,
        "paths": projection.paths,
        "seed": projection.seed,
        "inputs": {
            "start": {name: money(value, currency) for name, value in inputs.holdings.items()},
            "current_age": inputs.current_age,
            "retirement_age": inputs.retirement_age,
            "end_age": inputs.end_age,
            "contribution": money(inputs.contribution, currency),
            "contribution_growth": exact(inputs.contribution_growth),
            "spending": money(inputs.spending, currency),
            "inflation": exact(inputs.inflation),
            "fee": exact(inputs.fee),
        },
        "left_out": {name: money(value, currency) for name, value in result.left_out.items()},
        "unvalued": list(result.unvalued),
        "success_probability": round(projection.success_probability, 6),
        "depletion_age_p10": projection.depletion_age_p10,
        "rows": [
            {
                "age": row.age,
                "year": row.year,
                "percentiles": {str(p): str(value) for p, value in row.percentiles.items()},
                "expected": str(row.expected),
            }
            for row in projection.rows()
        ],
    }


def import_json(report: ImportReport) -> dict[str, Any]:
    return {
        "name": report.name,
        "format": report.format.value,
        "kind": report.kind.value,
        "records": report.records,
        "new": report.new,
        "unchanged": report.unchanged,
        "updated": report.updated,
        "accounts": list(report.accounts),
        "instruments": list(report.instruments),
        "unclassified": list(report.unclassified),
    }


def xray_json(result: XRay) -> dict[str, Any]:
    """``alex portfolio xray --json``: the findings (figures exact) and every rule's run."""
    return {
        "as_of": result.as_of.isoformat(),
        "base_currency": result.base_currency,
        "findings": [
            {
                "rule": finding.rule,
                "severity": finding.severity.value,
                "message": finding.message,
                "figures": {name: exact(value) for name, value in finding.figures.items()},
            }
            for finding in result.findings
        ],
        "rules": [
            {
                "rule": run.rule,
                "status": run.status.value,
                "threshold": exact(run.threshold),
                "reason": run.reason,
            }
            for run in result.runs
        ],
    }
