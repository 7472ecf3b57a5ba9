"""The retirement page and the dashboard's charts in a real Chromium (fixtures: conftest.py):
charts drawn by Vega under the strict CSP (no violation, no console error), a retirement
input changed and the success probability recomputed with the chart redrawn, axe-core clean,
screenshots at both widths."""

from __future__ import annotations

from tests.browser.conftest import Tab
from tests.support.server import AlexServer

DRAWN = '.chart[data-drawn="true"] svg'


def violations(tab: Tab) -> int:
    """CSP violations the page saw (alex-charts.js counts them on <html>)."""
    return int(tab.page.evaluate("() => document.documentElement.dataset.cspViolations || 0"))


def test_the_dashboard_draws_its_charts_under_the_csp(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    charts = tab.page.locator(".chart[data-chart]")
    # Four allocations and the asset-class drift (the fixture sets that target).
    assert charts.count() == 5
    tab.page.wait_for_function(
        "() => [...document.querySelectorAll('.chart[data-chart]')]"
        ".every(c => c.dataset.drawn === 'true')"
    )
    assert tab.page.locator(DRAWN).count() == 5
    assert violations(tab) == 0
    assert tab.errors == []


def test_changing_an_input_recomputes_the_success_probability(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    tab.page.get_by_role("link", name="Retirement").click()
    tab.page.wait_for_selector(DRAWN)
    page = tab.page
    probability = page.locator("#success-probability")
    before = probability.get_attribute("value")
    first_svg = page.locator(DRAWN).element_handle()
    page.get_by_label("Spending a year").fill("90000")
    page.get_by_role("button", name="Recompute").click()
    page.wait_for_function(
        f"() => document.querySelector('#success-probability')?.getAttribute('value') !== "
        f"'{before}'"
    )
    after = probability.get_attribute("value")
    assert before is not None and after is not None and float(after) < float(before)
    page.wait_for_selector(DRAWN)  # the new chart, drawn
    assert first_svg is not None and not first_svg.evaluate("e => e.isConnected")
    assert page.url == alex.url + "/retirement"  # swapped in place, no navigation
    assert page.get_by_label("Spending a year").input_value() == "90000"
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert tab.axe_violations() == [], width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    tab.screenshots("retirement")
    assert violations(tab) == 0
    assert tab.errors == []


def test_a_bad_input_is_named_and_saving_keeps_the_inputs(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    tab.goto("/retirement")
    page = tab.page
    page.get_by_label("Fee (% a year)").fill("150")
    page.get_by_role("button", name="Recompute").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("Fee (% a year): below 100")
    page.get_by_label("Fee (% a year)").fill("0.25")
    page.get_by_label("Retirement age").fill("67")
    page.get_by_role("button", name="Save as my defaults").click()
    page.get_by_role("status").wait_for()
    assert "Saved" in page.get_by_role("status").inner_text()
    tab.goto("/retirement")  # a new page view: the stored inputs fill the form
    assert page.get_by_label("Retirement age").input_value() == "67"
    assert page.get_by_label("Fee (% a year)").input_value() == "0.25"
    with alex.client(timeout=30) as client:
        stored = client.get("/portfolio/settings").json()["projection"]
    assert stored["retirement_age"] == 67 and stored["fee"] == "0.0025"
    # 422 answers are expected above; nothing else may have failed.
    assert [e for e in tab.errors if "422" not in e] == []
