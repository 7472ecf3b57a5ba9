"""The PriceSource port on Twelve Data's REST API (https://twelvedata.com/docs#time-series).

Why Twelve Data (docs/portfolio.md, "Prices from the internet (optional)"): a free Basic plan
without a card, one documented endpoint for listings and currency pairs alike, the listing's
currency in every answer, and errors as a JSON body with a numeric ``code``.

One request per span of at most :data:`MAX_ROWS` days::

    GET https://api.twelvedata.com/time_series?symbol=VOO&interval=1day
        &start_date=2026-09-01&end_date=2026-09-17&order=asc
    Authorization: apikey <ALEX_PRICES_API_KEY>

    -> {"meta": {"symbol": "VOO", "currency": "USD", ...},
        "values": [{"datetime": "2026-09-15", "close": "696.20001", ...}, ...],
        "status": "ok"}
    -> {"code": 429, "message": "You have run out of API credits for the current minute...",
        "status": "error"}

The key travels in the documented ``Authorization`` header, not in the URL, so it is never in
a log line or an error message. ``end_date`` excludes its own day (Twelve Data's support
article "Getting historical data": ``end_date=2020-05-06`` ends on 5 May), so the day after
the span's end is sent. A bar dated today (UTC) or later is dropped: while a market is open
its "close" is the last trade, not a close. Figures are parsed as exact ``Decimal`` from the
strings (and any JSON numbers) of the answer.

Errors: the body's ``code`` decides (the official client reads it the same way, whatever the
HTTP status): 401 (bad key) and 403 (not in the plan) are ConfigError; 404, or a 400 about
the symbol, is NotFoundError; 400 "No data is available on the specified dates" is an empty
span; 429 is :class:`RateLimitedError`, retried with ``alex.retry.PRICES_REQUEST`` when it is
the per-minute limit and raised at once when the day's credits are spent; 5xx answers,
timeouts and dropped connections are retried, then SourceUnavailableError.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from alex import retry
from alex.adapters.stored_prices import check_pair, check_span
from alex.domain.errors import (
    ConfigError,
    InvalidInputError,
    NotFoundError,
    SourceUnavailableError,
)
from alex.domain.validation import shortened
from alex.portfolio.model import FxRate, Price, is_currency
from alex.retry import Backoff

__all__ = ["BASE_URL", "MAX_ROWS", "RateLimitedError", "TwelveDataPrices"]

BASE_URL = "https://api.twelvedata.com"
# Most rows one answer holds ("A maximum of 5,000 data points can be retrieved in a single
# request", support article "Getting historical data"). A window of this many calendar days
# holds at most this many daily rows, whatever the market's calendar.
MAX_ROWS = 5000
# Twelve Data quotes London listings in pence ("GBp") and Johannesburg ones in cents ("ZAc");
# Alex spells these minor units as the codes its valuation converts (GBX: 100 per GBP).
_MINOR_UNITS = {"GBp": "GBX", "ZAc": "ZAC"}
_NO_DATA = "no data is available"
_KEYS_PAGE = "https://twelvedata.com/account/api-keys"


class RateLimitedError(SourceUnavailableError):
    """The provider refused for now: its requests per minute, or per day, are used up.

    Asking again later succeeds; ``daily`` says whether "later" means tomorrow.
    """

    def __init__(self, message: str, *, daily: bool) -> None:
        super().__init__(message)
        self.daily = daily


class _Unreachable(SourceUnavailableError):
    """A 5xx answer or a connection that failed or timed out: worth another attempt."""


def _retryable(error: Exception) -> bool:
    if isinstance(error, RateLimitedError):
        return not error.daily
    return isinstance(error, _Unreachable)


def _utc_today() -> date:
    return datetime.now(UTC).date()


class TwelveDataPrices:
    """Daily closes and FX rates from Twelve Data; one HTTP client per instance."""

    name = "twelvedata"

    def __init__(
        self,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        base_url: str = BASE_URL,
        timeout_s: float = 10.0,
        backoff: Backoff = retry.PRICES_REQUEST,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        if not api_key.strip():
            raise ConfigError("ALEX_PRICES_API_KEY is empty: set the key Twelve Data gave you")
        self._client = httpx.Client(
            base_url=base_url,
            # A connect that takes 5 s will not succeed; a year of rows arrives well within 10.
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            transport=transport,
            headers={"Authorization": f"apikey {api_key}", "Accept": "application/json"},
        )
        self._backoff = backoff
        self._sleep = sleep
        self._jitter = jitter
        self._today = today

    def close(self) -> None:
        self._client.close()

    # The port ---------------------------------------------------------------------------
    def daily_closes(self, symbol: str, start: date, end: date) -> list[Price]:
        check_span(start, end)
        if not symbol or symbol != symbol.strip() or len(symbol) > 64:
            raise InvalidInputError(f"symbol {shortened(symbol, 64)!r} is not a ticker")
        by_day: dict[date, Price] = {}
        for meta, rows in self._series(symbol, start, end):
            currency = _currency(meta, symbol) if rows else ""
            for day, close in rows:
                by_day[day] = Price(symbol=symbol, date=day, close=close, currency=currency)
        return [by_day[day] for day in sorted(by_day)]

    def fx_rates(self, base: str, quote: str, start: date, end: date) -> list[FxRate]:
        check_span(start, end)
        check_pair(base, quote)
        by_day: dict[date, FxRate] = {}
        for _, rows in self._series(f"{base}/{quote}", start, end):
            for day, rate in rows:
                by_day[day] = FxRate(date=day, base=base, quote=quote, rate=rate)
        return [by_day[day] for day in sorted(by_day)]

    # Requests ---------------------------------------------------------------------------
    def _series(
        self, symbol: str, start: date, end: date
    ) -> Iterator[tuple[dict[str, Any], list[tuple[date, Decimal]]]]:
        """(meta, rows) per window of the span up to yesterday (UTC); no request when the
        span holds no finished day."""
        last = min(end, self._today() - timedelta(days=1))
        window_start = start
        while window_start <= last:
            window_end = min(last, window_start + timedelta(days=MAX_ROWS - 1))
            body = self._get(
                {
                    "symbol": symbol,
                    "interval": "1day",
                    "start_date": window_start.isoformat(),
                    "end_date": (window_end + timedelta(days=1)).isoformat(),
                    "order": "asc",
                }
            )
            if body is not None:
                meta = body.get("meta")
                rows = [
                    (day, value)
                    for day, value in _rows(body, symbol)
                    if window_start <= day <= window_end
                ]
                yield (meta if isinstance(meta, dict) else {}), rows
            window_start = window_end + timedelta(days=1)

    def _get(self, params: dict[str, str]) -> dict[str, Any] | None:
        """The answer's JSON object, or None for "no data on these dates"; errors mapped."""

        def attempt() -> dict[str, Any] | None:
            try:
                response = self._client.get("/time_series", params=params)
            except httpx.TransportError as error:  # timeouts, refused or dropped connections
                raise _Unreachable(
                    f"Twelve Data could not be reached ({type(error).__name__}: {error})"
                ) from error
            return _answer(response, params["symbol"])

        return retry.call(
            attempt, self._backoff, _retryable, sleep=self._sleep, jitter=self._jitter
        )


# Answers ----------------------------------------------------------------------------------
def _answer(response: httpx.Response, symbol: str) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if isinstance(body, dict) and body.get("status") == "error":
        code = body.get("code")
        status = (
            code if isinstance(code, int) and not isinstance(code, bool) else response.status_code
        )
        message = shortened(str(body.get("message", "")), 300)
    elif response.is_success:
        if not isinstance(body, dict):
            raise SourceUnavailableError(
                f"Twelve Data answered {symbol!r} with something that is not a JSON object: "
                f"{shortened(response.text, 80)!r}"
            )
        return body
    else:
        status, message = response.status_code, shortened(response.text, 300)
    if status == 400 and message.lower().startswith(_NO_DATA):
        return None
    raise _error(status, message, symbol)


def _error(status: int, message: str, symbol: str) -> Exception:
    if status == 401:
        return ConfigError(
            f"Twelve Data refused ALEX_PRICES_API_KEY (401: {message}). Check the key at "
            f"{_KEYS_PAGE}, or set ALEX_PRICES_PROVIDER=none to use only imported prices."
        )
    if status == 403:
        return ConfigError(
            f"Twelve Data's plan for ALEX_PRICES_API_KEY does not include this (403: {message})"
        )
    if status == 404 or (status == 400 and "symbol" in message.lower()):
        return NotFoundError(
            f"Twelve Data has no daily prices for {symbol!r} on this plan ({status}: {message}). "
            "Check the ticker (Twelve Data's, e.g. VOO, or EUR/USD for a rate) or import its "
            "prices instead."
        )
    if status == 429:
        daily = "for the day" in message.lower()
        when = "tomorrow" if daily else "in a minute"
        return RateLimitedError(
            f"Twelve Data's request limit is reached (429: {message}). Try again {when}.",
            daily=daily,
        )
    if status >= 500:
        return _Unreachable(f"Twelve Data failed ({status}: {message})")
    return SourceUnavailableError(
        f"Twelve Data refused the request for {symbol!r} ({status}: {message})"
    )


def _rows(body: dict[str, Any], symbol: str) -> list[tuple[date, Decimal]]:
    values = body.get("values")
    if not isinstance(values, list):
        raise SourceUnavailableError(f"Twelve Data's answer for {symbol!r} has no 'values' list")
    rows: list[tuple[date, Decimal]] = []
    for index, row in enumerate(values):
        where = f"Twelve Data's answer for {symbol!r}, values[{index}]"
        if not isinstance(row, dict):
            raise SourceUnavailableError(f"{where} is not an object")
        rows.append((_day(row.get("datetime"), where), _positive(row.get("close"), where)))
    return rows


def _day(value: Any, where: str) -> date:
    # Daily bars are dated "2026-09-16"; a time part, if any, is midnight of that day.
    try:
        return date.fromisoformat(str(value).split(" ", 1)[0])
    except ValueError:
        raise SourceUnavailableError(f"{where}.datetime {value!r} is not a date") from None


def _positive(value: Any, where: str) -> Decimal:
    # Strings ("332.695") as documented; JSON numbers arrive as Decimal or int, never float.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise SourceUnavailableError(f"{where}.close {value!r} is not a number")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise SourceUnavailableError(f"{where}.close {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise SourceUnavailableError(f"{where}.close {value!r} is not a positive price")
    return number


def _currency(meta: dict[str, Any], symbol: str) -> str:
    raw = meta.get("currency")
    code = _MINOR_UNITS.get(raw, raw) if isinstance(raw, str) else None
    if code is None or not is_currency(code):
        raise SourceUnavailableError(
            f"Twelve Data's answer for {symbol!r} names no currency code (meta.currency {raw!r})"
        )
    return code
