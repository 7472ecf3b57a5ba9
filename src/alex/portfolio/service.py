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
from typing import TYPE_CHECKING

from alex.domain.errors import InvalidInputError
from alex.portfolio.allocation import Allocation, Dimension, allocate, check_targets, drift
from alex.portfolio.files import PortfolioFiles
from alex.portfolio.formats import fields
from alex.portfolio.holdings import Ledger, ledger
from alex.portfolio.model import (
    Account,
    FxRate,
    Instrument,
    PortfolioSettings,
    Transaction,
    Weights,
)
from alex.portfolio.valuation import Valuation, value_portfolio
from alex.portfolio.xray import XRay
from alex.portfolio.xray import xray as run_xray
from alex.ports import PortfolioStore

if TYPE_CHECKING:
    from alex.portfolio.projection import Projection, ProjectionInputs

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

    @property
    def empty(self) -> bool:
        return not self.accounts and not self.transactions


@dataclass(frozen=True)
class ProjectionPlan:
    """The projection's personal inputs. Not stored yet (the store's settings hold no ages):
    each is a default a caller overrides. ``spending`` is yearly, in today's money; ``None``
    takes 12 x the settings' monthly spending (0 if unset). ``years`` (if given) sets
    ``end_age = current_age + years``."""

    current_age: int = 40
    retirement_age: int = 65
    end_age: int = 95
    contribution: Decimal = Decimal(0)
    contribution_growth: Decimal = Decimal(0)
    spending: Decimal | None = None
    fee: Decimal = Decimal(0)
    years: int | None = None


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
        rates = [
            rate
            for base, quote in self.files.currency_pairs(transactions)
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
        monthly = view.settings.monthly_spending
        spending = plan.spending
        if spending is None:
            spending = monthly * 12 if monthly is not None else Decimal(0)
        end_age = plan.current_age + plan.years if plan.years is not None else plan.end_age
        inputs = ProjectionInputs(
            holdings=holdings,
            current_age=plan.current_age,
            retirement_age=plan.retirement_age,
            end_age=end_age,
            contribution=plan.contribution,
            contribution_growth=plan.contribution_growth,
            spending=spending,
            fee=plan.fee,
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
    ) -> PortfolioSettings:
        """Change the settings given; the others stay as stored."""
        current = self.store.get_settings()
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
            )
        except fields.FieldError as error:
            raise InvalidInputError(f"settings: {error}") from None
        self.store.put_settings(updated)
        return updated
