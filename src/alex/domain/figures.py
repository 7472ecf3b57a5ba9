"""Figures in prose, and whether a claim's figures are stated in the sentences it cites.

The researcher's key points cite page sentences; this module checks every number of a point
against them. It is a number checker: it reads "$1.2bn", "14.2 per cent", "$425 to $445
million" or "Q3" as values with units and compares values, never substrings.

Worked example. Claim: "Q3 revenue rose 14.2% to $1.2bn." Cited sentence: "Third-quarter
revenue increased 14.2 per cent to $1,200 million." The claim's figures are Q3 (period), 14.2
(%) and 1200000000 (USD); the sentence's are Q3 ("third quarter"), 14.2 ("per cent" is "%")
and 1200000000 (USD, "1,200 million"): all three match, nothing is unsupported. Had the
sentence said "$1.24 billion", 1200000000 would be unsupported: **no rounding is accepted**,
so a model that rounds a page's figure is flagged.

The rules:

* values are whole numbers as written, thousands separators dropped ("8,412.55" is 8412.55),
  scaled by k/thousand, m/mn/million, bn/b/billion, tn/trillion, lakh, crore; "7" is not
  "7.3", "1.2" is not "21.2". Signs and direction words are the sentence's business: "+14.2%",
  "-9.8%" (a hyphen or a unicode minus) and "down 9.8%" all hold the magnitude;
* units: "%" (also "per cent", "percent", "pct"), "pp" (percentage points), "pt" ("points"
  alone, which may be index points: it matches "pp" but not "%"), "bp" (basis points; 150 bp
  matches 1.5 pp), "x" (times), a currency code ("$" and "dollars" are "USD" but match any
  dollar, "¥" matches yen or yuan), "cent" and "GBX" (pence, matching 1/100 of a currency),
  "time" (minutes after midnight: "4:30 p.m." is "16:30"), "quarter"/"half" (periods: "Q3",
  "3Q", "third quarter" are all the quarter 3) and "month" (of a date), or "";
* a claim figure with no unit is supported by an equal value with any unit (a model may drop
  a unit); a claim figure with a unit needs an equal value with an agreeing unit or with no
  unit (a source's bare "1,200 million" supports "$1.2bn": the scale agrees). Periods, times
  and months only ever match their own kind: "Q3" is not the number 3;
* a range ("$425 to $445 million", "5-7%", "5% to 7%", "between 17.5 and 18.5") gives a figure
  for each end, the unit and scale written once carried to the other end;
* years ("2026", "FY26" is 2026) and days are plain figures; the month of a date is a "month"
  figure whether written as a name next to a day or year ("June 30", "30 June 2026") or as
  digits ("2026-06-30"); ordinals and number words in a claim ("third", "three") are not
  checked, while a source's number words ("three plants") support the claim's digits;
* identifiers are not figures: digits glued to letters ("A320neo", "X7", "5G", "787s"),
  capitalised codes ("COVID-19", "10-K") and index names ("S&P 500", "FTSE 100"). A wrong
  identifier is therefore not caught; treating them as figures would flag every model name.

What no number checker sees: a number that is in the sentence but belongs to another metric
("operating profit fell 9.8%" citing "segment sales fell 9.8%") is supported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

# Units that only ever match themselves: a period or a clock time is not a quantity.
_STRICT = frozenset({"quarter", "half", "time", "month"})
_POINTS = frozenset({"pp", "pt"})
_SYMBOL_FAMILIES = {
    "$": frozenset({"USD", "CAD", "AUD", "HKD", "SGD", "NZD", "TWD", "MXN"}),
    "¥": frozenset({"JPY", "CNY"}),
}
_CODES = (
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD", "CNY", "INR", "KRW",
    "SEK", "NOK", "DKK", "BRL", "MXN", "ZAR", "TWD", "PLN", "TRY",
)  # fmt: skip
_CURRENCIES = frozenset(_CODES)


@dataclass(frozen=True)
class Figure:
    text: str  # as written, e.g. "$1.2bn", "14.2%", "250 basis points"
    value: Decimal  # scaled magnitude: "$1.2bn" -> 1200000000, "14.2%" -> 14.2
    unit: str  # "%", "pp", "pt", "bp", "x", a currency code, "cent", "GBX", a strict unit, ""
    start: int
    end: int
    symbol: str = ""  # "$" or "¥" when a symbol several currencies share named the currency


@dataclass(frozen=True)
class _Raw:
    """A figure before ranges are resolved: the number as written and its power of ten."""

    start: int
    end: int
    number: Decimal
    exponent: int
    unit: str
    symbol: str
    scaled: bool  # a scale word was written (so it is not carried onto this end)

    def figure(self, text: str) -> Figure:
        value = abs(self.number).scaleb(self.exponent)
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
        return Figure(
            text[self.start : self.end], value, self.unit, self.start, self.end, self.symbol
        )


_SCALES = {
    "k": 3, "thousand": 3, "lakh": 5, "m": 6, "mn": 6, "mln": 6, "million": 6, "crore": 7,
    "b": 9, "bn": 9, "bln": 9, "billion": 9, "tn": 12, "trn": 12, "trillion": 12,
}  # fmt: skip
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_MONTHS = {
    name: number
    for number, names in enumerate(
        ("Jan January", "Feb February", "Mar March", "Apr April", "May", "Jun June",
         "Jul July", "Aug August", "Sep Sept September", "Oct October", "Nov November",
         "Dec December"),
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
}  # fmt: skip

# A number as written: 8,412.55 | 1200 | 3-3/4 (a fraction, as in Fed statements). Not the
# tail of a word ("A320") or of another number.
_NUMBER = re.compile(
    r"(?<!\w)(?<!\d[.,])(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<dec>\.\d+)?"
    r"(?:[- ](?P<num>[1-9])/(?P<den>[2-9]|1[0-6])(?!\d))?"
)
_WORD_NUMBER = re.compile(r"\b(?:a\s)?(" + "|".join(_WORDS) + r")\b", re.I)
_GLUED_SCALE = re.compile(r"(mln|bln|trn|mn|bn|tn|[kmbKMB])(?![A-Za-z])")
_WORD_SCALE = re.compile(
    r"[\s-]?(thousand|million|billion|trillion|lakh|crore|mln|bln|trn|mn|bn|tn)s?(?![A-Za-z])",
    re.I,
)
# (pattern, unit, symbol), tried in order right after the number and its scale.
_UNITS_AFTER: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p, re.I), unit, symbol)
    for p, unit, symbol in (
        (r"[\s-]?(?:percentage|per[\s-]?cent(?:age)?|pct\.?)[\s-]points?\b", "pp", ""),
        (r"[\s-]?(?:ppts?|pp|p\.p\.)(?![A-Za-z])", "pp", ""),
        (r"[\s-]?(?:basis[\s-]points?|bps|bp|bips)(?![A-Za-z])", "bp", ""),
        (r"\s?(?:%|per[\s-]?cent\b|percent\b|pct\b|pc\b)", "%", ""),
        (r"[\s-]?(?:points?|pts)\b", "pt", ""),
        (r"(?:x(?![A-Za-z])|\s?\u00d7|\s(?:times)\b)", "x", ""),
        (r"(?:\s?¢|[\s-]?cents?\b)", "cent", ""),
        (r"(?:p(?![A-Za-z]|\.\s?m\b)|\spence\b)", "GBX", ""),
        (r"\s(?:U\.?S\.?|American)\s?dollars?\b", "USD", ""),
        (r"\sCanadian\sdollars?\b", "CAD", ""),
        (r"\sAustralian\sdollars?\b", "AUD", ""),
        (r"\sHong\sKong\sdollars?\b", "HKD", ""),
        (r"\sSingapore\sdollars?\b", "SGD", ""),
        (r"\sNew\sZealand\sdollars?\b", "NZD", ""),
        (r"\sdollars?\b", "USD", "$"),
        (r"\seuros?\b", "EUR", ""),
        (r"\s(?:(?:British\s)?pounds?(?:\ssterling)?|sterling)\b", "GBP", ""),
        (r"\syen\b", "JPY", ""),
        (r"\s(?:yuan|renminbi)\b", "CNY", ""),
        (r"\s(?:Swiss\s)?francs?\b", "CHF", ""),
        (r"\s(?:Indian\s)?rupees?\b", "INR", ""),
        (r"\s(?:Swedish\s)?(?:kronor|krona)\b", "SEK", ""),
        (r"\sNorwegian\skroner?\b", "NOK", ""),
        (r"\sDanish\skroner?\b", "DKK", ""),
        (r"\s(?:Brazilian\s)?reais\b", "BRL", ""),
        (r"\s(?:Mexican\s)?pesos\b", "MXN", ""),
        (r"\s(?:South\sAfrican\s)?rand\b", "ZAR", ""),
    )
] + [(re.compile(r"\s?(" + "|".join(_CODES) + r")\b"), "", "")]  # unit: the code itself
# A currency written before the number (up to a sign): "US$", "C$", "€", "EUR ", "Rs ".
_PREFIX = re.compile(
    r"(?:(?P<dollar>US|U\.S\.|C|CA|CAN|A|AU|HK|S|SG|NZ|NT|MX|R)?\$|(?P<sym>[€£¥₹₩])"
    r"|\b(?P<code>" + "|".join(_CODES) + r"|RMB|Rs\.?|SFr\.?)\s?)\s?[+\-\u2212]?$"
)
_DOLLAR_PREFIX = {
    "US": "USD", "U.S.": "USD", "C": "CAD", "CA": "CAD", "CAN": "CAD", "A": "AUD", "AU": "AUD",
    "HK": "HKD", "S": "SGD", "SG": "SGD", "NZ": "NZD", "NT": "TWD", "MX": "MXN", "R": "BRL",
}  # fmt: skip
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "RMB": "CNY"}
_SYMBOLS |= {"Rs": "INR", "Rs.": "INR", "SFr": "CHF", "SFr.": "CHF"}

_TIME = re.compile(
    r"(?<![\w:.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?!\d)(?:\s?(?P<ap>[ap])\.?\s?m\b\.?)?"
    r"|(?<![\w:.,])(?P<h12>1[0-2]|0?[1-9])\s?(?P<ap12>[ap])(?:m|\.\s?m\.)(?![A-Za-z])",
    re.I,
)
_QUARTER = re.compile(
    r"\b(?:Q(?P<q>[1-4])|(?P<q2>[1-4])Q)(?:'?(?P<yy>\d{2})|(?P<yyyy>\d{4}))?\b"
    r"|\b(?P<qw>first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+quarter",
    re.I,
)
_HALF = re.compile(
    r"\b(?:H(?P<h>[12])|(?P<h2>[12])H)(?:'?(?P<yy>\d{2})|(?P<yyyy>\d{4}))?\b"
    r"|\b(?P<hw>first|second|1st|2nd)[\s-]+half",
    re.I,
)
_FISCAL = re.compile(r"\bFY\s?'?(?P<yy>\d{2}|\d{4})\b")
_ISO_DATE = re.compile(r"\b(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])-(?P<d>[0-3]\d)\b")
# A month in a date: capitalised (so the verb "may" is not one) and next to a day or a year.
_MONTH_NAME = re.compile(
    r"(?:(?<=\d\s)|(?<=\d(?:st|nd|rd|th)\s))(" + "|".join(_MONTHS) + r")\b\.?"
    r"|\b(" + "|".join(_MONTHS) + r")\b\.?(?=\s\d)"
)
# Names that contain digits and are not quantities.
_NAMES = re.compile(
    r"\b(?:S&P|FTSE|Nikkei|Stoxx|STOXX|Russell|DAX|MDAX|CAC|TSX|ASX|Nasdaq|NASDAQ|Nifty|KOSPI"
    r"|Topix|TOPIX|IBEX|AEX|SMI|Dow)\s?\d{1,4}(?![\d.,]\d)"
    r"|\b[A-Z]{1,6}-\d+\b|\b\d+-[A-Z]\b"
)
_ORDINAL_SUFFIX = re.compile(r"(?:st|nd|rd|th)\b")
_RANGE_JOIN = re.compile(r"\s*(?:-|\u2013|\u2014|to|and)\s*", re.I)
_BETWEEN = re.compile(r"between\s+\S{0,4}$", re.I)


def figures_in(text: str) -> list[Figure]:
    """Every figure of ``text``, in order (number words are not read: a claim's "three"
    needs no support)."""
    return _figures(text, source=False)


def matches(claim: Figure, source: Figure) -> bool:
    """Whether ``source`` states ``claim``: equal values (never rounded) with agreeing units."""
    if claim.unit in _STRICT or source.unit in _STRICT:
        return claim.unit == source.unit and claim.value == source.value
    if claim.value == source.value and _units_agree(claim, source):
        return True
    return _hundredths(claim, source) or _hundredths(source, claim)


def unsupported(claim_text: str, sources: Sequence[str]) -> list[Figure]:
    """The figures of ``claim_text`` that no figure in any of ``sources`` matches."""
    stated = [figure for source in sources for figure in _figures(source, source=True)]
    return [
        figure
        for figure in figures_in(claim_text)
        if not any(matches(figure, other) for other in stated)
    ]


# The number as written inside a figure's text: "171,235.92" of "$171,235.92", "0.17" of
# "0.17 million".
_MANTISSA = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<dec>\.\d+)?")


def written_step(figure: Figure, *, round_zeros: bool = False) -> Decimal | None:
    """The place value of the last digit ``figure`` was written with, in its value's terms:
    "$171k" -> 1000, "17.4%" -> 0.1, "0.17 million" -> 10000, "$171,236" -> 1, "7,062.00"
    -> 0.01. None when the text is no plain written quantity (a period, a clock time, a
    month, a fraction such as "3-3/4", "FY26").

    With ``round_zeros``, the trailing zeros of a whole number count as rounding, keeping at
    least two significant digits: "$170,000" -> 10000, "$200k" -> 10000, "2,000" -> 100,
    "60" -> 1. (How money is rounded in prose; a percentage's "10%" means 10.)
    """
    if figure.unit in _STRICT:
        return None
    match = _MANTISSA.search(figure.text)
    if match is None:
        return None
    digits = match.group("int").replace(",", "")
    mantissa = Decimal(digits + (match.group("dec") or ""))
    places = len(match.group("dec")) - 1 if match.group("dec") else 0
    scale = 0
    if mantissa != 0:
        ratio = figure.value / mantissa
        scale = ratio.adjusted()
        if ratio != Decimal(1).scaleb(scale):
            return None  # not the number and a power of ten: a fraction or a year code
    zeros = 0
    if round_zeros and not places and mantissa != 0:
        zeros = min(len(digits) - len(digits.rstrip("0")), max(0, len(digits) - 2))
    return Decimal(1).scaleb(scale - places + zeros)


def _units_agree(claim: Figure, source: Figure) -> bool:
    if not claim.unit or not source.unit or claim.unit == source.unit:
        return True
    if claim.unit in _POINTS and source.unit in _POINTS:
        return True
    return _in_family(claim, source) or _in_family(source, claim)


def _in_family(symbolic: Figure, other: Figure) -> bool:
    return other.unit in _SYMBOL_FAMILIES.get(symbolic.symbol, frozenset())


def _hundredths(small: Figure, large: Figure) -> bool:
    """150 bp is 1.5 pp; 15 cents is $0.15; 25p is £0.25."""
    if small.unit == "bp" and large.unit in _POINTS:
        return small.value == large.value * 100
    if small.unit == "cent" and large.unit in _CURRENCIES:
        return small.value == large.value * 100
    if small.unit == "GBX" and large.unit == "GBP":
        return small.value == large.value * 100
    return False


def _figures(text: str, *, source: bool) -> list[Figure]:
    taken: list[tuple[int, int]] = []
    special: list[Figure] = []
    for figure in _special(text):
        if not _overlaps(figure.start, figure.end, taken):
            taken.append((figure.start, figure.end))
            if figure.unit != "name":
                special.append(figure)
    raws = [
        raw for raw in _numbers(text, source=source) if not _overlaps(raw.start, raw.end, taken)
    ]
    plain = [raw.figure(text) for raw in _ranges(text, raws)]
    return sorted(special + plain, key=lambda figure: figure.start)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _special(text: str) -> Iterator[Figure]:
    """Figures that are not quantities (dates' parts, times, periods) and names to skip, in
    the order they win a span: names first, so "COVID-19" never yields 19."""
    for match in _NAMES.finditer(text):
        yield Figure(match.group(), Decimal(0), "name", match.start(), match.end())
    for match in _ISO_DATE.finditer(text):
        for group, unit in (("y", ""), ("m", "month"), ("d", "")):
            yield _part(match, group, unit)
    for match in _TIME.finditer(text):
        yield Figure(match.group(), _minutes(match), "time", match.start(), match.end())
    for pattern, unit in ((_QUARTER, "quarter"), (_HALF, "half")):
        for match in pattern.finditer(text):
            yield from _period(match, unit)
    for match in _FISCAL.finditer(text):
        yield Figure(match.group(), _year(match.group("yy")), "", match.start(), match.end())
    for match in _MONTH_NAME.finditer(text):
        month = Decimal(_MONTHS[match.group(1) or match.group(2)])
        yield Figure(match.group(), month, "month", match.start(), match.end())


def _part(match: re.Match[str], group: str, unit: str) -> Figure:
    return Figure(match.group(group), Decimal(int(match.group(group))), unit, *match.span(group))


def _minutes(match: re.Match[str]) -> Decimal:
    hour = int(match.group("h") or match.group("h12"))
    minute = int(match.group("m") or 0)
    half = (match.group("ap") or match.group("ap12") or "").casefold()
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return Decimal(hour * 60 + minute)


def _period(match: re.Match[str], unit: str) -> Iterator[Figure]:
    key = "q" if unit == "quarter" else "h"
    digit = match.group(key) or match.group(f"{key}2")
    number = int(digit) if digit else _ORDINALS[match.group(f"{key}w").casefold()]
    year = match.group("yy") or match.group("yyyy")
    end = match.start("yy") if match.group("yy") else match.start("yyyy")
    end = end if year else match.end()
    yield Figure(match.group()[: end - match.start()], Decimal(number), unit, match.start(), end)
    if year:
        span = match.span("yy") if match.group("yy") else match.span("yyyy")
        yield Figure(year, _year(year), "", *span)


def _year(digits: str) -> Decimal:
    year = int(digits)
    return Decimal(2000 + year if year < 100 else year)


def _numbers(text: str, *, source: bool) -> Iterator[_Raw]:
    for match in _NUMBER.finditer(text):
        number = Decimal(match.group("int").replace(",", "") + (match.group("dec") or ""))
        if match.group("num"):
            number += Decimal(int(match.group("num"))) / Decimal(int(match.group("den")))
        raw = _read_around(text, match.start(), match.end(), number)
        if raw is not None:
            yield raw
    if source:
        for match in _WORD_NUMBER.finditer(text):
            number = Decimal(_WORDS[match.group(1).casefold()])
            raw = _read_around(text, match.start(1), match.end(1), number)
            if raw is not None:
                yield raw


def _read_around(text: str, start: int, end: int, number: Decimal) -> _Raw | None:
    """The number with its currency before it and its scale and unit after it; None for an
    identifier (digits glued to letters that are no scale or unit: "5G", "787s")."""
    exponent, scaled = 0, False
    glued = _GLUED_SCALE.match(text, end)
    spaced = _WORD_SCALE.match(text, end)
    if glued or spaced:
        scale = glued or spaced
        assert scale is not None
        exponent, scaled, end = _SCALES[scale.group(1).casefold()], True, scale.end()
    unit, symbol = "", ""
    for pattern, name, shared in _UNITS_AFTER:
        found = pattern.match(text, end)
        if found:
            unit, symbol, end = name or found.group(1), shared, found.end()
            break
    else:
        ordinal = _ORDINAL_SUFFIX.match(text, end)
        if ordinal:
            end = ordinal.end()
        elif end < len(text) and text[end].isalpha():
            return None
    prefix = _PREFIX.search(text, max(0, start - 8), start)
    if prefix is not None and (not unit or unit in _CURRENCIES):
        unit, symbol = _currency(prefix)
        start = prefix.start()
    return _Raw(start, end, number, exponent, unit, symbol, scaled)


def _currency(prefix: re.Match[str]) -> tuple[str, str]:
    if prefix.group("code"):
        code = prefix.group("code")
        return _SYMBOLS.get(code, code), ""
    if prefix.group("sym"):
        sym = prefix.group("sym")
        return _SYMBOLS[sym], sym if sym in _SYMBOL_FAMILIES else ""
    dollar = prefix.group("dollar")
    return (_DOLLAR_PREFIX[dollar], "") if dollar else ("USD", "$")


def _ranges(text: str, raws: Iterator[_Raw] | list[_Raw]) -> list[_Raw]:
    """Carry the unit and the scale written at one end of a range to the other end."""
    out = sorted(raws, key=lambda raw: raw.start)
    for i in range(len(out) - 1):
        left, right = out[i], out[i + 1]
        join = _RANGE_JOIN.fullmatch(text, left.end, right.start)
        if join is None or not _is_range(text, left, right, join.group().strip().casefold()):
            continue
        out[i], out[i + 1] = _carry(left, right), _carry(right, left)
    return out


def _is_range(text: str, left: _Raw, right: _Raw, word: str) -> bool:
    if left.unit and right.unit and left.unit != right.unit:
        return False  # "up 12% to $2.4bn": two quantities, not the ends of one
    if word == "and":
        return _BETWEEN.search(text, 0, left.start) is not None
    if word == "to":
        # "rose 5% to 1,200 units" is a change, not a range: ends of a range are alike in size
        small, large = sorted((abs(left.number) or Decimal(1), abs(right.number) or Decimal(1)))
        return large / small <= 10
    return True


def _carry(end: _Raw, other: _Raw) -> _Raw:
    if not end.unit and other.unit:
        end = replace(end, unit=other.unit, symbol=other.symbol)
    if not end.scaled and other.scaled and not _looks_like_year(end):
        end = replace(end, exponent=other.exponent)
    return end


def _looks_like_year(raw: _Raw) -> bool:
    return raw.number == raw.number.to_integral_value() and 1900 <= raw.number <= 2100
