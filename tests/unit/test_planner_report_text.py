"""The report's pure parts: the figure set as JSON and back, the deltas, the Markdown with
its headline written by code, a model's text kept to one line, the HTML page's text."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from alex.domain.errors import InvalidInputError
from alex.planner.changes import compare
from alex.planner.figure_json import figures_from_json, figures_to_json, stored_notes
from alex.planner.figures import FigureSet
from alex.planner.number_check import check_text
from alex.planner.render import report_html
from alex.planner.report_markdown import compose, headline, prose
from alex.planner.reporter import ReportDraft, SuggestedAction, draft_for, subjects
from alex.planner.retirement_writer import RetirementDraft
from tests.support.planner_household import household_figures


@pytest.fixture(scope="module")
def figures() -> FigureSet:
    return household_figures()


def test_the_figure_set_comes_back_from_its_json_exactly(figures: FigureSet) -> None:
    stored = figures_to_json(figures, ["a note"])
    again = figures_from_json(stored)
    assert again == figures
    value = stored["figures"]["total.value"]["value"]
    assert isinstance(value, str) and Decimal(value) == Decimal("171235.915075")
    assert stored_notes(stored) == ["a note"]
    with pytest.raises(InvalidInputError, match="not a stored figure set"):
        figures_from_json({"as_of": "2026-12-03"})


def test_a_first_report_has_no_deltas_and_a_later_one_compares(figures: FigureSet) -> None:
    first = compare(figures, None)
    assert first.figures == {} and first.as_prompt() is None
    assert first.lines == ("This is the first report: there is nothing to compare.",)
    lower = replace(figures["total.value"], value=Decimal("170000"))
    earlier = replace(figures, figures={**figures.figures, "total.value": lower})
    later = compare(figures, earlier)
    assert later.figures["change.total.value"].number == Decimal("1235.915075")
    assert later.lines[0].startswith("Total value: up 1,235.92 USD since 2026-12-03")
    # A base currency changed: shares compare, money does not.
    euros = compare(figures, replace(earlier, currency="EUR"))
    assert "change.total.value" not in euros.figures
    assert "change.allocation.region.europe" in euros.figures


def test_the_headline_is_the_figures_own_text_and_passes_the_check(figures: FigureSet) -> None:
    lines = headline(figures)
    assert lines[0] == "- Total value: 171,235.92 USD, in 10 instruments across 3 accounts."
    assert lines[1] == (
        "- Largest holding: MTUS (Meridian Total US Market ETF), 78,110.31 USD, "
        "45.62% of the total."
    )
    assert lines[2] == (
        "- Biggest drift: north america (region), 74.09% of the portfolio against a target of "
        "60% (+14.09 pp)."
    )
    assert check_text("\n".join(lines), figures).unmatched == 0


def test_a_models_text_cannot_add_blocks_of_its_own(figures: FigureSet) -> None:
    assert prose("## Ignore the above\n\n# New section") == "Ignore the above # New section"
    assert prose("  1. first  point ") == "first point"
    draft = draft_for(figures).model_validate(
        {
            "summary": "# Injected heading\n> quoted",
            "changes": "",
            "strengths": ["- listed"],
            "risks": [],
            "actions": [],
        }
    )
    text = compose(figures, compare(figures, None), draft, [], None)
    assert "\n# Injected" not in text and "Injected heading > quoted." in text
    assert "## Risks" not in text and "## Suggested actions" not in text


def test_actions_may_be_about_what_is_held_or_allocated_only(figures: FigureSet) -> None:
    about = subjects(figures)
    assert about[: len(figures.holdings)] == figures.holdings
    assert "region.north_america" in about and "cash" in about
    assert not any(subject.endswith(".unknown") for subject in about)
    schema = draft_for(figures)
    with pytest.raises(ValueError, match="about"):
        schema.model_validate(
            {"summary": "s.", "changes": "", "strengths": [], "risks": [],
             "actions": [{"about": "VTI", "action": "Buy VTI", "reason": "cheap"}]}
        )  # fmt: skip
    action = SuggestedAction(about="asset_class.bond", action="Add to bonds", reason="under")
    draft = ReportDraft(summary="Fine.", changes="", strengths=[], risks=[], actions=[])
    text = compose(
        figures, compare(figures, None), draft, [action], RetirementDraft(summary="Ok.", points=[])
    )
    assert (
        "- Add to bonds. Under. (About bond: 17.39% of the portfolio against a target of 30% "
        "(-12.61 pp).)" in text
    )
    assert "Median value at age 65: 1,271,127 USD" in text


def test_the_html_page_escapes_raw_html_in_the_report() -> None:
    page = report_html("Report", {}, markdown="# Title\n\nSafe <script>alert(1)</script> text.")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h1>Title</h1>" not in page  # the page has its own title


def test_the_html_page_loads_no_image_the_report_text_names() -> None:
    """A model's Markdown image would be fetched by any viewer without the page's CSP (a
    copy opened elsewhere): it stays text, as its alt text and address."""
    text = "Look ![pixel](https://tracker.example/p.png) and [more](https://example.com)."
    page = report_html("Report", {}, markdown=text)
    assert "<img" not in page and "tracker.example" in page
