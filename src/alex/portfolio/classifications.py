"""Proposed classifications: which instruments need weights, a model's proposal kept beside
the instrument, and the user's accept or reject (docs/planner.md, "Classify").

The rules, kept here for every door (the CLI, the HTTP routes, the Lambda, the analysis job):

* A proposal is only ever for the dimensions (asset class, region, sector) that the
  instrument has unknown when it is proposed; its other dimensions are left empty. A user's
  own weights, or the instruments CSV's, are never replaced by a model's.
* A proposal is not a classification: the allocation, the X-ray and the projection read the
  instrument's own weights only, so until it is accepted an unknown part stays ``unknown``.
* ``accept`` copies the proposal's weights into the instrument, for the dimensions still
  unknown then (weights the user set in the meantime win), and drops the proposal;
  ``reject`` drops it. Either answers 404 (NotFoundError) when the symbol has none.

Proposing itself needs a chat model, so it is the planner's (``alex.planner.classify``):
this module stores what it proposes and ships in the portfolio's Lambda, which has no model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.portfolio.model import (
    CLASSIFIED,
    TRADES,
    Instrument,
    ProposedClassification,
    Weights,
)
from alex.ports import PortfolioStore


@dataclass(frozen=True)
class Unclassified:
    """An instrument with at least one dimension unknown, and which."""

    instrument: Instrument
    unknown: tuple[str, ...]  # of model.CLASSIFIED, in that order


@dataclass(frozen=True)
class Accepted:
    """What ``accept`` did: the dimensions whose weights became the instrument's, and those
    it left as they were because the instrument had its own weights by then."""

    symbol: str
    applied: tuple[str, ...]
    kept: tuple[str, ...]


def unknown_dimensions(instrument: Instrument) -> tuple[str, ...]:
    return tuple(name for name in CLASSIFIED if not getattr(instrument, name).known)


class Classifications:
    """The use cases of proposed classifications on one store."""

    def __init__(self, store: PortfolioStore, today: Callable[[], date] = date.today) -> None:
        self.store = store
        self._today = today

    def unclassified(self) -> list[Unclassified]:
        """Instruments on record with an unknown asset class, region or sector, by symbol."""
        found = [(i, unknown_dimensions(i)) for i in self.store.list_instruments()]
        return [Unclassified(instrument, unknown) for instrument, unknown in found if unknown]

    def unrecorded(self) -> list[str]:
        """Symbols traded with no instrument on record: nothing to classify them by (no name
        or type) until an instruments CSV names them."""
        known = {i.symbol for i in self.store.list_instruments()}
        traded = {
            e.transaction.symbol
            for e in self.store.list_transactions()
            if e.transaction.type in TRADES and e.transaction.symbol
        }
        return sorted(symbol for symbol in traded if symbol not in known)

    def propose(
        self,
        symbol: str,
        weights: Mapping[str, Weights],
        *,
        confidence: Decimal,
        reason: str,
        model: str,
    ) -> ProposedClassification:
        """Store a proposal for ``symbol``, keeping only the dimensions it has unknown (the
        others' weights are the user's). InvalidInputError if it has none unknown, or if the
        proposal fails the stores' checks; NotFoundError if no instrument has the symbol."""
        instrument = self.store.get_instrument(symbol)
        if instrument is None:
            raise NotFoundError(f"no instrument {symbol!r} is on record")
        unknown = unknown_dimensions(instrument)
        if not unknown:
            raise InvalidInputError(f"{symbol} is classified already: nothing to propose")
        kept = {name: weights.get(name, Weights()) for name in CLASSIFIED}
        proposal = ProposedClassification(
            symbol=symbol,
            asset_class=kept["asset_class"] if "asset_class" in unknown else Weights(),
            region=kept["region"] if "region" in unknown else Weights(),
            sector=kept["sector"] if "sector" in unknown else Weights(),
            confidence=confidence,
            reason=reason,
            model=model,
            proposed_on=self._today(),
        )
        self.store.put_proposal(proposal)
        return proposal

    def proposals(self) -> list[ProposedClassification]:
        """Every proposal waiting for the user, by symbol."""
        return self.store.list_proposals()

    def accept(self, symbol: str) -> Accepted:
        """The proposal's weights become the instrument's, for the dimensions it still has
        unknown; the proposal is dropped. Two writes, in this order: if the second fails,
        accepting again finds those dimensions known and only drops the proposal."""
        proposal = self._proposal(symbol)
        instrument = self.store.get_instrument(symbol)
        if instrument is None:  # instruments are never deleted; a store edited by hand
            raise NotFoundError(f"no instrument {symbol!r} is on record")
        proposed = proposal.weights()
        applied = {
            name: weights
            for name, weights in proposed.items()
            if not getattr(instrument, name).known
        }
        if applied:
            self.store.put_instrument(
                dataclasses.replace(
                    instrument,
                    asset_class=applied.get("asset_class", instrument.asset_class),
                    region=applied.get("region", instrument.region),
                    sector=applied.get("sector", instrument.sector),
                )
            )
        self.store.delete_proposal(symbol)
        kept = tuple(name for name in proposed if name not in applied)
        return Accepted(symbol, tuple(applied), kept)

    def reject(self, symbol: str) -> ProposedClassification:
        """Drop the proposal (a later classify may propose again); returns what it was."""
        proposal = self._proposal(symbol)
        self.store.delete_proposal(symbol)
        return proposal

    def _proposal(self, symbol: str) -> ProposedClassification:
        proposal = self.store.get_proposal(symbol)
        if proposal is None:
            raise NotFoundError(f"no proposed classification for {symbol!r}")
        return proposal
