"""``alex portfolio classify`` and the classification routes, with a scripted tagger: the CLI
proposes locally (live progress on stderr), ``show`` marks what is proposed without counting
it, accept and reject work through the CLI, the HTTP routes and the CLI's remote mode alike.

The sample household has one instrument with an unknown part: HAGB's sector.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alex.cli import app
from alex.config import load_settings
from alex.http.app import create_app
from alex.remote import RemoteClient
from alex.services import Services
from tests.scripted_model import ScriptedModel, opener, text

runner = CliRunner()
KEY = "classify-key-0123456789"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
AS_OF = "2026-12-03"
SECTOR = {
    "asset_class": [{"bucket": "bond", "percent": 100}],
    "region": [{"bucket": "north_america", "percent": 100}],
    "sector": [{"bucket": "government", "percent": 55}, {"bucket": "financials", "percent": 45}],
    "confidence": 0.75,
    "reason": "A US aggregate bond index fund.",
}


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    # Progress goes to stderr: --json's stdout is the JSON alone.
    return result.stdout if "--json" in args else result.output


@pytest.fixture
def household(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    """The sample household in the local store, and the tagger's model scripted."""
    cli("portfolio", "import", *(str(p) for p in sorted(SAMPLES.glob("*.csv"))))
    model = ScriptedModel([text(json.dumps(SECTOR))])
    monkeypatch.setattr("alex.research.llm.open_chat_model", opener(model, tools=False))
    return model


@pytest.fixture
def api(household: ScriptedModel) -> Iterator[TestClient]:
    services = Services(load_settings())  # the same SQLite file the CLI writes
    with TestClient(create_app(services, KEY), raise_server_exceptions=False) as client:
        client.headers["x-api-key"] = KEY
        yield client
    services.close()


def sector(shown: dict[str, Any]) -> dict[str, Any]:
    allocation: dict[str, Any] = shown["allocations"]["sector"]
    return allocation


def test_classify_proposes_show_marks_it_and_accept_counts_it(household: ScriptedModel) -> None:
    before = json.loads(cli("portfolio", "show", "--as-of", AS_OF, "--json"))
    unknown = next(b for b in sector(before)["buckets"] if b["name"] == "unknown")

    out = cli("portfolio", "classify")
    assert "classify HAGB (1 of 1)" in out  # progress (stderr, mixed in by the runner)
    assert "Proposed classifications" in out and "government 55" in out and "0.75" in out
    assert "alex portfolio classify --accept SYMBOL" in out
    (call,) = household.calls
    assert call.tools == []

    shown = json.loads(cli("portfolio", "show", "--as-of", AS_OF, "--json"))
    (proposal,) = shown["proposed_classifications"]
    assert proposal["symbol"] == "HAGB" and proposal["name"] == "Harbor Aggregate Bond ETF"
    assert proposal["sector"] == {"government": "55", "financials": "45"}
    assert proposal["asset_class"] == {} and proposal["region"] == {}  # HAGB's own
    assert proposal["confidence"] == "0.75" and proposal["model"] == "scripted"
    # Shown as proposed; not counted: the unknown bucket is as it was.
    assert sector(shown)["proposed"] == ["HAGB"]
    assert next(b for b in sector(shown)["buckets"] if b["name"] == "unknown") == unknown
    assert "proposed classifications" in cli("portfolio", "show", "--as-of", AS_OF)

    # A second run asks the model nothing: HAGB's proposal is waiting.
    again = json.loads(cli("portfolio", "classify", "--json"))
    assert again["report"]["proposed"] == [] and again["report"]["model"] is None
    assert again["report"]["skipped"][0]["symbol"] == "HAGB"
    assert [p["symbol"] for p in again["proposals"]] == ["HAGB"]

    decided = json.loads(cli("portfolio", "classify", "--accept", "HAGB", "--json"))
    assert decided == {
        "message": "Proposal accepted",
        "symbol": "HAGB",
        "applied": ["sector"],
        "kept": [],
    }
    after = json.loads(cli("portfolio", "show", "--as-of", AS_OF, "--json"))
    names = {b["name"] for b in sector(after)["buckets"]}
    assert "unknown" not in names and {"government", "financials"} <= names
    assert after["proposed_classifications"] == [] and sector(after)["proposed"] == []
    exported = cli("portfolio", "export", "--what", "instruments")
    assert "HAGB,Harbor Aggregate Bond ETF,etf,USD,bond:100,north_america:100," in exported
    assert "government:55;financials:45" in exported


def test_reject_and_unknown_symbols(household: ScriptedModel) -> None:
    cli("portfolio", "classify")
    assert "Proposal rejected: HAGB" in cli("portfolio", "classify", "--reject", "HAGB")
    shown = json.loads(cli("portfolio", "show", "--as-of", AS_OF, "--json"))
    assert shown["proposed_classifications"] == []
    assert any(b["name"] == "unknown" for b in sector(shown)["buckets"])
    missing = runner.invoke(app, ["portfolio", "classify", "--accept", "HAGB"])
    # The CLI's entry point prints a domain error as one line; the runner shows it raised.
    assert missing.exit_code != 0
    assert "no proposed classification for 'HAGB'" in str(missing.exception)
    both = runner.invoke(app, ["portfolio", "classify", "--accept", "A", "--reject", "B"])
    assert both.exit_code != 0 and "give one of them" in str(both.exception)


def test_the_routes_list_accept_and_reject(household: ScriptedModel, api: TestClient) -> None:
    assert api.get("/portfolio/classifications").json() == {"proposals": []}
    cli("portfolio", "classify")
    listed = api.get("/portfolio/classifications").json()["proposals"]
    assert [p["symbol"] for p in listed] == ["HAGB"]
    assert (
        listed == api.get("/portfolio", params={"as_of": AS_OF}).json()["proposed_classifications"]
    )

    rejected = api.post("/portfolio/classifications/HAGB/reject")
    assert rejected.status_code == 200 and rejected.json()["message"] == "Proposal rejected"
    for action in ("accept", "reject"):
        gone = api.post(f"/portfolio/classifications/HAGB/{action}")
        assert gone.status_code == 404
        assert gone.json()["message"] == "no proposed classification for 'HAGB'"
    assert api.post("/portfolio/classifications/NOPE/accept").status_code == 404
    keyless = api.get("/portfolio/classifications", headers={"x-api-key": ""})
    assert keyless.status_code == 403


def test_remote_mode_lists_and_accepts_but_proposes_nothing(
    household: ScriptedModel, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("portfolio", "classify")  # proposed where the model is: locally

    def through_app(request: httpx.Request) -> httpx.Response:
        answer = api.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def remote(endpoint: str | None = None) -> RemoteClient:  # a new one a command, as the CLI
        return RemoteClient("http://testserver", KEY, transport=httpx.MockTransport(through_app))

    monkeypatch.setattr("alex.portfolio_cli.open_client", remote)

    listed = runner.invoke(app, ["portfolio", "classify", "--json"])
    assert listed.exit_code == 0, listed.output
    answer = json.loads(listed.stdout)
    assert answer["report"] is None and [p["symbol"] for p in answer["proposals"]] == ["HAGB"]
    shown = runner.invoke(app, ["portfolio", "classify"])
    assert "The API proposes nothing" in shown.output and "HAGB" in shown.output

    accepted = runner.invoke(app, ["portfolio", "classify", "--accept", "HAGB"])
    assert accepted.exit_code == 0 and "Proposal accepted: HAGB" in accepted.output
    assert api.get("/portfolio/classifications").json() == {"proposals": []}
