"""``alex portfolio`` and ``alex prices`` on a temporary data folder: the sample household
imported from its folder, ``show --json`` against the service, re-imports, a bad file,
reproducible projections, targets, settings and prices."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from alex.cli import app
from alex.config import load_settings
from alex.domain.errors import ConfigError, InvalidInputError
from alex.portfolio.model import round_money
from alex.services import Services
from tests.processes import run_alex

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"


def import_household() -> None:
    result = runner.invoke(app, ["portfolio", "import", *map(str, sorted(SAMPLES.glob("*.csv")))])
    assert result.exit_code == 0, result.output


def invoke_json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_show_json_matches_the_service_and_reimport_adds_nothing() -> None:
    import_household()
    shown = invoke_json("portfolio", "show")
    assert isinstance(shown, dict)
    services = Services(load_settings())
    try:
        view = services.portfolio.show()
    finally:
        services.close()
    total = view.valuation.total.value
    assert total is not None and shown["total"]["value"] == str(round_money(total, "USD"))
    assert shown["transactions"] == view.transactions > 0
    assert [h["symbol"] for h in shown["holdings"]] == [
        h.holding.symbol for h in view.valuation.holdings
    ]
    classes = shown["allocations"]["asset_class"]["buckets"]
    assert {b["name"]: Decimal(b["share"]) for b in classes} == {
        b.name: b.share
        for b in view.allocations["asset_class"].buckets  # type: ignore[index]
    }
    assert sum(Decimal(b["share"]) for b in classes) == 100

    again = invoke_json("portfolio", "import", *map(str, sorted(SAMPLES.glob("*.csv"))))
    assert isinstance(again, list) and [r["new"] for r in again] == [0] * len(again)
    assert invoke_json("portfolio", "show") == shown


def test_settings_keep_the_projections_inputs() -> None:
    import_household()
    year = date.today().year
    shown = invoke_json(
        "portfolio", "settings", "--birth-year", str(year - 50), "--retire-at", "60",
        "--end-age", "90", "--contribution", "5000", "--contribution-growth", "0.01",
        "--spending", "30000", "--fee", "0.002",
    )  # fmt: skip
    assert isinstance(shown, dict) and shown["projection"] == {
        "birth_year": year - 50,
        "retirement_age": 60,
        "end_age": 90,
        "contribution": "5000",
        "contribution_growth": "0.01",
        "spending": "30000",
        "fee": "0.002",
    }
    projected = invoke_json("portfolio", "project", "--seed", "2")
    assert isinstance(projected, dict)
    inputs = projected["inputs"]
    assert (inputs["current_age"], inputs["retirement_age"], inputs["end_age"]) == (50, 60, 90)
    assert (inputs["spending"], inputs["fee"]) == ("30000.00", "0.002")
    assert (
        invoke_json("portfolio", "project", "--age", "55", "--years", "3")["inputs"][  # type: ignore[index]
            "current_age"
        ]
        == 55
    )
    refused = runner.invoke(app, ["portfolio", "settings", "--retire-at", "49"])
    assert isinstance(refused.exception, InvalidInputError)
    assert "projection.retirement_age" in str(refused.exception)
    table = runner.invoke(app, ["portfolio", "settings"]).output
    assert "projection birth_year" in table


def test_account_delete_refuses_an_account_in_use(tmp_path: Path) -> None:
    import_household()
    result = runner.invoke(app, ["portfolio", "account", "delete", "savings"])
    assert isinstance(result.exception, InvalidInputError)
    assert "transactions are stored in it" in str(result.exception)
    spare = tmp_path / "accounts.csv"
    spare.write_text("id,name,kind,currency\nspare,Spare,savings,USD\n")
    runner.invoke(app, ["portfolio", "import", str(spare)])
    deleted = runner.invoke(app, ["portfolio", "account", "delete", "spare"])
    assert deleted.exit_code == 0 and "account spare deleted" in deleted.output
    again = runner.invoke(app, ["portfolio", "account", "delete", "spare"])
    assert "no account with id 'spare'" in str(again.exception)


def test_a_bad_file_names_the_row_and_stores_nothing(tmp_path: Path) -> None:
    import_household()
    before = invoke_json("portfolio", "show")
    bad = tmp_path / "more.csv"
    bad.write_text(
        "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
        "2026-11-30,brokerage,BUY,MTUS,1,300,0,USD,fine\n"
        "2026-11-30,brokerage,BUY,MTUS,-1,300,0,USD,negative\n"
    )
    result = run_alex("portfolio", "import", str(bad))
    assert result.returncode == 1
    assert "row 3, quantity: must not be negative" in result.stderr
    assert "Traceback" not in result.stderr
    assert invoke_json("portfolio", "show") == before


def test_project_json_is_reproducible_with_a_seed() -> None:
    import_household()
    args = ("portfolio", "project", "--years", "10", "--seed", "42", "--age", "55")
    first, second = invoke_json(*args), invoke_json(*args)
    assert first == second
    assert isinstance(first, dict) and len(first["rows"]) == 11 and first["seed"] == 42
    other = invoke_json("portfolio", "project", "--years", "10", "--seed", "43", "--age", "55")
    assert isinstance(other, dict) and other["rows"] != first["rows"]
    table = runner.invoke(app, ["portfolio", "project", "--years", "10", "--seed", "42"])
    assert table.exit_code == 0 and "10th to 90th percentile" in table.output
    assert "success probability" in table.output


def test_targets_settings_and_prices() -> None:
    import_household()
    set_target = runner.invoke(app, ["portfolio", "target", "asset_class", "equity=70", "bond=30"])
    assert set_target.exit_code == 0, set_target.output
    buckets = invoke_json("portfolio", "show")["allocations"]["asset_class"]["buckets"]  # type: ignore[index]
    equity = next(b for b in buckets if b["name"] == "equity")
    assert Decimal(equity["drift"]) == Decimal(equity["share"]) - 70

    settings = invoke_json("portfolio", "settings", "--monthly-spending", "4000")
    assert isinstance(settings, dict) and settings.pop("projection")["spending"] is None
    assert settings == {"base_currency": "USD", "monthly_spending": "4000", "stale_price_days": 7}

    priced = runner.invoke(app, ["prices", "set", "MTUS", "310.5", "--currency", "USD"])
    assert priced.exit_code == 0, priced.output
    holdings = invoke_json("portfolio", "show")["holdings"]  # type: ignore[index]
    assert {h["price"] for h in holdings if h["symbol"] == "MTUS"} == {"310.5"}


def test_shown_names_from_files_cannot_drive_the_terminal(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text('id,name,kind,currency\nx,"Evil \x1b[2J[red]name[/red]",taxable,USD\n')
    deposit = tmp_path / "t.csv"
    deposit.write_text(
        "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
        "2026-01-02,x,DEPOSIT,,1,100,0,USD,\n"
    )
    assert runner.invoke(app, ["portfolio", "import", str(accounts), str(deposit)]).exit_code == 0
    shown = runner.invoke(app, ["portfolio", "show"])
    assert shown.exit_code == 0 and "\x1b" not in shown.output and "\\x1b" in shown.output
    assert "[red]name[/red]" in shown.output


def test_export_round_trips_and_remote_mode_needs_a_key(tmp_path: Path) -> None:
    import_household()
    out = tmp_path / "gf.json"
    exported = runner.invoke(app, ["portfolio", "export", "--format", "ghostfolio", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    again = invoke_json("portfolio", "import", str(out))
    assert isinstance(again, list) and again[0]["format"] == "ghostfolio" and again[0]["new"] == 0

    remote = runner.invoke(app, ["portfolio", "show", "--endpoint", "http://127.0.0.1:9"])
    assert isinstance(remote.exception, ConfigError)
    assert "ALEX_API_KEY must be set" in str(remote.exception)  # remote mode: test_cli_remote
    missing = runner.invoke(app, ["prices", "import", str(tmp_path / "nope.csv")])
    assert isinstance(missing.exception, InvalidInputError)


def test_serve_loads_the_household_only_into_an_empty_portfolio() -> None:
    from alex.cli import _load_sample_portfolio

    services = Services(load_settings())
    try:
        _load_sample_portfolio(services, SAMPLES)
        store = services.portfolio.store
        count = len(store.list_transactions())
        assert count > 0 and len(store.list_accounts()) == 3
        store.delete_transaction(store.list_transactions()[0].id)
        _load_sample_portfolio(services, SAMPLES)  # not empty: left as the user has it
        assert len(store.list_transactions()) == count - 1
    finally:
        services.close()


def test_xray_reports_the_sample_households_cash_drag_and_skips_what_it_cannot_check() -> None:
    """The household holds over 10% in uninvested cash and a bond ETF without a sector; with
    no monthly spending set, the emergency-fund check says why it did not run. Setting it
    makes that check run (1.7 months of cash in savings is under the 3-month default)."""
    import_household()
    checked = invoke_json("portfolio", "xray")
    assert isinstance(checked, dict)
    fired = {finding["rule"]: finding for finding in checked["findings"]}
    assert set(fired) == {"cash_drag", "unknown_classification"}
    cash = fired["cash_drag"]["figures"]
    assert Decimal(cash["share"]) == Decimal(cash["cash"]) / Decimal(cash["portfolio_value"]) * 100
    skipped = {r["rule"]: r["reason"] for r in checked["rules"] if r["status"] == "skipped"}
    assert "monthly spending" in skipped["emergency_fund"]

    result = runner.invoke(app, ["portfolio", "settings", "--monthly-spending", "6000"])
    assert result.exit_code == 0, result.output
    again = invoke_json("portfolio", "xray")
    assert isinstance(again, dict)
    assert "emergency_fund" in {finding["rule"] for finding in again["findings"]}
