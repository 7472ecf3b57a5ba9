"""The retirement page and the pages' charts in process (alex.web.retirement, alex.web.charts):
the page's figures are the JSON API's projection for the same inputs, the form's units (per
cent, birth year) reach the use case as the settings keep them, every refusal names its field
and stores nothing, saving needs the CSRF token and a same-site request, one read of the
portfolio per view, and the chart files are the package's one copy."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alex.domain.errors import InvalidInputError
from alex.http.app import create_app
from alex.planner.charts import chart_table
from alex.planner.render import STATIC
from alex.portfolio.service import PortfolioService
from alex.services import Services
from alex.web.charts import chart_view
from alex.web.retirement import refused_on_field
from alex.web.security import CONTENT_SECURITY_POLICY
from tests.functional.test_web_pages import KEY, api, import_household, sign_in

THIS_YEAR = date.today().year
FORM = {
    "birth_year": str(THIS_YEAR - 45),
    "retirement_age": "62",
    "end_age": "92",
    "contribution": "12000",
    "contribution_growth": "2",
    "spending": "48000",
    "fee": "0.4",
    "seed": "7",
    "paths": "10000",
}
# The same inputs as POST /portfolio/projection takes them: an age, fractions.
API_BODY = {
    "current_age": 45,
    "retirement_age": 62,
    "end_age": 92,
    "contribution": "12000",
    "contribution_growth": "0.02",
    "spending": "48000",
    "fee": "0.004",
    "seed": 7,
}


def probability(page: str) -> str:
    found = re.search(r'<data id="success-probability" value="([^"]+)">', page)
    assert found, page[:3000]
    return found.group(1)


def chart_spec(page: str, name: str) -> dict[str, Any]:
    """The spec in the page's JSON data block ``chart-<name>``, parsed as the browser does
    (the text of a <script> element: no entity decoding)."""
    found = re.search(rf'<script type="application/json" id="chart-{name}">(.*?)</script>', page)
    assert found, name
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


def alert(page: str) -> str:
    found = re.search(r'<p class="error" role="alert" id="retirement-error">(.*?)</p>', page, re.S)
    assert found, page[:3000]
    return html.unescape(found.group(1))


@pytest.fixture
def app_client(fake_services: Services) -> Iterator[TestClient]:
    """A browser-like client (as test_web_pages'): no key header, follows no redirect."""
    app = create_app(fake_services, KEY)
    with TestClient(
        app, raise_server_exceptions=False, follow_redirects=False, base_url="http://alex.test"
    ) as client:
        yield client


@pytest.fixture
def signed_in(app_client: TestClient) -> str:
    """The sample household imported; the session's CSRF token."""
    import_household(app_client)
    return sign_in(app_client)


def test_the_retirement_page_needs_a_session(app_client: TestClient) -> None:
    response = app_client.get("/retirement")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    refused = app_client.post("/retirement", data=FORM)
    assert refused.status_code in (303, 403)


def test_the_page_shows_the_api_projection_of_the_stored_inputs(
    app_client: TestClient, signed_in: str
) -> None:
    expected = api(app_client, "POST", "/portfolio/projection", json={})
    page = app_client.get("/retirement").text
    assert float(probability(page)) == expected["success_probability"]
    spec = chart_spec(page, "projection")
    assert [row["age"] for row in spec["data"]["values"]] == [
        str(row["age"]) for row in expected["rows"]
    ]
    assert [row["p50"] for row in spec["data"]["values"]] == [
        row["percentiles"]["50"] for row in expected["rows"]
    ]
    # The table beside the chart is chart_table's, escaped.
    columns, rows = chart_table(spec)
    assert all(f'<th scope="col" class="num">{html.escape(c)}</th>' in page for c in columns[1:])
    assert f'<th scope="row">{rows[-1][0]}</th>' in page
    # The form is filled from the same defaults the projection took.
    inputs = expected["inputs"]
    assert f'value="{THIS_YEAR - inputs["current_age"]}"' in page
    assert 'name="retirement_age" type="text"' in page


def test_recompute_is_the_api_projection_of_the_form_inputs(
    app_client: TestClient, signed_in: str
) -> None:
    expected = api(app_client, "POST", "/portfolio/projection", json=API_BODY)
    page = app_client.post("/retirement", data={**FORM, "csrf_token": signed_in})
    assert page.status_code == 200
    assert float(probability(page.text)) == expected["success_probability"]
    assert 0 < expected["success_probability"] < 1  # a case where the inputs matter
    values = chart_spec(page.text, "projection")["data"]["values"]
    assert values[-1]["p90"] == expected["rows"][-1]["percentiles"]["90"]
    assert 'value="48000"' in page.text  # the form keeps what was typed
    # Recomputing stores nothing.
    assert api(app_client, "GET", "/portfolio/settings")["projection"]["spending"] is None


def test_an_htmx_request_gets_the_result_part_only(app_client: TestClient, signed_in: str) -> None:
    headers = {"hx-request": "true", "x-csrf-token": signed_in}
    part = app_client.post("/retirement", data=FORM, headers=headers)
    assert part.status_code == 200
    assert "<html" not in part.text and "<form" not in part.text
    assert probability(part.text) and chart_spec(part.text, "projection")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_year", "nineteen", "Birth year: a whole number"),
        ("birth_year", str(THIS_YEAR + 1), "Birth year: from"),
        ("retirement_age", "30", "Retirement age: 30 is before your age this year (45)"),
        ("end_age", "60", "End age: must be after 62"),
        ("contribution", "-5", "Contribution a year: must not be negative"),
        ("spending", "1e5", "Spending a year: write the number in full"),
        ("spending", "40,000", "Spending a year: use '.' as the decimal point"),
        ("contribution_growth", "101", "Contribution growth (% a year): at most 100"),
        ("fee", "100", "Fee (% a year): below 100"),
        ("paths", "500", "Paths: from 10,000 to 100,000"),
        ("seed", "-1", "Seed: a whole number"),
    ],
)
def test_a_bad_input_is_refused_naming_its_field_and_nothing_is_stored(
    app_client: TestClient, signed_in: str, field: str, value: str, message: str
) -> None:
    before = api(app_client, "GET", "/portfolio/settings")
    for path in ("/retirement", "/retirement/save"):
        page = app_client.post(path, data={**FORM, field: value, "csrf_token": signed_in})
        assert page.status_code == 422, path
        assert alert(page.text).startswith(message), alert(page.text)
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page.text, re.S)
        assert f'value="{html.escape(value)}"' in page.text  # shown back as typed, escaped
        assert 'id="success-probability"' not in page.text
    assert api(app_client, "GET", "/portfolio/settings") == before


@pytest.mark.parametrize(
    ("message", "field", "shown"),
    [
        (
            "settings, field projection.end_age: 95 is not after the current age 96",
            "end_age",
            "End age: 95 is not after the current age 96",
        ),
        (
            "current_age: must be at least 0 and below end_age",
            "birth_year",
            "Birth year: must be at least 0 and below end_age",
        ),
        ("paths: from 10,000 to 100,000", "paths", "Paths: from 10,000 to 100,000"),
        (
            "asset class 'cash' is worth -5.00 (below 0): ...",
            None,
            "asset class 'cash' is worth -5.00 (below 0): ...",
        ),
    ],
)
def test_a_use_case_refusal_is_put_on_the_field_it_names(
    message: str, field: str | None, shown: str
) -> None:
    """The use cases' own checks (the store's, the projection's) come back on the form."""
    refused = refused_on_field(InvalidInputError(message))
    assert (refused.field, refused.message) == (field, shown)


def test_save_stores_the_inputs_as_the_settings_keep_them(
    app_client: TestClient, signed_in: str
) -> None:
    saved = app_client.post("/retirement/save", data={**FORM, "csrf_token": signed_in})
    assert saved.status_code == 303 and saved.headers["location"] == "/retirement?saved=1"
    stored = api(app_client, "GET", "/portfolio/settings")["projection"]
    assert stored == {
        "birth_year": THIS_YEAR - 45,
        "retirement_age": 62,
        "end_age": 92,
        "contribution": "12000",
        "contribution_growth": "0.02",
        "spending": "48000",
        "fee": "0.004",
    }
    page = app_client.get("/retirement?saved=1").text
    assert "Saved: these inputs" in page
    assert 'value="0.4"' in page and 'value="2"' in page  # shown back in per cent
    # The stored inputs are what the API now projects with (seed aside).
    expected = api(app_client, "POST", "/portfolio/projection", json={"seed": 0})
    assert float(probability(page)) == expected["success_probability"]


def test_save_needs_the_token_and_a_same_site_request(
    app_client: TestClient, signed_in: str
) -> None:
    before = api(app_client, "GET", "/portfolio/settings")
    assert app_client.post("/retirement/save", data=FORM).status_code == 403
    wrong = {**FORM, "csrf_token": signed_in[:-2] + "xx"}
    assert app_client.post("/retirement/save", data=wrong).status_code == 403
    cross = app_client.post(
        "/retirement/save",
        data={**FORM, "csrf_token": signed_in},
        headers={"sec-fetch-site": "same-site", "origin": "http://127.0.0.1:8001"},
    )
    assert cross.status_code == 403
    assert api(app_client, "GET", "/portfolio/settings") == before


def test_a_page_view_reads_the_portfolio_once(
    app_client: TestClient, signed_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    state = PortfolioService._state

    def counted(self: PortfolioService, day: Any) -> Any:
        reads.append(day)
        return state(self, day)

    monkeypatch.setattr(PortfolioService, "_state", counted)
    assert app_client.get("/retirement").status_code == 200
    assert len(reads) == 1
    assert app_client.post("/retirement", data={**FORM, "csrf_token": signed_in}).status_code == 200
    assert len(reads) == 2


def test_the_pages_have_no_inline_script_and_load_the_chart_files(
    app_client: TestClient, signed_in: str
) -> None:
    weights = {"weights": {"equity": "60", "bond": "30", "cash": "10"}}
    api(app_client, "PUT", "/portfolio/targets/asset_class", json=weights)
    for path in ("/", "/retirement"):
        page = app_client.get(path).text
        # Only data blocks: every <script> element is a file or a JSON block.
        for tag in re.findall(r"<script\b[^>]*>", page):
            assert ' src="/' in tag or 'type="application/json"' in tag, tag
        assert " style=" not in page and "<style" not in page
        for name in ("vendor/vega.min.js", "vendor/vega-embed.min.js", "charts/alex-charts.js"):
            assert f'<script src="/chart-assets/{name}" defer></script>' in page
    dashboard = app_client.get("/").text
    for name in ("allocation_asset_class", "allocation_sector", "drift_asset_class"):
        assert chart_spec(dashboard, name)["usermeta"]["alex"]["table"]


def test_the_chart_files_are_the_packaged_copy(app_client: TestClient) -> None:
    for name in ("vendor/vega.min.js", "vendor/vega-lite.min.js", "charts/alex-charts.js"):
        served = app_client.get(f"/chart-assets/{name}")
        assert served.status_code == 200
        assert served.content == (STATIC / name).read_bytes()
        assert served.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert app_client.get("/chart-assets/../../web/pages.py").status_code == 404
    # One copy: nothing of Vega under the web pages' own static folder.
    web_static = STATIC.parents[1] / "web" / "static"
    assert not [p for p in web_static.rglob("vega*")]


def test_a_spec_cannot_close_its_data_block() -> None:
    hostile = "</script><script>alert(1)</script>&amp;"
    spec = {
        "title": {"text": hostile},
        "description": hostile,
        "data": {"values": [{"bucket": hostile, "value": "1"}]},
        "usermeta": {
            "alex": {
                "table": [
                    {"field": "bucket", "title": "Bucket", "kind": "text"},
                    {"field": "value", "title": "Value", "kind": "money"},
                ],
                "currency": "USD",
            }
        },
    }
    view = chart_view("hostile", spec)
    assert "<" not in view.spec_json and ">" not in view.spec_json and "&" not in view.spec_json
    assert json.loads(str(view.spec_json))["description"] == hostile
    assert view.rows[0][0].text == hostile and not view.rows[0][0].numeric
    assert view.rows[0][1].numeric


def test_an_empty_portfolio_projects_its_contributions(app_client: TestClient) -> None:
    token = sign_in(app_client)
    page = app_client.get("/retirement")
    assert page.status_code == 200
    assert "nothing yet (contributions go 60/40" in page.text
    form = {**FORM, "spending": "0", "csrf_token": token}
    assert probability(app_client.post("/retirement", data=form).text) == "1.0"
