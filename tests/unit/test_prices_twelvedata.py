"""The Twelve Data price source at the HTTP boundary: no network.

``TwelveDataPrices`` runs for real (its httpx client, timeouts, retry loop, parsing); only the
socket is replaced by an ``httpx.MockTransport`` that records each request and answers from
``tests/fixtures/prices/twelvedata/``, each fixture naming the Twelve Data documentation its
shape follows (``_source_doc``, ``_retrieved``; the folder's README lists them).
"""

from __future__ import annotations

import json
from collections import deque
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from alex import retry
from alex.adapters.price_sources import price_source
from alex.adapters.stored_prices import StoredPrices
from alex.adapters.twelvedata_prices import MAX_ROWS, RateLimitedError, TwelveDataPrices
from alex.config import load_settings
from alex.domain.errors import (
    ConfigError,
    InvalidInputError,
    NotFoundError,
    SourceUnavailableError,
)
from alex.portfolio.model import FxRate
from tests.fakes import InMemoryPortfolioStore

FIXTURES = Path(__file__).parent.parent / "fixtures" / "prices" / "twelvedata"
KEY = "td-test-key-0123456789abcdef"
TODAY = date(2026, 12, 3)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    assert data["_source_doc"] and data["_retrieved"], f"{name} must name its sources"
    return data


class FakeTwelveData:
    """Answers queued in order; an unexpected request fails the test."""

    def __init__(self, *answers: str | httpx.Response | Exception) -> None:
        self.answers: deque[str | httpx.Response | Exception] = deque(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.url}")
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        served = fixture(answer)["response"]
        return httpx.Response(served["status"], json=served["body"])

    def params(self, index: int = 0) -> dict[str, str]:
        return dict(self.requests[index].url.params)


def source(fake: FakeTwelveData, sleeps: list[float] | None = None) -> TwelveDataPrices:
    return TwelveDataPrices(
        KEY,
        transport=httpx.MockTransport(fake),
        sleep=(sleeps if sleeps is not None else []).append,
        jitter=lambda: 1.0,  # the longest wait the policy allows, recorded, not slept
        today=lambda: TODAY,
    )


# Success ------------------------------------------------------------------------------------
def test_daily_closes_are_exact_decimals_in_the_listing_currency() -> None:
    fake = FakeTwelveData("time_series_voo.json")
    prices = source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))

    served = fixture("time_series_voo.json")["response"]["body"]["values"]
    assert [(p.date.isoformat(), p.close) for p in prices] == [
        (row["datetime"], Decimal(row["close"])) for row in served
    ]
    assert prices[0].close == Decimal("621.33002")  # the string's digits, not a float's
    assert {p.currency for p in prices} == {"USD"} and {p.symbol for p in prices} == {"VOO"}
    assert date(2026, 11, 26) not in {p.date for p in prices}  # Thanksgiving: absent, not filled


def test_request_asks_for_the_span_with_the_key_in_a_header() -> None:
    fake = FakeTwelveData("time_series_voo.json")
    source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))

    (request,) = fake.requests
    assert request.url.host == "api.twelvedata.com" and request.url.path == "/time_series"
    assert fake.params() == {
        "symbol": "VOO",
        "interval": "1day",
        "start_date": "2026-11-20",
        "end_date": "2026-11-28",  # end_date excludes its own day
        "order": "asc",
    }
    assert request.headers["authorization"] == f"apikey {KEY}"
    assert KEY not in str(request.url)  # never in a URL that could be logged
    assert request.extensions["timeout"] == {
        "connect": 5.0,
        "read": 10.0,
        "write": 10.0,
        "pool": 10.0,
    }


def test_rows_outside_the_span_are_dropped() -> None:
    fake = FakeTwelveData("time_series_voo.json")
    prices = source(fake).daily_closes("VOO", date(2026, 11, 23), date(2026, 11, 24))
    assert [p.date for p in prices] == [date(2026, 11, 23), date(2026, 11, 24)]


def test_fx_rates_read_a_pair_as_one_base_in_quote() -> None:
    fake = FakeTwelveData("time_series_eurusd.json")
    rates = source(fake).fx_rates("EUR", "USD", date(2026, 11, 23), date(2026, 11, 25))

    assert fake.params()["symbol"] == "EUR/USD"
    assert rates[0] == FxRate(date(2026, 11, 23), "EUR", "USD", Decimal("1.15820"))
    assert [r.rate for r in rates] == [Decimal("1.15820"), Decimal("1.15573"), Decimal("1.15877")]


def test_pence_are_stored_as_gbx() -> None:
    fake = FakeTwelveData("time_series_london_pence.json")
    (price,) = source(fake).daily_closes("ULVR", date(2026, 11, 24), date(2026, 11, 24))
    assert (price.close, price.currency) == (Decimal("4521.00000"), "GBX")


def test_no_data_on_the_dates_is_an_empty_span() -> None:
    fake = FakeTwelveData("error_400_no_data.json")
    assert source(fake).daily_closes("VOO", date(2026, 11, 21), date(2026, 11, 22)) == []


def test_json_numbers_are_parsed_as_decimals_too() -> None:
    body = {
        "meta": {"symbol": "VOO", "currency": "USD"},
        "values": [{"datetime": "2026-11-23", "close": 624.71}],
        "status": "ok",
    }
    fake = FakeTwelveData(httpx.Response(200, text=json.dumps(body)))
    (price,) = source(fake).daily_closes("VOO", date(2026, 11, 23), date(2026, 11, 23))
    assert price.close == Decimal("624.71")  # Decimal(624.71) would be 624.7100000000000363...


# Today and long spans -----------------------------------------------------------------------
def test_todays_bar_is_not_a_close_yet() -> None:
    fake = FakeTwelveData("time_series_voo.json")
    prices = TwelveDataPrices(
        KEY, transport=httpx.MockTransport(fake), today=lambda: date(2026, 11, 25)
    ).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 30))
    assert fake.params()["end_date"] == "2026-11-25"  # up to yesterday, the 24th
    assert max(p.date for p in prices) == date(2026, 11, 24)


def test_a_span_of_only_today_makes_no_request() -> None:
    fake = FakeTwelveData()  # any request fails the test
    assert source(fake).daily_closes("VOO", TODAY, date(2026, 12, 31)) == []
    assert fake.requests == []


def test_a_long_span_is_asked_for_in_windows_of_max_rows_days() -> None:
    fake = FakeTwelveData(*["error_400_no_data.json"] * 3)
    start = date(1994, 1, 1)
    source(fake).daily_closes("VOO", start, date(2026, 11, 30))  # 12,022 days

    windows = [(fake.params(i)["start_date"], fake.params(i)["end_date"]) for i in range(3)]
    assert windows == [
        # 5,000 days each; end_date excludes its day, so each window starts where the last
        # one's end_date points: no day asked twice, none skipped.
        ("1994-01-01", "2007-09-10"),
        ("2007-09-10", "2021-05-19"),
        ("2021-05-19", "2026-12-01"),
    ]
    assert date.fromisoformat("2007-09-10") - start == (MAX_ROWS * date.resolution)


# Errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("http_status", [401, 200])
def test_a_bad_key_is_a_config_error_naming_the_setting_never_the_key(http_status: int) -> None:
    # The body's code decides, whatever the HTTP status (as Twelve Data's own client reads it).
    body = fixture("error_401_bad_key.json")["response"]["body"]
    fake = FakeTwelveData(httpx.Response(http_status, json=body))
    with pytest.raises(ConfigError, match="ALEX_PRICES_API_KEY") as raised:
        source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))
    assert KEY not in raised.value.message
    assert len(fake.requests) == 1  # not retried


def test_an_unknown_symbol_is_not_found() -> None:
    fake = FakeTwelveData("error_404_unknown_symbol.json")
    with pytest.raises(NotFoundError, match="'NOPE'"):
        source(fake).daily_closes("NOPE", date(2026, 11, 20), date(2026, 11, 27))
    assert len(fake.requests) == 1


def test_the_minute_limit_is_retried_with_the_one_policy() -> None:
    fake = FakeTwelveData("error_429_minute.json", "time_series_voo.json")
    sleeps: list[float] = []
    prices = source(fake, sleeps).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))
    assert len(prices) == 5 and len(fake.requests) == 2
    assert sleeps == [retry.PRICES_REQUEST.delay(1, 1.0)]


def test_the_minute_limit_that_lasts_is_a_clear_retryable_error() -> None:
    attempts = retry.PRICES_REQUEST.attempts
    fake = FakeTwelveData(*["error_429_minute.json"] * attempts)
    with pytest.raises(RateLimitedError, match="Try again in a minute") as raised:
        source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))
    assert not raised.value.daily and isinstance(raised.value, SourceUnavailableError)
    assert len(fake.requests) == attempts


def test_the_days_credits_spent_is_not_retried() -> None:
    fake = FakeTwelveData("error_429_day.json")
    with pytest.raises(RateLimitedError, match="tomorrow") as raised:
        source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))
    assert raised.value.daily and len(fake.requests) == 1


def test_outages_and_timeouts_are_retried_then_reported() -> None:
    fake = FakeTwelveData(
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        httpx.ConnectTimeout("timed out"),
        "time_series_voo.json",
    )
    sleeps: list[float] = []
    assert len(source(fake, sleeps).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27)))
    assert len(sleeps) == 2

    down = FakeTwelveData(*[httpx.ReadTimeout("timed out")] * retry.PRICES_REQUEST.attempts)
    with pytest.raises(SourceUnavailableError, match="could not be reached"):
        source(down).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))


@pytest.mark.parametrize(
    ("close", "problem"), [("abc", "not a number"), ("0", "not a positive"), ("NaN", "positive")]
)
def test_a_bad_figure_names_its_row(close: str, problem: str) -> None:
    body = fixture("time_series_voo.json")["response"]["body"]
    body["values"][1]["close"] = close
    fake = FakeTwelveData(httpx.Response(200, json=body))
    with pytest.raises(SourceUnavailableError, match=problem) as raised:
        source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))
    assert "values[1].close" in raised.value.message


def test_an_answer_without_a_currency_is_refused() -> None:
    body = fixture("time_series_voo.json")["response"]["body"]
    del body["meta"]["currency"]
    fake = FakeTwelveData(httpx.Response(200, json=body))
    with pytest.raises(SourceUnavailableError, match="currency"):
        source(fake).daily_closes("VOO", date(2026, 11, 20), date(2026, 11, 27))


def test_bad_arguments_are_refused_before_any_request() -> None:
    fake = FakeTwelveData()
    prices = source(fake)
    with pytest.raises(InvalidInputError, match="after end"):
        prices.daily_closes("VOO", date(2026, 11, 27), date(2026, 11, 20))
    with pytest.raises(InvalidInputError, match="currency code"):
        prices.fx_rates("EURO", "USD", date(2026, 11, 20), date(2026, 11, 27))
    with pytest.raises(InvalidInputError, match="ticker"):
        prices.daily_closes(" VOO", date(2026, 11, 20), date(2026, 11, 27))
    assert fake.requests == []


# Settings -----------------------------------------------------------------------------------
def test_no_provider_by_default_reads_the_store(isolated_settings: Path) -> None:
    settings = load_settings()
    assert settings.prices_provider == "none" and settings.prices_api_key is None
    assert isinstance(price_source(settings, InMemoryPortfolioStore()), StoredPrices)


def test_a_provider_with_its_key_builds_the_adapter(isolated_settings: Path) -> None:
    isolated_settings.write_text(f"ALEX_PRICES_PROVIDER=twelvedata\nALEX_PRICES_API_KEY={KEY}\n")
    built = price_source(load_settings(), InMemoryPortfolioStore())
    assert isinstance(built, TwelveDataPrices) and built.name == "twelvedata"
    built.close()


def test_a_provider_without_a_key_is_refused_at_start(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_PRICES_PROVIDER=twelvedata\n")
    with pytest.raises(ConfigError, match="ALEX_PRICES_API_KEY must be set"):
        load_settings()


@pytest.mark.parametrize("value", ["your-api-key-here", "<twelve data key>", "changeme"])
def test_a_placeholder_key_is_refused(isolated_settings: Path, value: str) -> None:
    isolated_settings.write_text(f"ALEX_PRICES_PROVIDER=twelvedata\nALEX_PRICES_API_KEY={value}\n")
    with pytest.raises(ConfigError, match="ALEX_PRICES_API_KEY is still the placeholder"):
        load_settings()


def test_an_unknown_provider_is_refused(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_PRICES_PROVIDER=yahoo\n")
    with pytest.raises(ConfigError, match="ALEX_PRICES_PROVIDER"):
        load_settings()
