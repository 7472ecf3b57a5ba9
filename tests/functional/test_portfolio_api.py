"""The portfolio's HTTP routes in process: every route on the sample household, the key, and
bad input answered 4xx naming the file and row, with nothing stored.

The portfolio store is the real SQLite one in the test's data folder (the documents side runs
on the fakes: no model load)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alex.config import load_settings
from alex.http.app import create_app
from alex.portfolio.model import round_money
from alex.services import Services
from tests.fakes import FakeEmbedder, InMemoryVectorStore

KEY = "portfolio-key-0123456789"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
HEADER = "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
ACCOUNTS = "id,name,kind,currency\nbrokerage,Brokerage,taxable,USD\n"


@pytest.fixture
def services(fake_services: Services) -> Services:
    return fake_services


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services, KEY)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["x-api-key"] = KEY
        yield test_client


def household_files() -> list[dict[str, str]]:
    return [{"name": p.name, "text": p.read_text("utf-8")} for p in sorted(SAMPLES.glob("*.csv"))]


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def stored(client: TestClient) -> tuple[Any, ...]:
    """Everything a rejected request must leave as it was."""
    return (
        ok(client.get("/portfolio/transactions")),
        ok(client.get("/portfolio/accounts")),
        ok(client.get("/portfolio/export", params={"what": "prices"}))["text"],
        ok(client.get("/portfolio/export", params={"what": "fx"}))["text"],
        ok(client.get("/portfolio/export", params={"what": "instruments"}))["text"],
        ok(client.get("/portfolio/targets")),
        ok(client.get("/portfolio/settings")),
    )


@pytest.fixture
def household(client: TestClient) -> TestClient:
    reports = ok(client.post("/portfolio/import", json={"files": household_files()}))["reports"]
    assert [r["name"] for r in reports] == [f["name"] for f in household_files()]
    assert all(r["new"] == r["records"] > 0 for r in reports)
    return client


def test_show_matches_the_service_and_a_reimport_adds_nothing(
    household: TestClient, services: Services
) -> None:
    shown = ok(household.get("/portfolio"))
    view = services.portfolio.show()
    total = view.valuation.total.value
    assert total is not None and shown["total"]["value"] == str(round_money(total, "USD"))
    assert shown["transactions"] == view.transactions > 0
    assert [h["symbol"] for h in shown["holdings"]] == [
        h.holding.symbol for h in view.valuation.holdings
    ]
    shares = [Decimal(b["share"]) for b in shown["allocations"]["asset_class"]["buckets"]]
    assert sum(shares) == 100
    again = ok(household.post("/portfolio/import", json={"files": household_files()}))
    assert [r["new"] for r in again["reports"]] == [0] * len(again["reports"])
    assert ok(household.get("/portfolio")) == shown
    earlier = ok(household.get("/portfolio", params={"as_of": "2024-06-30"}))
    assert earlier["as_of"] == "2024-06-30" and earlier["transactions"] < shown["transactions"]


def test_xray_projection_and_export_round_trip(household: TestClient, services: Services) -> None:
    xray = ok(household.get("/portfolio/xray"))
    assert {run["rule"] for run in xray["rules"]} >= {"cash_drag", "stale_prices"}
    assert [f["rule"] for f in xray["findings"]] == [
        f.rule for f in services.portfolio.xray().findings
    ]

    body = {"current_age": 55, "years": 10, "seed": 42, "contribution": "1000"}
    first = ok(household.post("/portfolio/projection", json=body))
    assert ok(household.post("/portfolio/projection", json=body)) == first
    assert first["paths"] == 10_000 and first["inputs"]["end_age"] == 65
    assert len(first["rows"]) == 11
    # It starts from today's whole value (each class's start is rounded on its own).
    assert first["left_out"] == {} and first["unvalued"] == []
    total = ok(household.get("/portfolio"))["total"]["value"]
    assert first["rows"][0]["percentiles"]["50"] == total

    exported = ok(household.get("/portfolio/export", params={"format": "ghostfolio"}))
    assert exported["left_out"] > 0 and json.loads(exported["text"])["activities"]
    back = ok(
        household.post(
            "/portfolio/import", json={"files": [{"name": "gf.json", "text": exported["text"]}]}
        )
    )
    assert back["reports"][0]["format"] == "ghostfolio" and back["reports"][0]["new"] == 0


def test_prices_accounts_transactions_targets_and_settings(household: TestClient) -> None:
    price = ok(
        household.put("/prices", json={"symbol": "MTUS", "close": "301.5", "currency": "USD"})
    )
    assert price == {
        "symbol": "MTUS",
        "date": date.today().isoformat(),
        "close": "301.5",
        "currency": "USD",
    }
    held = [h for h in ok(household.get("/portfolio"))["holdings"] if h["symbol"] == "MTUS"]
    assert held and all(h["price"] == "301.5" for h in held)
    csv = "date,symbol,close,currency\n2024-01-02,VTI,200,USD\n"
    report = ok(household.post("/prices", json={"text": csv, "name": "p.csv"}))["reports"][0]
    assert report["kind"] == "prices" and report["records"] == 1

    accounts = ok(household.get("/portfolio/accounts"))["accounts"]
    assert [a["id"] for a in accounts] == ["brokerage", "ira", "savings"]
    assert ok(household.get("/portfolio/accounts/ira"))["kind"] == "retirement"
    assert household.get("/portfolio/accounts/nope").status_code == 404
    put = {"name": "Travel fund", "kind": "savings", "currency": "EUR"}
    assert ok(household.put("/portfolio/accounts/travel", json=put))["currency"] == "EUR"
    renamed = {"name": "Brokerage (joint)", "kind": "taxable", "currency": "USD"}
    assert (
        ok(household.put("/portfolio/accounts/brokerage", json=renamed))["name"] == renamed["name"]
    )
    moved = household.put("/portfolio/accounts/brokerage", json={**renamed, "currency": "EUR"})
    assert moved.status_code == 422 and "cannot change" in moved.json()["message"]

    everything = ok(household.get("/portfolio/transactions"))
    some = ok(
        household.get(
            "/portfolio/transactions",
            params={"account": "ira", "start": "2025-01-01", "end": "2025-12-31"},
        )
    )
    assert 0 < some["total"] < everything["total"]
    assert all(
        t["account"] == "ira" and "2025-01-01" <= t["date"] <= "2025-12-31"
        for t in some["transactions"]
    )
    assert household.get("/portfolio/transactions", params={"account": "nope"}).status_code == 404
    backwards = household.get(
        "/portfolio/transactions", params={"start": "2025-02-01", "end": "2025-01-01"}
    )
    assert backwards.status_code == 422

    targets = {"equity": "60", "bond": "30", "cash": "10"}
    assert ok(household.put("/portfolio/targets/asset_class", json={"weights": targets})) == {
        "targets": {"asset_class": targets}
    }
    buckets = ok(household.get("/portfolio"))["allocations"]["asset_class"]["buckets"]
    assert {b["name"]: b["target"] for b in buckets if b["target"]} == targets
    bad = household.put("/portfolio/targets/asset_class", json={"weights": {"equity": "50"}})
    assert bad.status_code == 422 and "100" in bad.json()["message"]
    assert household.put("/portfolio/targets/colour", json={"weights": {}}).status_code == 422
    assert ok(household.put("/portfolio/targets/asset_class", json={"weights": {}})) == {
        "targets": {}
    }

    settings = ok(household.put("/portfolio/settings", json={"monthly_spending": "3000"}))
    unset = dict.fromkeys(
        (
            "birth_year",
            "retirement_age",
            "end_age",
            "contribution",
            "contribution_growth",
            "spending",
            "fee",
        )
    )
    assert settings == {
        "base_currency": "USD",
        "monthly_spending": "3000",
        "stale_price_days": 7,
        "projection": unset,
    }
    assert ok(household.get("/portfolio/settings")) == settings
    skipped = {
        r["rule"] for r in ok(household.get("/portfolio/xray"))["rules"] if r["status"] == "skipped"
    }
    assert "emergency_fund" not in skipped


def test_the_projection_starts_from_the_settings_and_arguments_win(
    household: TestClient,
) -> None:
    plan = {"birth_year": 1981, "retirement_age": 67, "contribution": "12000", "fee": "0.003"}
    stored = ok(household.put("/portfolio/settings", json={"projection": plan}))["projection"]
    assert stored == {**plan, "end_age": None, "contribution_growth": None, "spending": None}
    later = {"projection": {"spending": "40000"}, "monthly_spending": "2000"}
    assert ok(household.put("/portfolio/settings", json=later))["projection"]["birth_year"] == 1981
    body = {"years": 5, "as_of": "2026-06-30"}
    inputs = ok(household.post("/portfolio/projection", json=body))["inputs"]
    assert (inputs["current_age"], inputs["retirement_age"], inputs["end_age"]) == (45, 67, 50)
    assert (inputs["contribution"], inputs["spending"], inputs["fee"]) == (
        "12000.00",
        "40000.00",
        "0.003",
    )
    given = {**body, "current_age": 30, "contribution": "0", "spending": "1"}
    inputs = ok(household.post("/portfolio/projection", json=given))["inputs"]
    assert (inputs["current_age"], inputs["contribution"], inputs["spending"]) == (
        30,
        "0.00",
        "1.00",
    )

    before = ok(household.get("/portfolio/settings"))
    for bad, field in (
        ({"retirement_age": 40}, "retirement_age"),  # 45 this year
        ({"end_age": 121}, "end_age"),
        ({"spending": "-5"}, "spending"),
    ):
        refused = household.put("/portfolio/settings", json={"projection": bad})
        assert refused.status_code == 422, bad
        assert field in refused.text
    assert ok(household.get("/portfolio/settings")) == before


def test_deleting_an_account(household: TestClient) -> None:
    """Only an account no transaction names: 422 naming how many (as the other refusals that
    depend on what is stored), 404 for an unknown one, and nothing changed by a refusal."""
    held = ok(household.get("/portfolio/transactions", params={"account": "ira"}))["total"]
    refused = household.delete("/portfolio/accounts/ira")
    assert refused.status_code == 422
    assert f"{held} transactions are stored in it" in refused.json()["message"]
    assert ok(household.get("/portfolio/accounts/ira"))["id"] == "ira"
    assert household.delete("/portfolio/accounts/nope").status_code == 404
    put = {"name": "Travel fund", "kind": "savings", "currency": "EUR"}
    ok(household.put("/portfolio/accounts/travel", json=put))
    assert ok(household.delete("/portfolio/accounts/travel")) == {
        "message": "Account deleted",
        "id": "travel",
    }
    assert household.get("/portfolio/accounts/travel").status_code == 404
    assert household.delete("/portfolio/accounts/travel").status_code == 404


def test_deleting_a_transaction(household: TestClient) -> None:
    entries = ok(household.get("/portfolio/transactions"))["transactions"]
    buy = next(t for t in entries if t["type"] == "BUY" and t["symbol"] == "HVMD")
    sell = ok(
        household.post(
            "/portfolio/import",
            json={
                "files": [
                    {
                        "name": "sell.csv",
                        "text": HEADER + f"{date.today().isoformat()},{buy['account']},SELL,HVMD,"
                        f"{buy['quantity']},1,0,USD,\n",
                    }
                ]
            },
        )
    )
    assert sell["reports"][0]["new"] == 1
    before = stored(household)
    refused = household.delete(f"/portfolio/transactions/{buy['id']}")
    assert refused.status_code == 422, refused.text
    assert "cannot be deleted" in refused.json()["message"] and "HVMD" in refused.json()["message"]
    assert stored(household) == before
    assert household.delete("/portfolio/transactions/no-such-id").status_code == 404

    dividend = next(t for t in entries if t["type"] == "DIVIDEND")
    assert ok(household.delete(f"/portfolio/transactions/{dividend['id']}"))["id"] == dividend["id"]
    after = ok(household.get("/portfolio/transactions"))
    assert dividend["id"] not in {t["id"] for t in after["transactions"]}


FUTURE = (date.today() + timedelta(days=3)).isoformat()
BAD_IMPORTS = {
    "malformed CSV": (
        [{"name": "t.csv", "text": HEADER + '2024-01-02,brokerage,DEPOSIT,,,"100,0,USD,\n'}],
        "t.csv",
        "row 2",
    ),
    "malformed JSON": (
        [{"name": "gf.json", "text": '{"activities": [1,'}],
        "gf.json",
        "malformed JSON",
    ),
    "unknown account": (
        [{"name": "t.csv", "text": HEADER + "2024-01-02,nowhere,DEPOSIT,,,100,0,USD,\n"}],
        "row 2, account",
        "unknown account",
    ),
    "negative quantity": (
        [{"name": "t.csv", "text": HEADER + "2024-01-02,brokerage,BUY,VTI,-3,100,0,USD,\n"}],
        "row 2, quantity",
        "negative",
    ),
    "selling more than held": (
        [
            {
                "name": "t.csv",
                "text": HEADER
                + "2024-01-02,brokerage,DEPOSIT,,,1000,0,USD,\n"
                + "2024-01-03,brokerage,BUY,VTI,2,100,0,USD,\n"
                + "2024-01-04,brokerage,SELL,VTI,5,100,0,USD,\n",
            }
        ],
        "t.csv",
        "VTI",
    ),
    "a currency with no FX rate": (
        [
            {
                "name": "t.csv",
                "text": HEADER
                + "2024-01-02,brokerage,DEPOSIT,,,1000,0,USD,\n\n"
                + "2024-01-03,brokerage,DEPOSIT,,,500,0,CHF,\n",
            }
        ],
        "t.csv: nothing imported. row 4, currency: CHF",
        "no CHF/USD rate",
    ),
    "a future date": (
        [{"name": "t.csv", "text": HEADER + f"{FUTURE},brokerage,DEPOSIT,,,100,0,USD,\n"}],
        "row 2, date",
        "in the future",
    ),
    "a bad file among good ones": (
        [
            {"name": "accounts.csv", "text": ACCOUNTS.replace("brokerage", "other")},
            {"name": "t.csv", "text": HEADER + "2024-01-02,brokerage,BUY,VTI,1,x,0,USD,\n"},
        ],
        "t.csv",
        "row 2, unit_price",
    ),
    "not a file Alex reads": ([{"name": "n.txt", "text": "hello"}], "n.txt", "not a file"),
}


@pytest.mark.parametrize("case", sorted(BAD_IMPORTS))
def test_bad_imports_are_422_naming_the_row_and_store_nothing(
    client: TestClient, case: str
) -> None:
    ok(
        client.post(
            "/portfolio/import", json={"files": [{"name": "accounts.csv", "text": ACCOUNTS}]}
        )
    )
    before = stored(client)
    files, *expected = BAD_IMPORTS[case]
    response = client.post("/portfolio/import", json={"files": files})
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert all(part in message for part in expected), message
    assert "Traceback" not in response.text
    assert stored(client) == before


def test_a_100000_row_file_with_one_bad_row_names_it(client: TestClient) -> None:
    ok(client.post("/portfolio/import", json={"files": [{"name": "a.csv", "text": ACCOUNTS}]}))
    rows = [f"2024-01-02,brokerage,DEPOSIT,,,{n % 997 + 1},0,USD,n{n}\n" for n in range(100_000)]
    rows[73_456] = "2024-01-02,brokerage,DEPOSIT,,,12..5,0,USD,\n"
    before = stored(client)
    response = client.post(
        "/portfolio/import", json={"files": [{"name": "big.csv", "text": HEADER + "".join(rows)}]}
    )
    assert response.status_code == 422, response.text[:500]
    assert "row 73458, unit_price" in response.json()["message"]
    assert stored(client) == before


def test_over_the_body_limit_is_413_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALEX_MAX_BODY_BYTES", "4096")
    small = Services(load_settings(), embedder=FakeEmbedder(), store=InMemoryVectorStore())
    try:
        with TestClient(create_app(small, KEY), raise_server_exceptions=False) as client:
            client.headers["x-api-key"] = KEY
            text = HEADER + "2024-01-02,brokerage,DEPOSIT,,,100,0,USD,\n" * 200
            response = client.post(
                "/portfolio/import", json={"files": [{"name": "t.csv", "text": text}]}
            )
            assert response.status_code == 413 and "limit" in response.json()["message"]
            assert ok(client.get("/portfolio/transactions"))["total"] == 0
        # Without the app's middleware (as on Lambda), the operation counts the texts itself.
        from alex.domain.errors import PayloadTooLargeError
        from alex.http import portfolio_operations
        from alex.http.portfolio_schemas import PortfolioImportBody

        body = PortfolioImportBody.model_validate({"files": [{"name": "t.csv", "text": text}]})
        with pytest.raises(PayloadTooLargeError, match=r"files\[0\] \(t.csv\)"):
            portfolio_operations.portfolio_import(small, body)
    finally:
        small.close()


BAD_BODIES: dict[str, tuple[str, str, Any]] = {
    "price with a negative close": (
        "PUT",
        "/prices",
        {"symbol": "VTI", "close": "-1", "currency": "USD"},
    ),
    "price in the future": (
        "PUT",
        "/prices",
        {"symbol": "VTI", "close": "1", "currency": "USD", "date": FUTURE},
    ),
    "price CSV with a bad row": (
        "POST",
        "/prices",
        {"text": "date,symbol,close,currency\n2024-01-02,VTI,abc,USD\n"},
    ),
    "projection with a float": ("POST", "/portfolio/projection", {"contribution": 100.5}),
    "projection with too few paths": ("POST", "/portfolio/projection", {"paths": 10}),
    "projection retiring before today": (
        "POST",
        "/portfolio/projection",
        {"current_age": 50, "retirement_age": 40},
    ),
    "projection growing too fast": ("POST", "/portfolio/projection", {"contribution_growth": "5"}),
    "settings with a bad currency": ("PUT", "/portfolio/settings", {"base_currency": "dollars"}),
    "account with a bad currency": (
        "PUT",
        "/portfolio/accounts/x1",
        {"name": "X", "kind": "taxable", "currency": "US"},
    ),
    "account with a bad id": (
        "PUT",
        "/portfolio/accounts/no%20spaces",
        {"name": "X", "kind": "taxable", "currency": "USD"},
    ),
    "a lone surrogate in a file": ("POST", "/portfolio/import", None),
    "no files": ("POST", "/portfolio/import", {"files": []}),
    "a bad as_of": ("GET", "/portfolio?as_of=2024-13-01", None),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_bodies_are_4xx_and_store_nothing(household: TestClient, case: str) -> None:
    method, path, body = BAD_BODIES[case]
    before = stored(household)
    if case == "a lone surrogate in a file":
        raw = (
            r'{"files": [{"name": "t.csv", "text": "'
            + HEADER.replace("\n", "\\n")
            + r'2024-01-02,brokerage,DEPOSIT,,,1,0,USD,\ud800\n"}]}'
        )
        response = household.post(path, content=raw, headers={"content-type": "application/json"})
    else:
        response = household.request(method, path, json=body)
    assert response.status_code in (400, 404, 413, 422), response.text
    assert response.json()["message"] and "Traceback" not in response.text
    assert stored(household) == before


def test_every_portfolio_route_needs_the_key(app: FastAPI, client: TestClient) -> None:
    paths = app.openapi()["paths"]
    routes = [
        (m.upper(), p)
        for p, ops in paths.items()
        if "portfolio" in p or p == "/prices"
        for m in ops
    ]
    assert len(routes) >= 16
    for method, template in routes:
        path = template.format(
            account_id="brokerage", transaction_id="x", dimension="region", symbol="HAGB"
        )
        for headers in ({}, {"x-api-key": "wrong-key-0123456789"}):
            client.headers.pop("x-api-key", None)
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 403, (method, path, response.text)
    assert ok(client.get("/portfolio/settings", headers={"x-api-key": KEY}))
