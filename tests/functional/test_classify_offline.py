"""The classify step with the real embedded offline model (the dev group's ``local-llm``
extra), on one sample instrument: a schema-held answer, checked by code, stored as a proposal
and nothing else. Assertions are on structure and on what any sane answer says (a bank's
shares are equity), not on wording or exact weights.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alex.config import load_settings
from alex.planner.classify import classify_unknown
from alex.portfolio.model import PROPOSED_BUCKETS, Instrument, InstrumentType
from alex.portfolio.service import PortfolioService
from alex.research.llm import open_chat_model
from tests.fakes.portfolio import InMemoryPortfolioStore

pytestmark = pytest.mark.timeout(600)


def test_the_offline_model_proposes_weights_for_a_bank_stock(isolated_settings: Path) -> None:
    store = InMemoryPortfolioStore()
    bank = Instrument("CVBK", "Cedar Valley Bancorp", InstrumentType.STOCK, "USD")
    store.put_instrument(bank)
    service = PortfolioService(store, today=lambda: date(2026, 12, 3))
    settings = load_settings()
    events: list[str] = []

    report = classify_unknown(
        service,
        lambda: open_chat_model(settings),
        progress=lambda step, detail: events.append(detail),
    )

    assert report.model is not None and events[0] == "CVBK (1 of 1)"
    assert report.not_classified == (), report.not_classified
    (proposal,) = report.proposed
    assert store.get_proposal("CVBK") == proposal
    assert store.get_instrument("CVBK") == bank  # proposed, not applied
    for name, weights in proposal.weights().items():
        assert sum(weights.shares.values()) == Decimal(100), (name, weights)
        assert set(weights.shares) <= set(PROPOSED_BUCKETS[name])
    assert proposal.asset_class.shares.get("equity", Decimal(0)) >= 50, proposal
    assert 0 <= proposal.confidence <= 1 and proposal.reason
