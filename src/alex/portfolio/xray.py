"""Risk checks ("X-ray"): small rules, each with a threshold the user can change, that say in
plain English what in the portfolio deserves a look, with the figures that triggered it.

Pure: everything comes in as arguments (docs/portfolio.md, "Risk checks (X-ray)"). Every
share is computed exactly from values in the base currency and compared with the threshold
exactly; figures are exact ``Decimal`` and only the messages round (per cent to 2 places,
money to the currency's minor unit). A position whose value is unknown (no price or rate)
cannot be weighed: shares are of the known part, and the ``stale_prices`` rule says what was
left out.

A rule fires strictly past its threshold (a holding of exactly 10% does not fire the 10%
rule; an emergency fund of exactly 3 months does not fire the 3-month rule). Severity: a
limit rule is ``high`` when its worst figure is at least twice its threshold (half, for the
emergency fund), else ``medium``; a missing price is ``high`` (every figure leaves that
position out), a stale one ``medium``, unknown classifications ``low``. Findings come by
severity, then in the order of :data:`RULES`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from alex.domain.errors import InvalidInputError
from alex.portfolio.allocation import CASH, Dimension, allocate
from alex.portfolio.model import (
    HUNDRED,
    UNKNOWN,
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    PortfolioSettings,
    Transaction,
    TransactionType,
    round_money,
)
from alex.portfolio.valuation import HoldingValue, Rates, Valuation

_ZERO = Decimal(0)
_TWO = Decimal(2)
_CENT = Decimal("0.01")
# Pooled instruments spread their money over many issuers: the single-holding rule, about
# one issuer's securities, leaves them out (their sectors still count in the sector rule).
POOLED = frozenset({InstrumentType.ETF, InstrumentType.FUND, InstrumentType.CASH_LIKE})


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class RuleStatus(StrEnum):
    FIRED = "fired"  # it has a finding
    QUIET = "quiet"  # it ran and found nothing past its threshold
    SKIPPED = "skipped"  # it could not run (the reason says why)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    figures: Mapping[str, Decimal]  # exact; per cent as 12.5 for 12.5%


@dataclass(frozen=True)
class RuleRun:
    rule: str
    status: RuleStatus
    threshold: Decimal | None  # the one used: the user's, else the rule's default
    reason: str = ""  # why it was skipped


@dataclass(frozen=True)
class XRay:
    as_of: date
    base_currency: str
    findings: tuple[Finding, ...]  # by severity, then rule order
    runs: tuple[RuleRun, ...]  # every rule, in rule order

    @property
    def ran(self) -> tuple[str, ...]:
        return tuple(run.rule for run in self.runs if run.status is not RuleStatus.SKIPPED)

    @property
    def skipped(self) -> dict[str, str]:
        """Rule name -> why it did not run."""
        return {run.rule: run.reason for run in self.runs if run.status is RuleStatus.SKIPPED}


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Facts:
    """What the rules read: the valuation and what it was built from."""

    valuation: Valuation
    instruments: Mapping[str, Instrument]
    accounts: Mapping[str, Account]
    settings: PortfolioSettings
    transactions: tuple[Transaction, ...]
    rates: Rates

    @property
    def currency(self) -> str:
        return self.valuation.base_currency

    @property
    def total(self) -> Decimal:
        """The known value of everything, in the base currency."""
        return self.valuation.total.known

    def is_savings(self, account: str) -> bool:
        return self.accounts[account].kind is AccountKind.SAVINGS

    def cash_by_account(self) -> dict[str, Decimal]:
        """Cash balances plus cash-like holdings, by account, in the base currency."""
        cash: dict[str, Decimal] = defaultdict(Decimal)
        for balance in self.valuation.cash:
            if balance.value_in_base is not None:
                cash[balance.account] += balance.value_in_base
        for held in self.valuation.holdings:
            instrument = self.instruments.get(held.holding.symbol)
            if held.value_in_base is None or instrument is None:
                continue
            if instrument.type is InstrumentType.CASH_LIKE:
                cash[held.holding.account] += held.value_in_base
        return cash


# A rule's check: the facts and its threshold (None for a rule without one) -> a finding,
# nothing to report, or why it could not run.
Check = Callable[[Facts, Decimal | None], Finding | Skip | None]


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    default: Decimal | None  # None: the rule has no threshold of its own
    unit: str  # what the threshold counts: "%" or "months"
    check: Check


# --- Display (messages only; figures stay exact) ------------------------------------------


def _pct(value: Decimal) -> str:
    return f"{value.quantize(_CENT):,}%"


def _limit(threshold: Decimal) -> str:
    """A threshold as the user wrote it: 10, not 10.00."""
    return format(threshold.normalize(), "f")


def _money(value: Decimal, currency: str) -> str:
    return f"{round_money(value, currency):,} {currency}"


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return part * HUNDRED / whole


def _over(worst: Decimal, threshold: Decimal) -> Severity:
    return Severity.HIGH if worst >= threshold * _TWO else Severity.MEDIUM


def _known_part(facts: Facts) -> str:
    """How a message says that some positions could not be valued."""
    if not facts.valuation.total.unknown:
        return ""
    return " (of the part with a known value; see the stale prices check)"


def _no_value(facts: Facts) -> Skip | None:
    if facts.total <= 0:
        return Skip("the portfolio has no known value to weigh")
    return None


# --- The rules -----------------------------------------------------------------------------


def _single_holding(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    if (skip := _no_value(facts)) is not None:
        return skip
    by_symbol: dict[str, Decimal] = defaultdict(Decimal)
    for held in facts.valuation.holdings:
        instrument = facts.instruments.get(held.holding.symbol)
        if held.value_in_base is None or (instrument is not None and instrument.type in POOLED):
            continue
        by_symbol[held.holding.symbol] += held.value_in_base  # one issuer, however many accounts
    shares = {symbol: _share(value, facts.total) for symbol, value in by_symbol.items()}
    over = sorted((s for s in shares if shares[s] > threshold), key=lambda s: (-shares[s], s))
    if not over:
        return None
    parts = [f"{s} is {_pct(shares[s])} ({_money(by_symbol[s], facts.currency)})" for s in over]
    return Finding(
        "single_holding",
        _over(shares[over[0]], threshold),
        f"{'; '.join(parts)} of your portfolio{_known_part(facts)}, over the "
        f"{_limit(threshold)}% limit for one company's or issuer's securities: if it fails, "
        "that share of your money goes with it. Funds and ETFs are not counted here.",
        {"threshold": threshold, "portfolio_value": facts.total}
        | {f"share:{s}": shares[s] for s in over}
        | {f"value:{s}": by_symbol[s] for s in over},
    )


def _bucket_rule(
    facts: Facts,
    threshold: Decimal,
    dimension: Dimension,
    ignore: Callable[[str], bool],
) -> tuple[list[str], dict[str, Decimal], dict[str, Decimal]] | Skip:
    """Buckets of ``dimension`` whose exact share is past ``threshold``, largest first."""
    if (skip := _no_value(facts)) is not None:
        return skip
    allocation = allocate(facts.valuation, facts.instruments, dimension)
    values = {b.name: b.value for b in allocation.buckets if not ignore(b.name)}
    shares = {name: _share(value, allocation.total) for name, value in values.items()}
    over = sorted((n for n in shares if shares[n] > threshold), key=lambda n: (-shares[n], n))
    return over, shares, values


def _sector(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    found = _bucket_rule(facts, threshold, Dimension.SECTOR, lambda n: n in (UNKNOWN, CASH))
    if isinstance(found, Skip):
        return found
    parts = {name: f"{name} is" for name in found[0]}
    return _concentration(
        "sector",
        facts,
        threshold,
        found,
        parts,
        f" (counting what funds hold), over the {_limit(threshold)}% limit for one sector: "
        "one industry's bad years would weigh on much of it.",
    )


def _currency(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    base = facts.currency
    found = _bucket_rule(facts, threshold, Dimension.CURRENCY, lambda name: name == base)
    if isinstance(found, Skip):
        return found
    parts = {name: f"{name} is" for name in found[0]}
    return _concentration(
        "currency",
        facts,
        threshold,
        found,
        parts,
        f", over the {_limit(threshold)}% limit for one currency other than your base "
        f"currency {base}: a fall of that currency against {base} lowers what you can spend.",
    )


def _account(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    found = _bucket_rule(facts, threshold, Dimension.ACCOUNT, lambda name: False)
    if isinstance(found, Skip):
        return found
    parts = {name: f"{facts.accounts[name].name} holds" for name in found[0]}
    return _concentration(
        "account",
        facts,
        threshold,
        found,
        parts,
        f", over the {_limit(threshold)}% limit for one account: a problem with that provider "
        "or account type (a freeze, a rule change) would reach most of your money.",
    )


def _concentration(
    rule: str,
    facts: Facts,
    threshold: Decimal,
    found: tuple[list[str], Mapping[str, Decimal], Mapping[str, Decimal]],
    parts: Mapping[str, str],
    reason: str,
) -> Finding | None:
    """The finding of a bucket rule (sector, currency, account): each bucket over the
    threshold with its share, and the shares and values as figures; None when none is."""
    over, shares, values = found
    if not over:
        return None
    said = "; ".join(f"{parts[name]} {_pct(shares[name])}" for name in over)
    return Finding(
        rule,
        _over(shares[over[0]], threshold),
        f"{said} of your portfolio{_known_part(facts)}{reason}",
        {"threshold": threshold, "portfolio_value": facts.total}
        | {f"share:{name}": shares[name] for name in over}
        | {f"value:{name}": values[name] for name in over},
    )


def _cash_drag(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    if (skip := _no_value(facts)) is not None:
        return skip
    cash = sum(
        (v for account, v in facts.cash_by_account().items() if not facts.is_savings(account)),
        _ZERO,
    )
    share = _share(cash, facts.total)
    if share <= threshold:
        return None
    return Finding(
        "cash_drag",
        _over(share, threshold),
        f"{_money(cash, facts.currency)} ({_pct(share)} of your portfolio{_known_part(facts)}) "
        f"sits as cash in investment accounts, over the {_limit(threshold)}% limit: uninvested "
        "money earns little and drags on returns. Cash in savings accounts is not counted "
        "(it is the emergency fund).",
        {"threshold": threshold, "portfolio_value": facts.total, "cash": cash, "share": share},
    )


def _emergency_fund(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    spending = facts.settings.monthly_spending
    if spending is None or spending <= 0:
        return Skip("set your monthly spending (monthly_spending) to check the emergency fund")
    savings = sum(
        (v for account, v in facts.cash_by_account().items() if facts.is_savings(account)),
        _ZERO,
    )
    months = savings / spending
    if months >= threshold:
        return None
    target = threshold * spending
    currency = facts.currency
    return Finding(
        "emergency_fund",
        Severity.HIGH if months * _TWO < threshold else Severity.MEDIUM,
        f"Cash in savings accounts is {_money(savings, currency)}, "
        f"{months.quantize(Decimal('0.1'))} months of your {_money(spending, currency)} monthly "
        f"spending, short of the {_limit(threshold)} months ({_money(target, currency)}) to "
        f"keep for emergencies by {_money(target - savings, currency)}: without it, a job loss "
        "or a large bill could force a sale at a bad time.",
        {
            "threshold": threshold,
            "savings": savings,
            "monthly_spending": spending,
            "months": months,
            "target": target,
            "shortfall": target - savings,
        },
    )


def year_before(day: date) -> date:
    """The same day a year earlier (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def fees_paid(transactions: Iterable[Transaction], start: date, end: date) -> list[Transaction]:
    """Transactions dated after ``start`` up to and including ``end`` that paid a fee."""
    return [
        t
        for t in transactions
        if start < t.date <= end and (t.fee > 0 or t.type is TransactionType.FEE)
    ]


def _fee(t: Transaction) -> Decimal:
    """What ``t`` paid in fees: its fee, plus its amount when it is a FEE row (as the ledger
    counts them)."""
    return t.fee + (t.amount if t.type is TransactionType.FEE else _ZERO)


def _fee_drag(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    as_of = facts.valuation.as_of
    start = year_before(as_of)
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for t in fees_paid(facts.transactions, start, as_of):
        by_currency[t.currency] += _fee(t)
    fees = _ZERO
    for currency, amount in sorted(by_currency.items()):
        converted, _ = facts.rates.convert(amount, currency, facts.currency)
        if converted is None:
            return Skip(f"no {currency}/{facts.currency} rate to convert {currency} fees")
        fees += converted
    invested = sum(
        (h.value_in_base for h in facts.valuation.holdings if h.value_in_base is not None),
        _ZERO,
    )
    if invested <= 0:
        return Skip("nothing is invested to weigh the fees against")
    ratio = _share(fees, invested)
    if ratio <= threshold:
        return None
    return Finding(
        "fee_drag",
        _over(ratio, threshold),
        f"You paid {_money(fees, facts.currency)} in fees from {start.isoformat()} (exclusive) "
        f"to {as_of.isoformat()}, {_pct(ratio)} of the {_money(invested, facts.currency)} "
        f"invested, over the {_limit(threshold)}% a year limit: fees compound against you "
        "every year.",
        {"threshold": threshold, "fees": fees, "invested": invested, "ratio": ratio},
    )


_CLASSIFIED = (Dimension.ASSET_CLASS, Dimension.REGION, Dimension.SECTOR)


def _unknown_classification(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    assert threshold is not None
    if (skip := _no_value(facts)) is not None:
        return skip
    shares: dict[Dimension, Decimal] = {}
    symbols: dict[Dimension, list[str]] = {}
    for dimension in _CLASSIFIED:
        allocation = allocate(facts.valuation, facts.instruments, dimension)
        unknown = next((b.value for b in allocation.buckets if b.name == UNKNOWN), _ZERO)
        shares[dimension] = _share(unknown, allocation.total)
        symbols[dimension] = sorted(
            {
                held.holding.symbol
                for held in facts.valuation.holdings
                if held.value_in_base is not None and not _classified(facts, held, dimension)
            }
        )
    over = [d for d in _CLASSIFIED if shares[d] > threshold]
    if not over:
        return None
    words = {
        Dimension.ASSET_CLASS: "asset class",
        Dimension.REGION: "region",
        Dimension.SECTOR: "sector",
    }
    parts = [f"{_pct(shares[d])} has no {words[d]} ({', '.join(symbols[d])})" for d in over]
    return Finding(
        "unknown_classification",
        Severity.LOW,
        f"Of your portfolio by value{_known_part(facts)}, {'; '.join(parts)}: the allocation "
        "and the sector check cannot see inside it. Set its weights to include it.",
        {"threshold": threshold} | {f"share:{d.value}": shares[d] for d in over},
    )


def _classified(facts: Facts, held: HoldingValue, dimension: Dimension) -> bool:
    instrument = facts.instruments.get(held.holding.symbol)
    return instrument is not None and bool(getattr(instrument, dimension.value).known)


def _stale_prices(facts: Facts, threshold: Decimal | None) -> Finding | Skip | None:
    valuation = facts.valuation
    stale, missing = valuation.stale, valuation.missing
    if not stale and not missing:
        return None
    parts = [f"no {q.name} on or before {valuation.as_of.isoformat()}" for q in missing]
    parts += [
        f"{q.name} is {(valuation.as_of - q.date).days} days old ({q.date.isoformat()})"
        for q in stale
        if q.date is not None
    ]
    consequence = (
        "positions without a price or rate are left out of every figure above"
        if missing
        else "the values rest on old prices or rates"
    )
    return Finding(
        "stale_prices",
        Severity.HIGH if missing else Severity.MEDIUM,
        f"{'; '.join(parts)} (stale after {valuation.stale_days} days): {consequence}. "
        "Import or set newer ones.",
        {"missing": Decimal(len(missing)), "stale": Decimal(len(stale))}
        | {
            f"age_days:{q.name}": Decimal((valuation.as_of - q.date).days)
            for q in stale
            if q.date is not None
        },
    )


RULES: tuple[Rule, ...] = (
    Rule("single_holding", "Single-holding concentration", Decimal(10), "%", _single_holding),
    Rule("sector", "Sector concentration", Decimal(30), "%", _sector),
    Rule("currency", "Currency concentration", Decimal(50), "%", _currency),
    Rule("account", "Account concentration", Decimal(50), "%", _account),
    Rule("cash_drag", "Cash drag", Decimal(10), "%", _cash_drag),
    Rule("emergency_fund", "Emergency fund", Decimal(3), "months", _emergency_fund),
    Rule("fee_drag", "Fee drag", Decimal("0.5"), "%", _fee_drag),
    Rule("unknown_classification", "Unknown classifications", _ZERO, "%", _unknown_classification),
    # Staleness is counted in days by settings.stale_price_days, which the valuation applies.
    Rule("stale_prices", "Stale or missing prices", None, "", _stale_prices),
)


def thresholds(settings: PortfolioSettings) -> dict[str, Decimal | None]:
    """Each rule's threshold: the user's (``settings.risk_thresholds``), else the default.

    Raises :class:`InvalidInputError` for an unknown rule name, a rule without a threshold,
    or a value out of range (below 0, or over 100 for a percentage)."""
    by_name = {rule.name: rule for rule in RULES}
    for name, value in settings.risk_thresholds.items():
        rule = by_name.get(name)
        if rule is None:
            raise InvalidInputError(
                f"risk_thresholds: no risk rule {name!r} (rules: {', '.join(by_name)})"
            )
        if rule.default is None:
            raise InvalidInputError(
                f"risk_thresholds.{name}: this rule has no threshold (set stale_price_days)"
            )
        if not value.is_finite() or value < 0 or (rule.unit == "%" and value > HUNDRED):
            limit = "between 0 and 100" if rule.unit == "%" else "0 or more"
            raise InvalidInputError(f"risk_thresholds.{name}: {value} must be {limit}")
    return {rule.name: settings.risk_thresholds.get(rule.name, rule.default) for rule in RULES}


def xray(
    valuation: Valuation,
    transactions: Iterable[Transaction],
    instruments: Mapping[str, Instrument],
    accounts: Sequence[Account],
    settings: PortfolioSettings,
    rates: Iterable[FxRate] = (),
) -> XRay:
    """Run every rule on ``valuation`` (its day is the X-ray's day).

    ``transactions`` give the fees of the last 12 months and ``rates`` convert them to the
    base currency (the ledger's fees have no dates). Raises :class:`InvalidInputError` for a
    bad threshold (:func:`thresholds`), a valuation in another currency than
    ``settings.base_currency``, or an account of the valuation not in ``accounts``.
    """
    limits = thresholds(settings)
    if valuation.base_currency != settings.base_currency:
        raise InvalidInputError(
            f"the valuation is in {valuation.base_currency} but the base currency is "
            f"{settings.base_currency}"
        )
    by_id = {account.id: account for account in accounts}
    used = {h.holding.account for h in valuation.holdings} | {c.account for c in valuation.cash}
    undefined = sorted(used - by_id.keys())
    if undefined:
        raise InvalidInputError(f"account {undefined[0]!r} is not defined")
    facts = Facts(
        valuation=valuation,
        instruments=instruments,
        accounts=by_id,
        settings=settings,
        transactions=tuple(transactions),
        rates=Rates(rates, valuation.as_of, valuation.stale_days),
    )
    findings: list[tuple[int, int, Finding]] = []
    runs: list[RuleRun] = []
    for order, rule in enumerate(RULES):
        threshold = limits[rule.name]
        outcome = rule.check(facts, threshold)
        if isinstance(outcome, Skip):
            runs.append(RuleRun(rule.name, RuleStatus.SKIPPED, threshold, outcome.reason))
        elif outcome is None:
            runs.append(RuleRun(rule.name, RuleStatus.QUIET, threshold))
        else:
            runs.append(RuleRun(rule.name, RuleStatus.FIRED, threshold))
            findings.append((_RANK[outcome.severity], order, outcome))
    ordered = tuple(finding for _, _, finding in sorted(findings, key=lambda f: f[:2]))
    return XRay(valuation.as_of, valuation.base_currency, ordered, tuple(runs))
