"""Risk checks (X-ray): each rule fires just past its threshold and stays quiet at it, the user
can move every threshold, rules that cannot run say why, findings come by severity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from alex.domain.errors import InvalidInputError
from alex.portfolio.holdings import ledger
from alex.portfolio.model import (
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    PortfolioSettings,
    Price,
    Transaction,
    Weights,
)
from alex.portfolio.valuation import value_portfolio
from alex.portfolio.xray import (
    RULES,
    Finding,
    RuleStatus,
    Severity,
    XRay,
    thresholds,
    xray,
    year_before,
)
from tests.unit.test_portfolio_holdings import tx

D = Decimal
DAY = date(2026, 6, 30)
TODAY = DAY.isoformat()
ACCOUNTS = (
    Account("isa", "Stocks ISA", AccountKind.TAXABLE, "GBP"),
    Account("sipp", "Pension", AccountKind.RETIREMENT, "GBP"),
    Account("bank", "Savings", AccountKind.SAVINGS, "GBP"),
)
WORLD_SECTORS = {"technology": 30, "financials": 20, "health": 20, "industrials": 15, "energy": 15}


def instrument(
    symbol: str, kind: InstrumentType, sectors: dict[str, int], currency: str = "GBP"
) -> Instrument:
    known = Weights({"equity": D(100)}), Weights({"global": D(100)})
    return Instrument(
        symbol,
        symbol.title(),
        kind,
        currency,
        asset_class=known[0],
        region=known[1],
        sector=Weights({name: D(share) for name, share in sectors.items()}),
    )


INSTRUMENTS = {
    i.symbol: i
    for i in (
        instrument("WORLD", InstrumentType.ETF, WORLD_SECTORS),
        instrument("SHELL", InstrumentType.STOCK, {"energy": 100}),
        instrument("TECHCO", InstrumentType.STOCK, {"technology": 100}),
        instrument("MMF", InstrumentType.CASH_LIKE, {"cash": 100}),
        instrument("EURF", InstrumentType.ETF, WORLD_SECTORS, "EUR"),
    )
}


def price(symbol: str, close: str, day: str = TODAY, currency: str = "GBP") -> Price:
    return Price(symbol, date.fromisoformat(day), D(close), currency)


PRICES = [price("WORLD", "100"), price("SHELL", "100"), price("TECHCO", "1"), price("MMF", "100")]


def run(
    transactions: Sequence[Transaction],
    prices: Sequence[Price] = PRICES,
    *,
    settings: PortfolioSettings | None = None,
    rates: Sequence[FxRate] = (),
) -> XRay:
    settings = settings or PortfolioSettings(base_currency="GBP")
    valuation = value_portfolio(
        ledger(transactions),
        ACCOUNTS,
        prices,
        rates,
        base_currency=settings.base_currency,
        as_of=DAY,
        stale_days=settings.stale_price_days,
    )
    return xray(valuation, transactions, INSTRUMENTS, ACCOUNTS, settings, rates)


def finding(result: XRay, rule: str) -> Finding | None:
    return next((f for f in result.findings if f.rule == rule), None)


def limits(**overrides: str) -> PortfolioSettings:
    return PortfolioSettings(
        base_currency="GBP", risk_thresholds={k: D(v) for k, v in overrides.items()}
    )


def invested(*buys: tuple[str, str], account: str = "isa", cash: str = "0") -> list[Transaction]:
    """A deposit that pays for ``buys`` (symbol, units at 100) and leaves ``cash`` over."""
    spent = sum((D(units) * 100 for _, units in buys), D(cash))
    rows = [tx("2026-01-02", "DEPOSIT", None, "1", str(spent), account=account)]
    return rows + [tx("2026-01-05", "BUY", s, u, "100", account=account) for s, u in buys]


# --- Single holding ------------------------------------------------------------------------


def test_single_holding_quiet_at_10_percent_fires_just_past_it() -> None:
    """The 10% default is the UCITS Directive's cap on one issuer's securities (Directive
    2009/65/EC, Article 52(1)-(2): 5%, raised to 10% for some issuers): a stock at exactly 10%
    of the portfolio is within it, a penny more is past it."""
    book = invested(("WORLD", "9"), ("SHELL", "1"))
    assert finding(run(book), "single_holding") is None
    fired = finding(run(book, [price("WORLD", "100"), price("SHELL", "100.01")]), "single_holding")
    assert fired is not None
    assert fired.figures["share:SHELL"] == D("100.01") * 100 / D("1000.01")
    assert fired.severity is Severity.MEDIUM
    assert "SHELL is 10.00% (100.01 GBP)" in fired.message


def test_single_holding_adds_up_accounts_and_leaves_funds_out() -> None:
    book = invested(("WORLD", "18"), ("SHELL", "1")) + invested(("SHELL", "1"), account="sipp")
    assert finding(run(book), "single_holding") is None  # 2 x 100 of 2,000: 10%, not past it
    fired = finding(run(book, settings=limits(single_holding="9.99")), "single_holding")
    assert fired is not None and fired.figures["share:SHELL"] == 10
    assert "share:WORLD" not in fired.figures  # an ETF at 90% is not one issuer


def test_single_holding_twice_the_threshold_is_high() -> None:
    fired = finding(run(invested(("WORLD", "8"), ("SHELL", "2"))), "single_holding")
    assert fired is not None and fired.severity is Severity.HIGH


# --- Sector --------------------------------------------------------------------------------


def test_sector_quiet_at_30_percent_fires_past_it_counting_inside_funds() -> None:
    only_world = invested(("WORLD", "10"))
    assert finding(run(only_world), "sector") is None  # technology exactly 30%
    book = [
        *invested(("WORLD", "99")),
        tx("2026-01-02", "DEPOSIT", None, "1", "1"),
        tx("2026-01-05", "BUY", "TECHCO", "1", "1"),
    ]
    fired = finding(run(book), "sector")
    assert fired is not None
    assert fired.figures["share:technology"] == D(2971) * 100 / D(9901)
    assert list(k for k in fired.figures if k.startswith("share:")) == ["share:technology"]
    quiet = run(book, settings=limits(sector="31"))
    assert finding(quiet, "sector") is None


def test_sector_leaves_cash_and_unknown_out() -> None:
    book = invested(("WORLD", "1"), cash="900")  # cash 90%: the cash rule's business
    book += [
        tx("2026-01-05", "BUY", "MYSTERY", "1", "100"),
        tx("2026-01-02", "DEPOSIT", None, "1", "100"),
    ]
    result = run(book, [*PRICES, price("MYSTERY", "100")])
    assert finding(result, "sector") is None


# --- Currency ------------------------------------------------------------------------------


def eur_book() -> list[Transaction]:
    return [
        *invested(("WORLD", "10")),
        tx("2026-01-02", "DEPOSIT", None, "1", "1000", currency="EUR"),
        tx("2026-01-05", "BUY", "EURF", "10", "100", currency="EUR"),
    ]


def eur_rate(rate: str) -> list[FxRate]:
    return [FxRate(DAY, "EUR", "GBP", D(rate))]


def test_currency_quiet_at_half_fires_past_it_and_never_for_the_base() -> None:
    prices = [*PRICES, price("EURF", "100", currency="EUR")]
    assert finding(run(eur_book(), prices, rates=eur_rate("1")), "currency") is None
    fired = finding(run(eur_book(), prices, rates=eur_rate("1.0001")), "currency")
    assert fired is not None
    assert fired.figures["share:EUR"] == D("1000.1") * 100 / D("2000.1")
    assert "base currency GBP" in fired.message
    assert finding(run(invested(("WORLD", "10"))), "currency") is None  # 100% GBP: the base
    lower = run(eur_book(), prices, rates=eur_rate("1"), settings=limits(currency="49.99"))
    assert finding(lower, "currency") is not None


# --- Account -------------------------------------------------------------------------------


def test_account_rule_decides_as_ghostfolios_account_cluster_rule() -> None:
    """Ghostfolio's AccountClusterRiskCurrentInvestment
    (apps/api/src/models/rules/account-cluster-risk/current-investment.ts, commit c542997d)
    fails when the largest account's value / the total value > thresholdMax, default 0.5, and
    reports "Over 50% of the current investment is at <account> (<ratio>%)". Same inputs, same
    verdicts: 500 / 500 passes (not strictly over), 600 / 400 fails at 60%, one account fails
    at 100%."""
    even = invested(("WORLD", "5")) + invested(("WORLD", "5"), account="sipp")
    assert finding(run(even), "account") is None
    uneven = invested(("WORLD", "6")) + invested(("WORLD", "4"), account="sipp")
    fired = finding(run(uneven), "account")
    assert fired is not None and fired.figures["share:isa"] == 60
    assert "Stocks ISA holds 60.00%" in fired.message and fired.severity is Severity.MEDIUM
    alone = finding(run(invested(("WORLD", "5"))), "account")
    assert alone is not None and alone.severity is Severity.HIGH
    assert finding(run(uneven, settings=limits(account="60")), "account") is None


# --- Cash drag -----------------------------------------------------------------------------


def test_cash_drag_quiet_at_10_percent_fires_past_it() -> None:
    assert finding(run(invested(("WORLD", "9"), cash="100")), "cash_drag") is None
    fired = finding(run(invested(("WORLD", "8.99"), cash="101")), "cash_drag")
    assert fired is not None
    assert fired.figures["cash"] == 101 and fired.figures["share"] == D("10.1")
    assert (
        finding(
            run(invested(("WORLD", "8.99"), cash="101"), settings=limits(cash_drag="11")),
            "cash_drag",
        )
        is None
    )


def test_cash_drag_counts_cash_like_funds_but_not_savings_accounts() -> None:
    money_market = finding(run(invested(("WORLD", "8"), ("MMF", "2"))), "cash_drag")
    assert money_market is not None and money_market.figures["cash"] == 200
    savings = invested(("WORLD", "10")) + invested(cash="5000", account="bank")
    assert finding(run(savings), "cash_drag") is None


# --- Emergency fund ------------------------------------------------------------------------


def spending(monthly: str, **overrides: str) -> PortfolioSettings:
    return PortfolioSettings(
        base_currency="GBP",
        monthly_spending=D(monthly),
        risk_thresholds={k: D(v) for k, v in overrides.items()},
    )


def test_emergency_fund_skipped_with_a_note_until_spending_is_set() -> None:
    result = run(invested(("WORLD", "10")))
    assert "emergency_fund" not in result.ran
    assert "monthly spending" in result.skipped["emergency_fund"]
    assert finding(result, "emergency_fund") is None


def test_emergency_fund_quiet_at_3_months_fires_below() -> None:
    book = invested(("WORLD", "10"))
    assert (
        finding(
            run(book + invested(cash="3000", account="bank"), settings=spending("1000")),
            "emergency_fund",
        )
        is None
    )
    fired = finding(
        run(book + invested(cash="2999.99", account="bank"), settings=spending("1000")),
        "emergency_fund",
    )
    assert fired is not None
    assert fired.figures["months"] == D("2.99999") and fired.figures["shortfall"] == D("0.01")
    assert fired.severity is Severity.MEDIUM
    six = finding(
        run(
            book + invested(cash="3000", account="bank"),
            settings=spending("1000", emergency_fund="6"),
        ),
        "emergency_fund",
    )
    assert six is not None and six.figures["shortfall"] == 3000
    assert "short of the 6 months (6,000.00 GBP)" in six.message


def test_emergency_fund_counts_cash_like_funds_in_savings_and_nothing_else() -> None:
    savings = invested(("MMF", "10"), account="bank")  # 1,000 in a money-market fund
    fired = finding(
        run(invested(cash="9000") + savings, settings=spending("1000")), "emergency_fund"
    )
    assert fired is not None and fired.figures["savings"] == 1000  # the isa's cash is not it
    assert fired.severity is Severity.HIGH  # 1 month of 3: under half


# --- Fee drag ------------------------------------------------------------------------------


def fee_book(fee: str, day: str = "2026-03-01") -> list[Transaction]:
    return [
        *invested(cash="10"),
        tx("2026-01-02", "DEPOSIT", None, "1", "10000"),
        tx(day, "BUY", "WORLD", "100", "100", fee),
    ]


def test_fee_drag_quiet_at_half_a_percent_fires_past_it() -> None:
    assert finding(run(fee_book("50")), "fee_drag") is None  # 50 of 10,000 invested: 0.5%
    fired = finding(run(fee_book("50.01")), "fee_drag")
    assert fired is not None and fired.figures["ratio"] == D("0.5001")
    assert finding(run(fee_book("50.01"), settings=limits(fee_drag="1")), "fee_drag") is None


def test_fee_drag_counts_the_last_12_months_and_fee_rows() -> None:
    old = fee_book("500", day=year_before(DAY).isoformat())  # a year ago today: outside
    assert finding(run(old), "fee_drag") is None
    recent = [*fee_book("0"), tx("2025-07-01", "FEE", None, "1", "60")]  # the day after: inside
    fired = finding(run(recent), "fee_drag")
    assert fired is not None and fired.figures["fees"] == 60
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)


def test_fee_drag_converts_fees_and_skips_without_a_rate() -> None:
    book = [
        *fee_book("0"),
        tx("2026-02-01", "DEPOSIT", None, "1", "100", currency="EUR"),
        tx("2026-02-01", "FEE", None, "1", "60", currency="EUR"),
    ]
    fired = finding(run(book, rates=[FxRate(DAY, "EUR", "GBP", D("0.85"))]), "fee_drag")
    assert fired is not None and fired.figures["fees"] == D("51")
    no_rate = run(book)
    assert "fee_drag" in no_rate.skipped and "EUR/GBP" in no_rate.skipped["fee_drag"]


# --- Unknown classifications ---------------------------------------------------------------


def test_unknown_classifications_fire_above_zero_and_name_the_holdings() -> None:
    assert finding(run(invested(("WORLD", "10"))), "unknown_classification") is None
    book = invested(("WORLD", "9"), ("MYSTERY", "1"))
    result = run(book, [*PRICES, price("MYSTERY", "100")])
    fired = finding(result, "unknown_classification")
    assert fired is not None and fired.severity is Severity.LOW
    assert fired.figures["share:asset_class"] == 10 and fired.figures["share:sector"] == 10
    assert "10.00% has no asset class (MYSTERY)" in fired.message
    tolerant = run(
        book, [*PRICES, price("MYSTERY", "100")], settings=limits(unknown_classification="10")
    )
    assert finding(tolerant, "unknown_classification") is None


# --- Stale prices --------------------------------------------------------------------------


def test_stale_and_missing_prices() -> None:
    book = invested(("WORLD", "5"), ("SHELL", "5"))
    assert finding(run(book), "stale_prices") is None
    week = [price("WORLD", "100", "2026-06-23"), price("SHELL", "100")]
    assert finding(run(book, week), "stale_prices") is None  # 7 days: not yet stale
    eight = [price("WORLD", "100", "2026-06-22"), price("SHELL", "100")]
    stale = finding(run(book, eight), "stale_prices")
    assert stale is not None and stale.severity is Severity.MEDIUM
    assert stale.figures["age_days:price WORLD"] == 8
    assert (
        finding(
            run(book, eight, settings=PortfolioSettings("GBP", stale_price_days=8)), "stale_prices"
        )
        is None
    )
    missing = run(book, [price("WORLD", "100")])
    gone = finding(missing, "stale_prices")
    assert gone is not None and gone.severity is Severity.HIGH and gone.figures["missing"] == 1
    # SHELL's value is unknown: the shares are of the known part, and say so.
    account = finding(missing, "account")
    assert account is not None and "known value" in account.message


# --- The whole X-ray -----------------------------------------------------------------------


def test_findings_come_by_severity_and_every_rule_reports_its_status() -> None:
    book = invested(("WORLD", "7"), ("SHELL", "2"), ("MYSTERY", "1"))
    result = run(book, [price("WORLD", "100", "2026-06-01"), price("SHELL", "100")])
    ranks = [list(Severity).index(f.severity) for f in result.findings]
    assert ranks == sorted(ranks)
    assert [f.rule for f in result.findings][:2] == ["single_holding", "account"]
    assert result.findings[0].severity is Severity.HIGH
    assert [run.rule for run in result.runs] == [rule.name for rule in RULES]
    fired = {run.rule for run in result.runs if run.status is RuleStatus.FIRED}
    assert fired == {f.rule for f in result.findings}
    assert result.skipped == {"emergency_fund": result.skipped["emergency_fund"]}


def test_an_empty_portfolio_skips_what_it_cannot_weigh() -> None:
    result = run([])
    assert result.findings == ()
    assert "no known value" in result.skipped["single_holding"]
    assert "stale_prices" in result.ran


def test_thresholds_default_and_are_checked() -> None:
    defaults = thresholds(PortfolioSettings())
    assert defaults["single_holding"] == 10 and defaults["stale_prices"] is None
    assert thresholds(limits(sector="25"))["sector"] == 25
    for bad, words in (
        ({"sectr": "25"}, "no risk rule 'sectr'"),
        ({"sector": "-1"}, "between 0 and 100"),
        ({"cash_drag": "101"}, "between 0 and 100"),
        ({"emergency_fund": "-1"}, "0 or more"),
        ({"stale_prices": "3"}, "stale_price_days"),
    ):
        with pytest.raises(InvalidInputError, match=words):
            thresholds(limits(**bad))


def test_the_valuation_must_be_in_the_base_currency() -> None:
    valuation = value_portfolio(ledger([]), ACCOUNTS, [], [], base_currency="USD", as_of=DAY)
    with pytest.raises(InvalidInputError, match="in USD but the base currency is GBP"):
        xray(valuation, [], INSTRUMENTS, ACCOUNTS, PortfolioSettings("GBP"))


def test_the_worked_example_of_the_docs() -> None:
    """docs/portfolio.md, "Risk checks (X-ray)": the figures of its worked example."""
    accounts = (ACCOUNTS[0], Account("savings", "Savings", AccountKind.SAVINGS, "GBP"))
    book = [
        tx("2026-01-02", "DEPOSIT", None, "1", "10065"),
        tx("2026-02-02", "BUY", "WORLD", "70", "100", "25"),
        tx("2026-02-02", "BUY", "SHELL", "15", "100", "20"),
        tx("2026-06-01", "FEE", None, "1", "20"),
        tx("2026-01-02", "DEPOSIT", None, "1", "4000", account="savings"),
    ]
    settings = spending("2000")
    valuation = value_portfolio(ledger(book), accounts, PRICES, [], base_currency="GBP", as_of=DAY)
    result = xray(valuation, book, INSTRUMENTS, accounts, settings)
    assert valuation.total.value == 14000
    assert [f.rule for f in result.findings] == [
        "single_holding",
        "account",
        "cash_drag",
        "emergency_fund",
        "fee_drag",
    ]
    assert {f.severity for f in result.findings} == {Severity.MEDIUM}
    figures = {f.rule: f.figures for f in result.findings}
    assert figures["single_holding"]["share:SHELL"] == D(1500) * 100 / 14000
    assert figures["account"]["value:isa"] == 10000
    assert figures["cash_drag"]["cash"] == 1500
    assert figures["emergency_fund"]["months"] == 2
    assert figures["emergency_fund"]["shortfall"] == 2000
    assert figures["fee_drag"]["fees"] == 65 and figures["fee_drag"]["invested"] == 8500
    assert (
        "Stocks ISA holds 71.43% of your portfolio, over the 50% limit"
        in result.findings[1].message
    )
    raised = PortfolioSettings("GBP", D(2000), risk_thresholds={"account": D(75)})
    assert "account" not in {
        f.rule for f in xray(valuation, book, INSTRUMENTS, accounts, raised).findings
    }
