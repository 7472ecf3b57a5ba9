"""The accounts and holdings pages in process (alex.web.accounts): what they show equals the
JSON API's, the holdings sort, transactions added, edited (one replace) and deleted, an import
previewed (nothing stored, bad rows named) then confirmed only as previewed, exports, prices
and targets; every change refused without its CSRF token; a fixed number of reads per page.

The portfolio store is the real SQLite one in the test's data folder."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alex.http.app import create_app
from alex.services import Services
from alex.web.accounts import TRANSACTIONS_SHOWN
from tests.functional.test_web_pages import (
    HOSTILE_ACCOUNT,
    KEY,
    api,
    import_household,
    sign_in,
)

HEADER = "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
GOOD = (
    HEADER
    + "2026-11-02,savings,DEPOSIT,,1,500,0,USD,web\n2026-11-03,savings,BUY,MTUS,2,240,0,USD,\n"
)
BAD = (
    HEADER
    + "2026-11-02,savings,DEPOSIT,,1,500,0,USD,\n2026-11-03,savings,BUY,MTUS,two,240,0,USD,\n"
)


@pytest.fixture
def client(fake_services: Services) -> Iterator[TestClient]:
    app = create_app(fake_services, KEY)
    with TestClient(
        app, raise_server_exceptions=True, follow_redirects=False, base_url="http://alex.test"
    ) as built:
        import_household(built)
        yield built


@pytest.fixture
def token(client: TestClient) -> str:
    return sign_in(client)


def hidden(page: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'name="{name}" value="([^"]*)"', page)]


def holdings(client: TestClient, account: str) -> dict[str, str]:
    shown = api(client, "GET", "/portfolio")
    return {h["symbol"]: h["quantity"] for h in shown["holdings"] if h["account"] == account}


def transactions(client: TestClient, account: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = api(
        client, "GET", "/portfolio/transactions", params={"account": account}
    )["transactions"]
    return listed


def test_the_accounts_page_shows_the_apis_figures_escaped(client: TestClient, token: str) -> None:
    page = client.get("/accounts")
    assert page.status_code == 200
    shown = api(client, "GET", "/portfolio")
    for account in shown["accounts"]:
        assert f'href="/accounts/{account["id"]}"' in page.text
    assert HOSTILE_ACCOUNT not in page.text and "&lt;script&gt;" in page.text
    # Stale prices are marked (the household's prices end before today).
    for quote in shown["stale"]:
        if quote["name"].startswith("price "):
            symbol = quote["name"].removeprefix("price ")
            row = re.search(
                rf'<tr class="stale">\s*<th scope="row">{symbol}\b.*?</tr>', page.text, re.S
            )
            assert row and "stale" in row.group(0)
    assert 'value="equity:60;bond:30;cash:10"' not in page.text  # no target set yet
    assert 'aria-current="page">Accounts' in page.text


def test_the_holdings_sort_by_any_column_either_way(client: TestClient, token: str) -> None:
    mine = holdings(client, "brokerage")
    page = client.get("/accounts/brokerage", params={"sort": "symbol", "order": "ascending"})
    rows = re.findall(r'<tr(?: class="stale")?>\s*<th scope="row">([A-Z0-9.]+)', page.text)
    assert rows[: len(mine)] == sorted(mine)
    assert '<th scope="col" aria-sort="ascending">' in page.text
    down = client.get("/accounts/brokerage", params={"sort": "symbol", "order": "descending"})
    rows = re.findall(r'<tr(?: class="stale")?>\s*<th scope="row">([A-Z0-9.]+)', down.text)
    assert rows[: len(mine)] == sorted(mine, reverse=True)
    # Anything else: the default (value in the base currency, largest first), no error.
    assert 'aria-sort="descending"' in client.get("/accounts/brokerage?sort=x&order=y").text
    assert client.get("/accounts/nowhere").status_code == 404


def test_a_transaction_is_added_refused_by_field_edited_and_deleted(
    client: TestClient, token: str
) -> None:
    before = transactions(client, "savings")
    form = {
        "csrf_token": token,
        "date": "2026-11-02",
        "type": "DEPOSIT",
        "quantity": "1",
        "unit_price": "abc",
        "currency": "USD",
        "note": "<b>bonus</b>",
    }
    refused = client.post("/accounts/savings/transactions", data=form)
    assert refused.status_code == 422
    assert 'id="add-unit_price" name="unit_price"' in refused.text
    assert re.search(r'id="add-unit_price"[^>]*aria-invalid="true"', refused.text)
    assert "column unit_price" in refused.text and "Nothing was stored" in refused.text
    assert transactions(client, "savings") == before
    added = client.post("/accounts/savings/transactions", data={**form, "unit_price": "250"})
    assert added.status_code == 303 and added.headers["location"] == "/accounts/savings?done=added"
    after = transactions(client, "savings")
    (new,) = [t for t in after if t not in before]
    assert new["note"] == "<b>bonus</b>" and new["unit_price"] == "250"
    page = client.get("/accounts/savings?done=added")
    assert "Transaction added." in page.text and "&lt;b&gt;bonus&lt;/b&gt;" in page.text

    edit = client.get(f"/accounts/savings/transactions/{new['id']}")
    assert edit.status_code == 200 and 'value="250"' in edit.text
    saved = client.post(
        f"/accounts/savings/transactions/{new['id']}", data={**form, "unit_price": "300"}
    )
    assert saved.status_code == 303
    edited = transactions(client, "savings")
    assert len(edited) == len(after) and new not in edited
    (changed,) = [t for t in edited if t not in before]
    assert changed["unit_price"] == "300"

    deleted = client.post(
        f"/accounts/savings/transactions/{changed['id']}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 303
    assert transactions(client, "savings") == before
    gone = client.post(
        f"/accounts/savings/transactions/{changed['id']}/delete", data={"csrf_token": token}
    )
    assert gone.status_code == 404


def test_a_delete_that_breaks_the_ledger_is_refused_and_named(
    client: TestClient, token: str
) -> None:
    listed = transactions(client, "brokerage")
    sold = {t["symbol"] for t in listed if t["type"] == "SELL"}
    # The first buy of a symbol later sold: without it, the sale sells what is not held.
    buy = next(t for t in listed if t["type"] == "BUY" and t["symbol"] in sold)
    refused = client.post(
        f"/accounts/brokerage/transactions/{buy['id']}/delete", data={"csrf_token": token}
    )
    assert refused.status_code == 422 and "cannot be deleted" in refused.text
    assert "Nothing was stored" in refused.text
    assert transactions(client, "brokerage") == listed


def test_every_change_needs_the_csrf_token(client: TestClient, token: str) -> None:
    listed = transactions(client, "savings")
    posts = [
        ("/accounts/savings/transactions", {"date": "2026-11-02", "type": "DEPOSIT"}),
        (f"/accounts/savings/transactions/{listed[0]['id']}/delete", {}),
        (f"/accounts/savings/transactions/{listed[0]['id']}", {}),
        ("/accounts/prices", {"symbol": "MTUS", "close": "1", "currency": "USD"}),
        ("/accounts/targets/asset_class", {"weights": "equity:100"}),
        ("/accounts/import/confirm", {"format": "auto"}),
    ]
    for path, data in posts:
        response = client.post(path, data={**data, "csrf_token": "forged"})
        assert response.status_code == 403, path
    assert transactions(client, "savings") == listed


def test_a_bad_import_names_its_row_and_column_and_stores_nothing(
    client: TestClient, token: str
) -> None:
    before = holdings(client, "savings")
    response = client.post(
        "/accounts/import",
        data={"csrf_token": token, "format": "auto"},
        files={"files": ("mine.csv", BAD.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert "<strong>row 3, column quantity</strong>" in response.text
    assert "Nothing was stored" in response.text
    assert holdings(client, "savings") == before


def test_an_import_is_previewed_then_confirmed_only_as_previewed(
    client: TestClient, token: str
) -> None:
    before = transactions(client, "savings")
    preview = client.post(
        "/accounts/import",
        data={"csrf_token": token, "format": "auto"},
        files={"files": ("mine.csv", GOOD.encode(), "text/csv")},
    )
    assert preview.status_code == 200
    assert '<strong class="count-new">2</strong> new' in preview.text
    assert "2026-11-03" in preview.text and "MTUS" in preview.text
    assert transactions(client, "savings") == before  # the preview stored nothing
    form = {
        "csrf_token": token,
        "format": hidden(preview.text, "format")[0],
        "name": hidden(preview.text, "name"),
        "content": hidden(preview.text, "content"),
        "digest": hidden(preview.text, "digest")[0],
    }
    assert base64.b64decode(form["content"][0]).decode() == GOOD  # line ends kept
    # Changed content, or the preview of another session: refused, nothing stored.
    tampered = base64.b64encode(GOOD.replace(",2,240", ",20,240").encode()).decode()
    refused = client.post("/accounts/import/confirm", data={**form, "content": [tampered]})
    assert refused.status_code == 422 and "not the files previewed" in refused.text
    assert transactions(client, "savings") == before
    done = client.post("/accounts/import/confirm", data=form)
    assert done.status_code == 303
    assert done.headers["location"] == "/accounts?done=imported&added=2"
    assert len(transactions(client, "savings")) == len(before) + 2
    assert "Import done: 2 new records stored." in client.get(done.headers["location"]).text
    again = client.post(
        "/accounts/import",
        data={"csrf_token": token, "format": "auto"},
        files={"files": ("mine.csv", GOOD.encode(), "text/csv")},
    )
    assert '<strong class="count-new">0</strong> new' in again.text
    assert "<strong>2</strong> already stored" in again.text


def test_exports_download_what_the_api_exports(client: TestClient, token: str) -> None:
    for filename, format_, what in (
        ("transactions.csv", "alex", "transactions"),
        ("ghostfolio.json", "ghostfolio", "transactions"),
        ("prices.csv", "alex", "prices"),
    ):
        response = client.get(f"/accounts/export/{filename}")
        assert response.status_code == 200
        assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
        expected = api(client, "GET", "/portfolio/export", params={"format": format_, "what": what})
        assert response.text == expected["text"]
    assert client.get("/accounts/export/secrets.txt").status_code == 404


def test_a_price_and_a_target_are_set_or_refused_by_field(client: TestClient, token: str) -> None:
    price = {"csrf_token": token, "symbol": "MTUS", "close": "251.5", "currency": "USD"}
    bad = client.post("/accounts/prices", data={**price, "close": "-3"})
    assert bad.status_code == 422 and "close" in bad.text
    assert client.post("/accounts/prices", data={**price, "date": "2026-11-30"}).status_code == 303
    shown = api(client, "GET", "/portfolio", params={"as_of": "2026-11-30"})
    mtus = next(h for h in shown["holdings"] if h["symbol"] == "MTUS")
    assert (mtus["price"], mtus["price_date"]) == ("251.5", "2026-11-30")

    target = {"csrf_token": token, "weights": "equity:60;bond:30"}
    refused = client.post("/accounts/targets/asset_class", data=target)
    assert refused.status_code == 422 and "not 100" in refused.text
    ok = client.post(
        "/accounts/targets/asset_class", data={**target, "weights": "equity:60;bond:40"}
    )
    assert ok.status_code == 303
    assert api(client, "GET", "/portfolio/targets")["targets"] == {
        "asset_class": {"equity": "60", "bond": "40"}
    }
    assert 'value="equity:60;bond:40"' in client.get("/accounts").text
    assert (
        client.post("/accounts/targets/asset_class", data={**target, "weights": ""}).status_code
        == 303
    )
    assert api(client, "GET", "/portfolio/targets")["targets"] == {}


def test_pages_read_the_store_as_show_does_plus_a_fixed_few(
    client: TestClient, token: str, fake_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No N+1: a page costs one ``show`` (whose own reads are per symbol: the valuation)
    plus a fixed number of reads, whatever the holdings."""
    store = fake_services.portfolio.store
    calls: dict[str, int] = {}
    for name in ("list_transactions", "last_price", "get_instrument", "list_prices", "targets"):
        original = getattr(store, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*args, **kw)

        monkeypatch.setattr(store, name, counted)

    def reads(action: Any) -> dict[str, int]:
        calls.clear()
        action()
        return dict(calls)

    show = reads(fake_services.portfolio.show)
    assert show["last_price"] > 5  # one per symbol held: the valuation's, not the page's
    account = reads(lambda: client.get("/accounts/brokerage").raise_for_status())
    assert account == {**show, "list_transactions": show["list_transactions"] + 1}
    accounts = reads(lambda: client.get("/accounts").raise_for_status())
    assert accounts == {**show, "targets": show["targets"] + 1}


def test_an_account_lists_its_newest_transactions_and_all_on_request(
    client: TestClient, token: str
) -> None:
    listed = transactions(client, "brokerage")
    assert len(listed) > TRANSACTIONS_SHOWN
    page = client.get("/accounts/brokerage").text
    edits = re.findall(r'href="/accounts/brokerage/transactions/([0-9a-f]+)"', page)
    newest = sorted(listed, key=lambda t: (t["date"], t["id"]), reverse=True)
    assert edits == [t["id"] for t in newest[:TRANSACTIONS_SHOWN]]
    assert f"Show all {len(listed)} transactions" in page
    every = client.get("/accounts/brokerage?transactions=all").text
    assert len(re.findall(r'href="/accounts/brokerage/transactions/', every)) == len(listed)


def test_the_pages_have_no_inline_script_style_or_handler(client: TestClient, token: str) -> None:
    (first, *_) = transactions(client, "savings")
    preview = client.post(
        "/accounts/import",
        data={"csrf_token": token, "format": "auto"},
        files={"files": ("mine.csv", GOOD.encode(), "text/csv")},
    )
    pages = [
        client.get("/accounts").text,
        client.get("/accounts/savings").text,
        client.get(f"/accounts/savings/transactions/{first['id']}").text,
        preview.text,
    ]
    for text in pages:
        assert "<script>" not in text and " style=" not in text and "<style" not in text
        assert not re.search(r"<[^>]*\son[a-z]+=", text) and "hx-on" not in text
