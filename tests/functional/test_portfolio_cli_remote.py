"""``alex portfolio`` and ``alex prices`` in remote mode (``--endpoint``) against ``alex serve``
on loopback: the same commands on a local store and through the API print the same
``--json``, and a bad file is refused by the server naming its row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alex.cli import app
from alex.domain.errors import InvalidInputError
from tests.support.server import AlexServer

runner = CliRunner()
KEY = "remote-portfolio-key-0123456789"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
AS_OF = "2026-06-30"

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlexServer]:
    alex = AlexServer(tmp_path_factory.mktemp("portfolio-server"), KEY).start()
    yield alex
    alex.stop()


def run(*args: str, endpoint: str | None = None) -> str:
    extra = ["--endpoint", endpoint] if endpoint else []
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def both(server: AlexServer, *args: str) -> tuple[object, object]:
    """``args --json`` on the local store, then through the server."""
    local = json.loads(run(*args, "--json"))
    remote = json.loads(run(*args, "--json", endpoint=server.url))
    return local, remote


def test_local_and_remote_json_are_the_same(
    server: AlexServer, isolated_settings: Path, tmp_path: Path
) -> None:
    isolated_settings.write_text(f"ALEX_API_KEY={KEY}\n")  # the key for --endpoint
    files = [str(path) for path in sorted(SAMPLES.glob("*.csv"))]
    local, remote = both(server, "portfolio", "import", *files)
    assert local == remote and isinstance(local, list) and len(local) == len(files)

    for command in (
        ("portfolio", "show", "--as-of", AS_OF),
        ("portfolio", "xray", "--as-of", AS_OF),
        ("portfolio", "project", "--years", "5", "--seed", "3", "--age", "50"),
        ("portfolio", "settings", "--monthly-spending", "2500"),
        ("portfolio", "settings"),
    ):
        local, remote = both(server, *command)
        assert local == remote, command
    shown, _ = both(server, "portfolio", "show", "--as-of", AS_OF)
    assert isinstance(shown, dict) and shown["transactions"] > 0

    prices = tmp_path / "prices.csv"
    prices.write_text("date,symbol,close,currency\n2026-06-29,MTUS,333.25,USD\n")
    for endpoint in (None, server.url):
        run("prices", "import", str(prices), endpoint=endpoint)
        run(
            "prices", "set", "HVMD", "99.5", "--currency", "USD", "--date", AS_OF, endpoint=endpoint
        )
        run("portfolio", "target", "asset_class", "equity=70", "bond=30", endpoint=endpoint)
    local, remote = both(server, "portfolio", "show", "--as-of", AS_OF)
    assert local == remote
    assert isinstance(local, dict)
    priced = {h["symbol"]: h["price"] for h in local["holdings"]}
    assert priced["MTUS"] == "333.25" and priced["HVMD"] == "99.5"
    targets = {
        b["name"]: b["target"]
        for b in local["allocations"]["asset_class"]["buckets"]
        if b["target"]
    }
    assert targets == {"equity": "70", "bond": "30"}

    exported = run("portfolio", "export", endpoint=server.url)
    assert exported.startswith("date,account,type,symbol,")
    assert exported == run("portfolio", "export")

    # Tables print from the same answers.
    table = run("portfolio", "show", "--as-of", AS_OF, endpoint=server.url)
    assert "Holdings" in table and "MTUS" in table


def test_account_delete_remotely(
    server: AlexServer, isolated_settings: Path, tmp_path: Path
) -> None:
    isolated_settings.write_text(f"ALEX_API_ENDPOINT={server.url}\nALEX_API_KEY={KEY}\n")
    spare = tmp_path / "accounts.csv"
    spare.write_text("id,name,kind,currency\nspare,Spare,savings,USD\n")
    run("portfolio", "import", str(spare), *map(str, sorted(SAMPLES.glob("*.csv"))))
    refused = runner.invoke(app, ["portfolio", "account", "delete", "brokerage"])
    assert isinstance(refused.exception, InvalidInputError)
    assert "transactions are stored in it" in str(refused.exception)
    assert "account spare deleted" in run("portfolio", "account", "delete", "spare")
    assert "spare" not in run("portfolio", "export", "--what", "accounts")


def test_a_bad_file_is_refused_remotely_naming_the_row(
    server: AlexServer, isolated_settings: Path, tmp_path: Path
) -> None:
    isolated_settings.write_text(f"ALEX_API_ENDPOINT={server.url}\nALEX_API_KEY={KEY}\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
        "2026-01-02,brokerage,BUY,MTUS,-1,300,0,USD,\n"
    )
    before = run("portfolio", "export")
    result = runner.invoke(app, ["portfolio", "import", str(bad)])
    assert isinstance(result.exception, InvalidInputError)
    assert "row 2, quantity: must not be negative" in str(result.exception)
    assert run("portfolio", "export") == before
    # Remote mode never opened a local store.
    assert not (isolated_settings.parent / "data" / "alex.sqlite3").exists()
