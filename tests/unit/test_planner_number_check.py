"""The number check: a number written with fewer digits matches the figure rounded to them,
units agree (% and points for a drift, the currency for money), markup and names are not
figures, a sentence with an unmatched number leaves the text; actions that contradict the
figures are named. The labelled sentences (tests/fixtures/planner) hold the check to a
precision and a recall on a half it was not tuned on."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from alex.planner.figures import Figure, FigureSet, Unit, figure_set
from alex.planner.number_check import check_actions, check_text
from tests.support.planner_household import FIXTURES, household_figures, household_service


@pytest.fixture(scope="module")
def figures() -> FigureSet:
    return household_figures()


def small_set() -> FigureSet:
    """A hand-made set: one holding whose name holds digits, a total, a drift, a count."""
    items = [
        Figure("total.value", "Total value", Decimal("171235.915075"), Unit.MONEY, 2, "USD"),
        Figure("holding.KEUR.share", "KEUR: share", Decimal("17.3884"), Unit.PERCENT, 2),
        Figure("drift.region.europe", "Drift of region europe", Decimal("-11.07"), Unit.POINTS, 2),
        Figure("accounts.count", "Accounts", Decimal(3), Unit.COUNT),
        Figure("as_of", "Valuation date", date(2026, 12, 3), Unit.DATE),
    ]
    return FigureSet(
        as_of=date(2026, 12, 3),
        currency="USD",
        figures={figure.key: figure for figure in items},
        holdings=("KEUR",),
        instruments={"KEUR": "Kestrel Europe 600 UCITS ETF"},
        accounts={"brokerage": "Joint brokerage"},
    )


def unmatched(
    text: str, figures: FigureSet | None = None, notes: tuple[str, ...] = ()
) -> list[str]:
    checked = check_text(text, figures or small_set(), notes)
    return [number for sentence in checked.sentences for number in sentence.unmatched]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("KEUR is [55]%.", "55"),
        ("KEUR is [55] percent.", "55"),
        ("Worth $[999].", "999"),
        ("Worth [999] USD.", "999"),
        ("Worth USD [999].", "999"),
        ("Worth [999](https://example.com) dollars.", "999"),
        ("Worth _999_ USD.", "999"),
        ("Worth __999__ USD.", "999"),
    ],
)
def test_markup_around_a_number_does_not_hide_it(text: str, number: str) -> None:
    """A citation mark is a bracketed number with no unit on either side and no link after
    it; Markdown's underscores (emphasis) are not part of a word."""
    checked = check_text(text, small_set())
    assert [n for s in checked.sentences for n in s.unmatched] and number in unmatched(text)[0]
    assert checked.text == ""


def test_a_citation_mark_after_a_figure_is_still_no_number() -> None:
    assert unmatched("KEUR is 17.4% [4]. Worth $171k [12], see [3].") == []


@pytest.mark.parametrize(
    "text",
    [
        "Worth 171,235.92 USD.",
        "Worth $171,235.92.",
        "Worth US$171,236.",
        "Worth $171k.",
        "Worth about $170,000.",  # money's trailing zeros are rounding
        "Worth 0.17 million dollars.",
        "Worth $0.2m.",
        "KEUR is 17.39% of it.",
        "KEUR is 17.4%.",
        "KEUR is 17%.",
        "KEUR is 17.388 per cent.",
        "Europe is 11.07 pp under target.",
        "Europe is -11.07 pp from target.",
        "Europe is 11.1 percentage points under target.",
        "Europe is 11% below its target.",  # a drift may be written in per cent
        "Europe is 1,107 bps under target.",
        "Three accounts, 3 of them taxable.",
        "On 3 December 2026.",
        "On 2026-12-03, in Q4.",
    ],
)
def test_numbers_that_state_a_figure_rounded_match(text: str) -> None:
    assert unmatched(text) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Worth $172k.", "$172k"),
        ("Worth 171,235.92 EUR.", "171,235.92 EUR"),  # the wrong currency
        ("Worth $171,230.", "$171,230"),  # written to the dollar: 171,236
        ("KEUR is 17.3%.", "17.3%"),  # truncated, not rounded
        ("KEUR is 17.40%.", "17.40%"),  # more digits than it has, wrong
        ("KEUR is 17.39 points.", "17.39 points"),  # a share is no difference
        ("KEUR is 17 of it.", "17"),  # a bare whole number is not a rounded share
        ("Ten accounts: 10 of them.", "10"),
        ("In 2030 the plan ends.", "2030"),
        ("Europe is 12 pp below.", "12 pp"),
    ],
)
def test_numbers_that_state_no_figure_are_unmatched(text: str, number: str) -> None:
    assert unmatched(text) == [number]


def test_markup_number_words_ordinals_citations_and_names_are_not_figures() -> None:
    text = (
        "## 1. Summary\n"
        "2. The Kestrel Europe 600 UCITS ETF is 17.4% [4], the 2nd largest of three.\n"
        "- The 5G rollout is a name, not a figure."
    )
    checked = check_text(text, small_set())
    assert checked.unmatched == 0
    assert [n.text for s in checked.sentences for n in s.numbers] == ["17.4%"]


def test_a_sentence_with_an_unmatched_number_leaves_the_text() -> None:
    text = (
        "# Report\n\n"
        "Worth $171k. It grew 8.4% last year. You have 3 accounts.\n\n"
        "- Fees were $412.\n"
        "- KEUR is 17.4%.\n\n"
        "| Holding | Share |\n|---|---|\n| KEUR | 17.4% |\n| XYZ | 9.9% |\n"
    )
    checked = check_text(text, small_set())
    assert checked.text == (
        "# Report\n\nWorth $171k. You have 3 accounts.\n\n- KEUR is 17.4%.\n\n"
        "| Holding | Share |\n|---|---|\n| KEUR | 17.4% |"
    )
    assert [s.unmatched for s in checked.removed] == [("8.4%",), ("$412",), ("9.9%",)]
    assert (checked.unmatched, checked.numbers) == (3, 7)


def test_a_cited_notes_number_matches_exactly() -> None:
    note = "Kestrel's fund grew revenue 14.2% in Q3."
    assert unmatched("Its revenue grew 14.2%.", notes=(note,)) == []
    assert unmatched("Its revenue grew 14%.", notes=(note,)) == ["14%"]  # a note is not rounded
    checked = check_text("Its revenue grew 14.2%.", small_set(), [note])
    assert checked.sentences[0].numbers[0].matched == "note"


def test_a_number_in_a_figures_label_matches(figures: FigureSet) -> None:
    assert unmatched("At age 65, in 2046, the 10th percentile is $798k.", figures) == []
    assert unmatched("Income was $2,083 in 2024.", figures) == []


# --- The labelled sentences ---------------------------------------------------------------

# Held-out floors. The check was tuned on the tuning half only. Precision: a sentence it
# removes should be wrong (>= 0.9: at most one in ten removals is a true sentence written
# as a bound, "under 20%"). Recall: a wrong number that equals another figure, rounded, is
# beyond any number check (the module's limits): whole percentages collide with one of the
# household's ~90 shares and drifts about half the time. On this set that leaves 4 of 18
# wrong sentences unseen (0.78); the floor 0.7 allows one more before it fails.
PRECISION_FLOOR = 0.9
RECALL_FLOOR = 0.7


def labelled(split: str) -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / f"number_sentences_{split}.json").read_text("utf-8"))
    assert data["split"] == split
    sentences: list[dict[str, Any]] = data["sentences"]
    return sentences


def scores(figures: FigureSet, split: str) -> tuple[float, float]:
    """Precision and recall of removing a sentence (positive: a wrong number in it)."""
    outcomes = [
        (not item["ok"], check_text(item["text"], figures).unmatched > 0)
        for item in labelled(split)
    ]
    true_pos = sum(1 for wrong, removed in outcomes if wrong and removed)
    removed = sum(1 for _, flag in outcomes if flag)
    wrong = sum(1 for bad, _ in outcomes if bad)
    return true_pos / removed, true_pos / wrong


def test_the_labelled_halves_are_apart_and_large_enough() -> None:
    tuning = {item["text"] for item in labelled("tuning")}
    held_out = {item["text"] for item in labelled("held_out")}
    assert not tuning & held_out and len(tuning) + len(held_out) >= 80
    for split in ("tuning", "held_out"):
        oks = [item["ok"] for item in labelled(split)]
        assert 0.3 < sum(oks) / len(oks) < 0.7  # both kinds, so both scores mean something


@pytest.mark.parametrize("split", ["tuning", "held_out"])
def test_precision_and_recall_stay_above_the_floor(figures: FigureSet, split: str) -> None:
    precision, recall = scores(figures, split)
    assert precision >= PRECISION_FLOOR and recall >= RECALL_FLOOR, (split, precision, recall)


# --- Actions ------------------------------------------------------------------------------


def rules(actions: list[str], figures: FigureSet) -> list[tuple[str, str]]:
    return [(c.rule, c.subject) for c in check_actions(actions, figures)]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("Reduce bonds.", [("reduce-below-target", "bond")]),
        ("Trim equities and add to bonds.", []),
        ("Buy more stocks.", [("increase-above-target", "equity")]),
        ("Increase U.S. stocks.", [("increase-above-target", "north_america")]),
        ("Buy European stocks.", []),  # europe is under target; "stocks" is its noun
        ("Sell VTI.", [("sell-not-held", "VTI")]),
        ("Sell CVBK.", []),
        ("Do not sell MTUS; add to Europe instead.", []),
        ("Avoid adding to cash.", []),
        ("Add to cash.", [("add-cash-despite-drag", "cash"), ("increase-above-target", "cash")]),
        ("Invest the idle cash in bonds.", []),
        (
            "Move money from Europe into North America.",
            [("reduce-below-target", "europe"), ("increase-above-target", "north_america")],
        ),
        ("Use savings to buy KEUR.", [("spend-emergency-fund", "savings")]),
        ("Build up the emergency fund.", []),
        ("Reduce equity because bonds are below target.", []),
    ],
)
def test_actions_that_contradict_the_figures_are_named(
    figures: FigureSet, action: str, expected: list[tuple[str, str]]
) -> None:
    assert rules([action], figures) == expected


def test_buying_a_holding_over_the_single_holding_limit_is_named() -> None:
    service = household_service()
    service.store.put_settings(
        replace(service.settings(), risk_thresholds={"single_holding": Decimal(2)})
    )
    figures = figure_set(service.show(), service.xray())
    assert "HVMD" in figures.over_limit
    found = check_actions(["Buy more Halvorsen Microdevices."], figures)
    assert [(c.rule, c.subject, c.key) for c in found] == [
        ("buy-over-limit", "HVMD", "xray.single_holding.share.HVMD")
    ]
    assert rules(["Sell HVMD."], figures) == []


def test_the_docs_worked_example(figures: FigureSet) -> None:
    """docs/planner.md, "The number check": the third sentence goes, for its 8.4%."""
    text = (
        "## 1. Summary\n"
        "Your portfolio is worth $171k as of 3 December 2026. Bonds are 12.6 points below "
        "their 30% target. It grew 8.4% last year."
    )
    checked = check_text(text, figures)
    matched = {n.text: n.matched for s in checked.sentences for n in s.numbers}
    assert matched["$171k"] == "total.value"
    assert matched["12.6 points"] == "drift.asset_class.bond"
    assert [s.unmatched for s in checked.removed] == [("8.4%",)]
    assert checked.text.endswith("below their 30% target.")
