"""The portfolio's use cases: import and export files, set prices, targets and settings, show
the portfolio and project it. Written against the :class:`~alex.ports.PortfolioStore` port;
the doors (CLI now, HTTP next) call these and only print or serialise what they return.

Imports are all-or-nothing per call: every file of a call is parsed and checked (formats,
known accounts, then the whole ledger replayed with the new transactions, so a sale of more
than is held is refused) before anything is written. Writes then go in dependency order:
accounts, instruments, FX rates, prices, transactions (each transaction batch is one atomic
store write). Re-importing adds nothing: transactions carry stable ids
(:mod:`alex.portfolio.formats.ids`), and the other records are keyed (an account by id, an
instrument by symbol, a price by symbol and day, a rate by pair and day).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.portfolio.allocation import Allocation, Dimension, allocate, check_targets, drift
from alex.portfolio.classifications import Classifications
from alex.portfolio.files import PortfolioFiles, currency_pairs
from alex.portfolio.formats import fields
from alex.portfolio.history import ValueHistory, month_ends, value_history
from alex.portfolio.holdings import Ledger, ledger
from alex.portfolio.model import (
    MAX_AGE,
    Account,
    FxRate,
    Instrument,
    PortfolioSettings,
    ProjectionDefaults,
    ProposedClassification,
    Transaction,
    Weights,
)
from alex.portfolio.valuation import Valuation, value_portfolio
from alex.portfolio.xray import XRay
from alex.portfolio.xray import xray as run_xray
from alex.ports import PortfolioStore

if TYPE_CHECKING:
    from alex.portfolio.projection import Projection, ProjectionInputs

T = TypeVar("T")
# Enough for any household and far below what a CLI or an HTTP body should carry.
MAX_PATHS = 100_000
MAX_YEARS = 100


@dataclass(frozen=True)
class _State:
    settings: PortfolioSettings
    accounts: tuple[Account, ...]
    instruments: Mapping[str, Instrument]
    transactions: list[Transaction]
    book: Ledger
    rates: list[FxRate]
    valuation: Valuation


@dataclass(frozen=True)
class PortfolioView:
    """Everything ``portfolio show`` shows, on ``as_of``: the records, the ledger (holdings,
    cash, income, gains), their valuation in the base currency, the allocation along every
    dimension and the drift from each target set (percentage points, share - target)."""

    as_of: date
    settings: PortfolioSettings
    accounts: tuple[Account, ...]
    instruments: Mapping[str, Instrument]
    transactions: int
    ledger: Ledger
    valuation: Valuation
    allocations: Mapping[Dimension, Allocation]
    targets: Mapping[Dimension, Mapping[str, Decimal]]
    drift: Mapping[Dimension, Mapping[str, Decimal]]
    # Waiting for the user's accept: shown beside the allocation, never counted in it.
    proposals: tuple[ProposedClassification, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.accounts and not self.transactions


@dataclass(frozen=True)
class ProjectionPlan:
    """The projection's personal inputs for one run. ``None`` takes the value stored in the
    settings (``PortfolioSettings.projection``), else the built-in default: age 40 (or this
    year - the stored birth year), retirement at 65, to age 95, no contribution or growth,
    no fee. ``spending`` is yearly, in today's money; unset anywhere it is 12 x the settings'
    monthly spending (0 if unset). ``years`` (if given) sets ``end_age = current_age + years``.
    """

    current_age: int | None = None
    retirement_age: int | None = None
    end_age: int | None = None
    contribution: Decimal | None = None
    contribution_growth: Decimal | None = None
    spending: Decimal | None = None
    fee: Decimal | None = None
    years: int | None = None


# The built-in defaults of ProjectionPlan's fields.
DEFAULT_CURRENT_AGE = 40
DEFAULT_RETIREMENT_AGE = 65
DEFAULT_END_AGE = 95


def _first(*values: T | None, default: T) -> T:
    return next((value for value in values if value is not None), default)


@dataclass(frozen=True)
class ResolvedPlan:
    """A :class:`ProjectionPlan` with every input filled (:func:`resolve_plan`)."""

    current_age: int
    retirement_age: int
    end_age: int
    contribution: Decimal
    contribution_growth: Decimal
    spending: Decimal
    fee: Decimal


def resolve_plan(plan: ProjectionPlan, settings: PortfolioSettings, day: date) -> ResolvedPlan:
    """``plan`` with every input filled: given, else stored, else the built-in default.

    A stored retirement age that time has overtaken (set at 60 for 62, now 63) means the
    user has retired: retirement is taken as now. A retirement age given is used as given.
    """
    stored = settings.projection
    from_birth = None if stored.birth_year is None else day.year - stored.birth_year
    current = _first(plan.current_age, from_birth, default=DEFAULT_CURRENT_AGE)
    retirement = plan.retirement_age
    if retirement is None:
        retirement = max(current, _first(stored.retirement_age, default=DEFAULT_RETIREMENT_AGE))
    monthly = settings.monthly_spending
    spending = _first(
        plan.spending,
        stored.spending,
        None if monthly is None else monthly * 12,
        default=Decimal(0),
    )
    return ResolvedPlan(
        current_age=current,
        retirement_age=retirement,
        end_age=current + plan.years
        if plan.years is not None
        else _first(plan.end_age, stored.end_age, default=DEFAULT_END_AGE),
        contribution=_first(plan.contribution, stored.contribution, default=Decimal(0)),
        contribution_growth=_first(
            plan.contribution_growth, stored.contribution_growth, default=Decimal(0)
        ),
        spending=spending,
        fee=_first(plan.fee, stored.fee, default=Decimal(0)),
    )


@dataclass(frozen=True)
class PortfolioProjection:
    """The projection of today's portfolio, what it started from and what it left out."""

    currency: str
    as_of: date
    inputs: ProjectionInputs
    projection: Projection
    left_out: Mapping[str, Decimal]  # asset class -> value with no return assumption
    unvalued: tuple[str, ...]  # positions with no price or rate, not in the start value


class PortfolioService:
    """The portfolio's use cases on one store. ``today`` bounds imported dates and is the
    default valuation day (a parameter, so tests and replays pin it)."""

    def __init__(self, store: PortfolioStore, today: Callable[[], date] = date.today) -> None:
        self.store = store
        self._today = today
        # Imports and exports (alex.portfolio.files): the doors call them through here.
        self.files = PortfolioFiles(store, today)
        # Proposed classifications, accepted or rejected (alex.portfolio.classifications).
        self.classifications = Classifications(store, today)

    # --- showing --------------------------------------------------------------------------
    def _state(self, day: date) -> _State:
        """The records on ``day``, the ledger and its valuation at the prices and rates last
        known that day: what ``show`` and ``xray`` both read."""
        store = self.store
        settings = store.get_settings()
        accounts = tuple(store.list_accounts())
        instruments = {i.symbol: i for i in store.list_instruments()}
        transactions = [entry.transaction for entry in store.list_transactions(end=day)]
        book = ledger(transactions)
        prices = [
            price
            for symbol in sorted({h.symbol for h in book.holdings})
            if (price := store.last_price(symbol, day)) is not None
        ]
        # The last rate of each pair is all the valuation reads of them.
        pairs = currency_pairs(settings, accounts, instruments.values(), transactions)
        rates = [
            rate
            for base, quote in pairs
            if (rate := store.last_fx_rate(base, quote, day)) is not None
        ]
        valuation = value_portfolio(
            book,
            accounts,
            prices,
            rates,
            base_currency=settings.base_currency,
            as_of=day,
            stale_days=settings.stale_price_days,
        )
        return _State(settings, accounts, instruments, transactions, book, rates, valuation)

    def xray(self, as_of: date | None = None) -> XRay:
        """The risk checks on ``as_of`` (default today): docs/portfolio.md, "Risk checks"."""
        return self._xray(self._state(as_of or self._today()))

    def overview(self, as_of: date | None = None) -> tuple[PortfolioView, XRay]:
        """``show`` and ``xray`` on ``as_of`` from one read of the store: the web dashboard
        shows both, and reading the records and prices twice would double its cost."""
        day = as_of or self._today()
        state = self._state(day)
        return self._view(day, state), self._xray(state)

    def _xray(self, state: _State) -> XRay:
        return run_xray(
            state.valuation,
            state.transactions,
            state.instruments,
            state.accounts,
            state.settings,
            state.rates,
        )

    def show(self, as_of: date | None = None) -> PortfolioView:
        """The portfolio on ``as_of`` (default today), valued at the prices and rates last
        known on that day; every price and rate it rests on is listed with its date."""
        day = as_of or self._today()
        return self._view(day, self._state(day))

    def _view(self, day: date, state: _State) -> PortfolioView:
        settings, accounts, instruments = state.settings, state.accounts, state.instruments
        transactions, book, valuation = state.transactions, state.book, state.valuation
        store = self.store
        allocations = {d: allocate(valuation, instruments, d) for d in Dimension}
        targets = {
            Dimension(name): dict(weights.shares)
            for name, weights in store.targets().items()
            if weights.known
        }
        drifts = {d: drift(allocations[d], shares) for d, shares in targets.items()}
        return PortfolioView(
            as_of=day,
            settings=settings,
            accounts=accounts,
            instruments=instruments,
            transactions=len(transactions),
            ledger=book,
            valuation=valuation,
            allocations=allocations,
            targets=targets,
            drift=drifts,
            proposals=tuple(store.list_proposals()),
        )

    def history(self, start: date | None = None, end: date | None = None) -> ValueHistory:
        """The value in the base currency at each month end from ``start`` (default: the
        first transaction's day) to ``end`` (default today), and on ``end``; each point at the
        prices and rates known that day, a position with none yet flagged, never counted as 0
        (docs/portfolio.md, "Value over time"). One replay, one price list per symbol."""
        store = self.store
        end = end or self._today()
        settings = store.get_settings()
        transactions = [entry.transaction for entry in store.list_transactions(end=end)]
        if start is None:
            start = min((t.date for t in transactions), default=end)
        days = month_ends(start, end)
        symbols = sorted({t.symbol for t in transactions if t.symbol})
        prices = [p for s in symbols for p in store.list_prices(s) if p.date <= end]
        rates = [
            rate
            for pair in self.files.currency_pairs(transactions)
            for rate in store.list_fx_rates(*pair)
            if rate.date <= end
        ]
        return value_history(
            transactions,
            store.list_accounts(),
            prices,
            rates,
            base_currency=settings.base_currency,
            days=days,
            stale_days=settings.stale_price_days,
        )

    # --- projecting -----------------------------------------------------------------------
    def project(
        self,
        plan: ProjectionPlan | None = None,
        *,
        seed: int = 0,
        paths: int | None = None,
        as_of: date | None = None,
    ) -> PortfolioProjection:
        """The retirement projection of today's value by asset class (docs/portfolio.md,
        "Retirement projection"), over ``paths`` paths (default ``MIN_PATHS``). Classes
        without a return assumption (``unknown`` among them: never guessed) are left out of
        the start value and listed in ``left_out``."""
        # numpy on first use only: the portfolio's Lambda runs every other use case without it.
        from alex.portfolio.projection import (
            DEFAULT_ASSUMPTIONS,
            MIN_PATHS,
            ProjectionInputs,
            project,
        )

        plan = plan or ProjectionPlan()
        paths = MIN_PATHS if paths is None else paths
        if not MIN_PATHS <= paths <= MAX_PATHS:
            raise InvalidInputError(f"paths: from {MIN_PATHS:,} to {MAX_PATHS:,}")
        if plan.years is not None and not 1 <= plan.years <= MAX_YEARS:
            raise InvalidInputError(f"years: from 1 to {MAX_YEARS}")
        if seed < 0:
            raise InvalidInputError("seed: must be 0 or more")
        view = self.show(as_of)
        allocation = view.allocations[Dimension.ASSET_CLASS]
        holdings = {b.name: b.value for b in allocation.buckets if b.name in DEFAULT_ASSUMPTIONS}
        left_out = {
            b.name: b.value for b in allocation.buckets if b.name not in DEFAULT_ASSUMPTIONS
        }
        negative = sorted(name for name, value in holdings.items() if value < 0)
        if negative:
            raise InvalidInputError(
                f"asset class {negative[0]!r} is worth {holdings[negative[0]]:,.2f} (below 0): "
                "the projection needs what is owned; record the deposits that paid for it"
            )
        full = resolve_plan(plan, view.settings, view.as_of)
        inputs = ProjectionInputs(
            holdings=holdings,
            current_age=full.current_age,
            retirement_age=full.retirement_age,
            end_age=full.end_age,
            contribution=full.contribution,
            contribution_growth=full.contribution_growth,
            spending=full.spending,
            fee=full.fee,
            # An empty portfolio still projects its contributions: into the default mix.
            mix=None if holdings else {"equity": Decimal(60), "bond": Decimal(40)},
        )
        result = project(inputs, paths=paths, seed=seed)
        return PortfolioProjection(
            currency=view.valuation.base_currency,
            as_of=view.as_of,
            inputs=inputs,
            projection=result,
            left_out=left_out,
            unvalued=allocation.excluded,
        )

    # --- accounts -------------------------------------------------------------------------
    def delete_account(self, account_id: str) -> Account:
        """Delete an account no transaction names and return it. An unknown account is
        NotFoundError; one still holding transactions is InvalidInputError naming how many
        (its cash and holdings are derived from them: delete or move them first)."""
        account = self.store.get_account(account_id)
        if account is None:
            raise NotFoundError(f"no account with id {account_id!r}")
        # The store checks again inside its write (SQLite atomically): this one names the
        # count even for a store that would only refuse.
        self.store.delete_account(account_id)
        return account

    # --- targets and settings -------------------------------------------------------------
    def set_target(self, dimension: str, weights: Mapping[str, Decimal]) -> None:
        """The target allocation along ``dimension`` in per cent, summing to exactly 100;
        empty weights remove it."""
        try:
            chosen = Dimension(dimension)
        except ValueError:
            known = ", ".join(d.value for d in Dimension)
            raise InvalidInputError(f"unknown dimension {dimension!r}; one of {known}") from None
        shares = {bucket.strip().lower(): share for bucket, share in weights.items()}
        if shares:
            check_targets(shares, chosen)
        self.store.put_target(chosen.value, Weights(shares))

    def settings(self) -> PortfolioSettings:
        return self.store.get_settings()

    def update_settings(
        self,
        *,
        base_currency: str | None = None,
        monthly_spending: Decimal | None = None,
        stale_price_days: int | None = None,
        birth_year: int | None = None,
        retirement_age: int | None = None,
        end_age: int | None = None,
        contribution: Decimal | None = None,
        contribution_growth: Decimal | None = None,
        spending: Decimal | None = None,
        fee: Decimal | None = None,
    ) -> PortfolioSettings:
        """Change the settings given; the others stay as stored. The projection's inputs
        (``birth_year`` ... ``fee``, see :class:`~alex.portfolio.model.ProjectionDefaults`)
        are checked on their own by the store, and the ages against today here."""
        current = self.store.get_settings()
        given: dict[str, Any] = {
            "birth_year": birth_year,
            "retirement_age": retirement_age,
            "end_age": end_age,
            "contribution": contribution,
            "contribution_growth": contribution_growth,
            "spending": spending,
            "fee": fee,
        }
        projection = dataclasses.replace(
            current.projection, **{name: v for name, v in given.items() if v is not None}
        )
        try:
            updated = dataclasses.replace(
                current,
                base_currency=current.base_currency
                if base_currency is None
                else fields.currency(base_currency),
                monthly_spending=current.monthly_spending
                if monthly_spending is None
                else fields.bounded(monthly_spending),
                stale_price_days=current.stale_price_days
                if stale_price_days is None
                else stale_price_days,
                projection=projection,
            )
        except fields.FieldError as error:
            raise InvalidInputError(f"settings: {error}") from None
        # Only when an age changes: a retirement age that time has since overtaken is valid
        # (the projection takes it as "retired now") and must not block other changes.
        if birth_year is not None or retirement_age is not None or end_age is not None:
            _check_ages(projection, self._today())
        self.store.put_settings(updated)
        return updated


def _check_ages(plan: ProjectionDefaults, today: date) -> None:
    """The stored ages against today's: a birth year giving an age of 0 to ``MAX_AGE``,
    retirement not before the current age, the end after it."""

    def refuse(name: str, problem: str) -> InvalidInputError:
        return InvalidInputError(f"settings, field projection.{name}: {problem}")

    if plan.birth_year is None:
        return
    age = today.year - plan.birth_year
    if age < 0:
        raise refuse("birth_year", f"{plan.birth_year} is after this year ({today.year})")
    if age > MAX_AGE:
        raise refuse("birth_year", f"{plan.birth_year} gives age {age}, over {MAX_AGE}")
    if plan.retirement_age is not None and plan.retirement_age < age:
        raise refuse(
            "retirement_age",
            f"{plan.retirement_age} is before the current age {age} (born {plan.birth_year}); "
            f"if you have retired, give {age}",
        )
    if plan.end_age is not None and plan.end_age <= age:
        raise refuse("end_age", f"{plan.end_age} is not after the current age {age}")
