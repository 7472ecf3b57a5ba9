"""Fuzzing the HTTP API: schemathesis from the OpenAPI document, hypothesis on ``POST /ingest``.

No answer may be a 5xx or hold a traceback, documented answers must match their schema,
and a rejected request (4xx) must store nothing (documents, or any portfolio record). The
portfolio routes run on the sample household, with fewer examples each (a projection is
~10,000 paths of numpy work). Deterministic (derandomized, no example
database) and offline: the app runs in process with the real model.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from alex.config import Settings, load_settings
from alex.domain.validation import METADATA_KEY, canonical_json
from alex.http.app import create_app
from alex.portfolio.files import FileKind
from alex.portfolio.model import Weights
from alex.services import Services

pytestmark = pytest.mark.timeout(120)

KEY = "fuzz-key-0123456789"
MAX_TEXT_CHARS = 400  # small limits, so generated bodies reach the 413 answers too
MAX_BODY_BYTES = 64 * 1024
HOUSEHOLD = (Path(__file__).resolve().parents[2] / "samples" / "portfolio").glob("*.csv")
PORTFOLIO_ROUTES = r"^/(portfolio|prices)"
SEED_TEXTS = [
    "Northwind Semiconductors (NWSC) raised guidance; gross margin reached 48.2%.",
    "Cedar Valley Bancorp (CVBK) keeps net debt at 1.4 times EBITDA and pays $0.42.",
    "Kestrel K9 orders extend into 2027, Halvorsen Microdevices (HVMD) said on the call.",
]


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    """One store for the module, with the session's model (conftest's ``services`` pattern)."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("ALEX_")]:
            patch.delenv(name)
        patch.setenv("ALEX_ENV_FILE", str(folder / ".env"))
        patch.setenv("ALEX_DATA_DIR", str(folder / "data"))
        patch.setenv("ALEX_MAX_TEXT_CHARS", str(MAX_TEXT_CHARS))
        patch.setenv("ALEX_MAX_BODY_BYTES", str(MAX_BODY_BYTES))
        built = Services(load_settings(), embedder=embedder)
    for number, text in enumerate(SEED_TEXTS):
        built.ingest.ingest(text, {"ticker": text.split("(")[1][:4], "n": number}, f"seed-{number}")
    built.portfolio.files.import_files([(p.name, p.read_text("utf-8")) for p in sorted(HOUSEHOLD)])
    # A proposal waiting, so the classification routes have one to find (proposing needs a
    # model: not a route).
    built.portfolio.classifications.propose(
        "HAGB",
        {"sector": Weights({"government": Decimal(100)})},
        confidence=Decimal("0.5"),
        reason="Seeded for the fuzzer.",
        model="seed",
    )
    yield built
    built.close()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_services: Services) -> FastAPI:
    return create_app(fuzz_services, KEY)


def portfolio_state(services: Services) -> tuple[object, ...]:
    """Every portfolio record a request could change."""
    store = services.portfolio.store
    prices = services.portfolio.files.export(kind=FileKind.PRICES).text
    return (
        store.list_accounts(),
        store.list_instruments(),
        store.list_transactions(),
        prices,
        store.targets(),
        store.get_settings(),
        store.list_proposals(),
    )


def _openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built without a store or a model (both are lazy)."""
    source: dict[str, Any] = {"_env_file": None, "ALEX_DATA_DIR": "unused"}
    return create_app(Services(Settings(**source)), KEY).openapi()


# Built at import, from the document alone: schemathesis' fixture-based loader
# (schemathesis.pytest.from_fixture) breaks on pytest 9.2 (it sets Function._nodeid). Each
# case is sent to the module's app with case.call(app=...). The /research routes are left
# out: a valid request runs a chat model and fetches the URLs it names (their validation is
# tested in test_research_api.py, with a scripted model and loopback pages). So is POST
# /analysis/jobs, which takes no body and runs the chat model (test_planner_doors.py);
# GET /analysis/jobs/{id} and /reports are fuzzed.
schema = (
    schemathesis.openapi.from_dict(
        _openapi_document(),
        config=schemathesis.Config.from_dict(
            {
                "seed": 20261125,
                "headers": {"x-api-key": KEY},
                "generation": {"max-examples": 100, "deterministic": True, "database": "none"},
                "phases": {"stateful": {"enabled": False}},
            }
        ),
    )
    .exclude(path_regex=r"^/research")
    .exclude(method="POST", path="/analysis/jobs")
)
documents_schema = schema.exclude(path_regex=PORTFOLIO_ROUTES)
portfolio_schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261203,
            "headers": {"x-api-key": KEY},
            "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
).include(path_regex=PORTFOLIO_ROUTES)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@documents_schema.parametrize()
@FUZZ_SETTINGS
def test_api_never_fails_and_rejected_requests_store_nothing(
    case: Any, fuzz_app: FastAPI, fuzz_services: Services
) -> None:
    before = fuzz_services.documents.count()
    response = case.call(app=fuzz_app, headers={"x-api-key": KEY})
    case.validate_response(response, checks=CHECKS)
    assert "Traceback" not in response.text
    if 400 <= response.status_code < 500:
        assert fuzz_services.documents.count() == before, "a rejected request stored something"
        assert "message" in response.json()


@portfolio_schema.parametrize()
@FUZZ_SETTINGS
def test_portfolio_routes_never_fail_and_rejected_requests_store_nothing(
    case: Any, fuzz_app: FastAPI, fuzz_services: Services
) -> None:
    body = case.body
    if case.path == "/portfolio/projection" and isinstance(body, dict):
        # Valid but slow sizes are cut (the time bound); invalid ones are kept as generated.
        if isinstance(body.get("paths"), int) and 10_000 <= body["paths"] <= 100_000:
            body["paths"] = 10_000
        if isinstance(body.get("years"), int) and 30 < body["years"] <= 100:
            body["years"] = 30
    before = portfolio_state(fuzz_services)
    response = case.call(app=fuzz_app, headers={"x-api-key": KEY})
    case.validate_response(response, checks=CHECKS)
    assert "Traceback" not in response.text
    if 400 <= response.status_code < 500:
        assert portfolio_state(fuzz_services) == before, "a rejected request stored something"
        assert "message" in response.json()


# POST /ingest with arbitrary JSON ---------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
texts = st.text(max_size=MAX_TEXT_CHARS + 40) | st.sampled_from(
    ["", "   ", "\x00", "\u200b", "Gross margin 48.2% at NWSC.", "x" * (MAX_TEXT_CHARS + 1)]
)
metadata_keys = st.from_regex(METADATA_KEY, fullmatch=True) | st.text(max_size=8)
metadata = st.dictionaries(
    metadata_keys, scalars | st.lists(scalars, max_size=3) | json_values, max_size=4
)
near_contract = st.fixed_dictionaries(
    {"text": st.one_of(texts, json_values)},
    optional={
        "metadata": st.one_of(metadata, json_values),
        "id": st.one_of(st.none(), st.text(max_size=20), json_values),
        "extra": json_values,
    },
)
words = st.lists(
    st.sampled_from(["NWSC", "margin", "48.2%", "guidance", "débit", "收入", "EBITDA", "$5.1bn"]),
    min_size=1,
    max_size=12,
).map(" ".join)
likely_valid = st.fixed_dictionaries(
    {"text": words | st.text(min_size=1, max_size=60)},
    optional={
        "metadata": st.dictionaries(
            st.from_regex(METADATA_KEY, fullmatch=True), scalars | st.lists(scalars, max_size=3)
        ),
        "id": st.none() | st.text(min_size=1, max_size=30),
    },
)
bodies = st.one_of(json_values, near_contract, likely_valid)


def _valid_text(value: str) -> bool:
    """Valid Unicode without NUL: no lone surrogates such as \\ud800."""
    return "\x00" not in value and not any(0xD800 <= ord(char) <= 0xDFFF for char in value)


def _scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63  # SQLite's integers
    return isinstance(value, str) and _valid_text(value)


def contract_accepts(body: object, services: Services) -> bool:
    """Whether ``POST /ingest`` must store ``body``: the README's contract, written out."""
    if not isinstance(body, dict) or "text" not in body or set(body) - {"text", "metadata", "id"}:
        return False
    text = body["text"]
    if not isinstance(text, str) or not text.strip() or not _valid_text(text):
        return False
    if len(text) > services.settings.max_text_chars:
        return False
    if not services.embedder.tokenizer.piece_offsets(text):  # nothing the model can read
        return False
    meta = body.get("metadata", {})
    if not isinstance(meta, dict) or len(meta) > 64:
        return False
    for key, value in meta.items():
        if not METADATA_KEY.match(key):
            return False
        items = value if isinstance(value, list) else [value]
        if len(items) > 256 or not all(_scalar(item) for item in items):
            return False
    if len(canonical_json(meta)) > 16_384:
        return False
    source_id = body.get("id")
    return source_id is None or (
        isinstance(source_id, str)
        and bool(source_id.strip())
        and len(source_id) <= 512
        and _valid_text(source_id)
    )


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:
        client.headers["x-api-key"] = KEY
        yield client


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(body=bodies)
def test_ingest_accepts_exactly_the_contract(
    fuzz_client: TestClient, fuzz_services: Services, body: object
) -> None:
    before = fuzz_services.documents.count()
    response = fuzz_client.post(
        "/ingest", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert "Traceback" not in response.text
    answer = response.json()
    event(f"answered {response.status_code}")  # shown by --hypothesis-show-statistics
    if contract_accepts(body, fuzz_services):
        assert response.status_code == 200, answer
        assert isinstance(body, dict)
        stored = fuzz_client.get(f"/documents/{answer['document_id']}")
        assert stored.status_code == 200 and stored.json()["text"] == body["text"]
        documents, _ = fuzz_services.documents.count()
        assert documents - before[0] in (0, 1)
    else:
        assert response.status_code in (400, 413, 422), answer
        assert isinstance(answer.get("message"), str) and answer["message"]
        assert fuzz_services.documents.count() == before, "a rejected body stored something"


def test_huge_offset_is_refused_with_422(fuzz_client: TestClient) -> None:
    response = fuzz_client.get("/documents", params={"offset": 2**63})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_huge_integer_filter_is_refused_with_422(fuzz_client: TestClient, mode: str) -> None:
    body = {"query": "margin", "mode": mode, "filters": {"n": 2**64}}
    response = fuzz_client.post("/search", json=body)
    assert response.status_code == 422, response.text


# Lone UTF-16 surrogates are valid JSON escapes but not encodable text.
SURROGATE_BODIES = {
    "ingest text": ("/ingest", r'{"text": "Margins \ud800 fell"}'),
    "ingest metadata": ("/ingest", r'{"text": "Margins fell", "metadata": {"k": "\udfff"}}'),
    "ingest id": ("/ingest", r'{"text": "Margins fell", "id": "\ud800"}'),
    "batch text": ("/ingest/batch", r'{"documents": [{"text": "Margins \ud800 fell"}]}'),
    "search keyword": ("/search", r'{"query": "margin \ud800", "mode": "keyword"}'),
    "search semantic": ("/search", r'{"query": "margin \ud800", "mode": "semantic"}'),
    "search filter": ("/search", r'{"query": "margin", "filters": {"k": "\ud800"}}'),
}


@pytest.mark.parametrize("case", sorted(SURROGATE_BODIES))
def test_lone_surrogates_are_refused_with_422(
    fuzz_client: TestClient, fuzz_services: Services, case: str
) -> None:
    path, raw = SURROGATE_BODIES[case]
    before = fuzz_services.documents.count()
    response = fuzz_client.post(path, content=raw, headers={"content-type": "application/json"})
    assert fuzz_services.documents.count() == before
    assert response.status_code in (400, 422), response.text


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_nul_in_query_is_refused_with_422(fuzz_client: TestClient, mode: str) -> None:
    response = fuzz_client.post("/search", json={"query": "margin\x00guidance", "mode": mode})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[1, 2", b'{"text": "a"', b"\xff\xfe", b"null", b"NaN", b'{"text": NaN}'],
)
def test_ingest_refuses_malformed_and_non_object_bodies(
    fuzz_client: TestClient, fuzz_services: Services, raw: bytes
) -> None:
    before = fuzz_services.documents.count()
    response = fuzz_client.post(
        "/ingest", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert "Traceback" not in response.text and response.json()["message"]
    assert fuzz_services.documents.count() == before
