"""``alex portfolio`` and ``alex prices`` in remote mode (``--endpoint``) against ``alex serve``
on loopback: the same commands on a local store and through the API print the same
``--json``, and a bad file is refused by the server naming its row."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from alex.cli import app, main
from alex.domain.errors import ConfigError, InvalidInputError, NotFoundError
from tests.support.server import AlexServer

runner = CliRunner()
KEY = "remote-portfolio-key-0123456789"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
AS_OF = "2026-06-30"
REAL_CLIENT = httpx.Client

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


def fake_api(monkeypatch: pytest.MonkeyPatch, status: int, body: dict[str, str]) -> list[str]:
    """Every httpx client the CLI opens answers ``status`` with ``body``; the paths asked."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path}")
        return httpx.Response(status, json=body)

    def client(**kwargs: Any) -> httpx.Client:
        return REAL_CLIENT(**{**kwargs, "transport": httpx.MockTransport(answer)})

    monkeypatch.setattr(httpx, "Client", client)
    return asked


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, "Missing Authentication Token"),  # API Gateway: a stage without the route
        (404, "Not Found"),  # an older `alex serve`, or a researcher image built before it
    ],
)
def test_a_deployment_without_the_projection_route_says_what_to_do(
    isolated_settings: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    message: str,
) -> None:
    endpoint = "https://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com/dev"
    isolated_settings.write_text(f"ALEX_API_ENDPOINT={endpoint}\nALEX_API_KEY={KEY}\n")
    asked = fake_api(monkeypatch, status, {"message": message})
    monkeypatch.setattr(sys, "argv", ["alex", "portfolio", "project", "--seed", "1"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    assert asked == ["POST /dev/portfolio/projection"]  # asked once: not a retryable answer
    err = " ".join(capsys.readouterr().err.split())
    assert f"{endpoint} has no POST /portfolio/projection (HTTP {status} {message})" in err
    assert "services/researcher/build_image.py" in err and "npm run deploy" in err
    assert "comment out ALEX_API_ENDPOINT in .env" in err


def test_a_refused_key_is_still_a_key_error_for_the_projection(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway's 403 on a route it has (a wrong key) is not taken for a missing route."""
    isolated_settings.write_text(f"ALEX_API_ENDPOINT=https://api.test/dev\nALEX_API_KEY={KEY}\n")
    fake_api(monkeypatch, 403, {"message": "Forbidden"})
    result = runner.invoke(app, ["portfolio", "project"])
    assert isinstance(result.exception, ConfigError)
    assert "refused the API key (403 Forbidden): check ALEX_API_KEY" in str(result.exception)
    # Other routes keep their generic errors (no deployment hint for a 404 they answer).
    fake_api(monkeypatch, 404, {"message": "no account with id 'x'"})
    result = runner.invoke(app, ["portfolio", "show"])
    assert isinstance(result.exception, NotFoundError)
