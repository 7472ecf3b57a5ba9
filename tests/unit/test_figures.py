"""The figure checker: figures are read as values with units and compared whole, never as
substrings; ranges, scales, signs, periods, times and identifiers follow the module's rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex.domain.figures import Figure, figures_in, matches, unsupported


def read(text: str) -> list[tuple[str, str, str]]:
    return [(f.text, str(f.value), f.unit) for f in figures_in(text)]


def flagged(claim: str, *sources: str) -> list[str]:
    return [f.text for f in unsupported(claim, list(sources))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("issued in 7.", [("7", "7", "")]),
        ("8,412.55", [("8,412.55", "8412.55", "")]),
        ("$1.2bn", [("$1.2bn", "1200000000", "USD")]),
        ("$1.2 billion", [("$1.2 billion", "1200000000", "USD")]),
        ("1,200 million", [("1,200 million", "1200000000", "")]),
        ("a $1.2-billion deal", [("$1.2-billion", "1200000000", "USD")]),
        ("$50k", [("$50k", "50000", "USD")]),
        ("$1.3tn", [("$1.3tn", "1300000000000", "USD")]),
        ("Rs 500 crore", [("Rs 500 crore", "5000000000", "INR")]),
        ("EUR 425 million", [("EUR 425 million", "425000000", "EUR")]),
        ("84.5 billion yen", [("84.5 billion yen", "84500000000", "JPY")]),
        ("US$3.2bn", [("US$3.2bn", "3200000000", "USD")]),
        ("C$2.1 billion", [("C$2.1 billion", "2100000000", "CAD")]),
        ("£212m", [("£212m", "212000000", "GBP")]),
        ("14.2 per cent", [("14.2 per cent", "14.2", "%")]),
        ("3.4 percent", [("3.4 percent", "3.4", "%")]),
        ("+14.2%", [("14.2%", "14.2", "%")]),
        ("\u22129.8%", [("9.8%", "9.8", "%")]),
        ("1.5 percentage points", [("1.5 percentage points", "1.5", "pp")]),
        ("0.5pp", [("0.5pp", "0.5", "pp")]),
        ("250 basis points", [("250 basis points", "250", "bp")]),
        ("a 25-basis-point cut", [("25-basis-point", "25", "bp")]),
        ("25bps", [("25bps", "25", "bp")]),
        ("up 30 points", [("30 points", "30", "pt")]),
        ("2.5x", [("2.5x", "2.5", "x")]),
        ("18.4 times earnings", [("18.4 times", "18.4", "x")]),
        ("15 cents", [("15 cents", "15", "cent")]),
        ("25p", [("25p", "25", "GBX")]),
        ("4:30 p.m.", [("4:30 p.m.", "990", "time")]),
        ("16:30", [("16:30", "990", "time")]),
        ("4 p.m.", [("4 p.m.", "960", "time")]),
        ("Q3", [("Q3", "3", "quarter")]),
        ("3Q26", [("3Q", "3", "quarter"), ("26", "2026", "")]),
        ("Q4 2026", [("Q4", "4", "quarter"), ("2026", "2026", "")]),
        ("third-quarter", [("third-quarter", "3", "quarter")]),
        ("H1", [("H1", "1", "half")]),
        ("the first half", [("first half", "1", "half")]),
        ("FY26", [("FY26", "2026", "")]),
        ("September 30th", [("September", "9", "month"), ("30th", "30", "")]),
        ("on 30 Sept. 2026", [("30", "30", ""), ("Sept.", "9", "month"), ("2026", "2026", "")]),
        ("sales rose in June", []),
        ("it may 5 times", [("5 times", "5", "x")]),
        ("2026-06-12", [("2026", "2026", ""), ("06", "6", "month"), ("12", "12", "")]),
    ],
)
def test_a_figure_is_read_with_its_scale_and_unit(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    "text",
    ["the X7 model", "an A320neo", "5G modems", "Boeing 787s", "the 1990s", "COVID-19",
     "its Form 10-K", "the S&P 500", "the FTSE 100", "the third straight year", "three plants"],
)  # fmt: skip
def test_identifiers_names_and_number_words_are_not_figures(text: str) -> None:
    assert figures_in(text) == []


def test_an_identifier_code_made_of_digits_alone_is_a_plain_figure() -> None:
    assert read("CUSIP 123456") == [("123456", "123456", "")]


def test_spans_point_into_the_text() -> None:
    text = "Revenue rose 14.2% to $1.2bn in Q3."
    assert [text[f.start : f.end] for f in figures_in(text)] == ["14.2%", "$1.2bn", "Q3"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$425 million to $445 million", [("425000000", "USD"), ("445000000", "USD")]),
        ("$425 to $445 million", [("425000000", "USD"), ("445000000", "USD")]),
        ("$425-445 million", [("425000000", "USD"), ("445000000", "USD")]),
        ("€1.8-2.0bn", [("1800000000", "EUR"), ("2000000000", "EUR")]),
        ("5-7%", [("5", "%"), ("7", "%")]),
        ("5%\u20137%", [("5", "%"), ("7", "%")]),
        ("between 2 and 2.5 per cent", [("2", "%"), ("2.5", "%")]),
        ("between 17.5 and 18.5", [("17.5", ""), ("18.5", "")]),
        ("3-3/4 to 4 percent", [("3.75", "%"), ("4", "%")]),
    ],
)
def test_each_end_of_a_range_is_a_figure_with_the_unit_and_scale_written_once(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(str(f.value), f.unit) for f in figures_in(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rose 12% to $2.4 billion", [("12", "%"), ("2400000000", "USD")]),
        ("rose 5% to 1,200 units", [("5", "%"), ("1200", "")]),
        ("2 and 5 million", [("2", ""), ("5000000", "")]),  # "and" joins a range after "between"
        ("from 2025 to 3 billion", [("2025", ""), ("3000000000", "")]),
    ],
)
def test_two_quantities_side_by_side_are_not_a_range(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(str(f.value), f.unit) for f in figures_in(text)] == expected


@pytest.mark.parametrize(
    ("claim", "sentence", "unsupported_figures"),
    [
        # whole numbers, never substrings
        ("The notes were issued in 7.", "The notes were issued at 7.3% in 2026.", ["7"]),
        ("Leverage was 1.2.", "Net debt stood at 21.2 billion kronor.", ["1.2"]),
        ("The charge was $41.", "The charge was $412.6 million.", ["$41"]),
        ("Index at 8,412.55.", "The index closed at 8412.55.", []),
        ("Index at 8412.55.", "The index closed at 8,412.55.", []),
        ("Revenue was 7.30.", "Revenue was 7.3.", []),
        # scale words, with or without a space, and no rounding
        ("Revenue was $1.2bn.", "Revenue was $1.2 billion.", []),
        ("Revenue was $1.2bn.", "Revenue was $1,200 million.", []),
        ("Revenue was $1.2 billion.", "Revenue was $1.2bn.", []),
        ("Revenue was $1.2bn.", "Revenue was $1.24 billion.", ["$1.2bn"]),
        ("Cash was $4.5bn.", "Cash was $4.5 million.", ["$4.5bn"]),
        ("Cash was $700 million.", "Cash stood at $0.7bn.", []),
        ("Margin was 14%.", "Margin was 14.2%.", ["14%"]),
        # units
        ("Sales rose 14.2%.", "Sales rose 14.2 per cent.", []),
        ("Sales rose 14.2 percent.", "Sales rose 14.2%.", []),
        ("Margin rose 1.5%.", "Margin rose 1.5 percentage points.", ["1.5%"]),
        ("Margin rose 1.5 percentage points.", "Margin rose 150 basis points.", []),
        ("Margin rose 1.5 pp.", "Margin rose 1.5 points.", []),
        ("Rates were cut 25 bp.", "Rates were cut by 25 basis points.", []),
        ("It paid $450 million.", "It paid £450 million.", ["$450 million"]),
        ("It paid €120 million.", "It paid 120 million dollars.", ["€120 million"]),
        ("Revenue was €3.2 billion.", "Revenue was EUR 3.2 billion.", []),
        ("The deal was $2.1 billion.", "The deal was C$2.1 billion.", []),
        ("The deal was US$2.1 billion.", "The deal was C$2.1 billion.", ["US$2.1 billion"]),
        ("Profit was ¥84.5 billion.", "Profit was 84.5 billion yen.", []),
        ("The dividend is 15 cents.", "The dividend is $0.15.", []),
        ("The dividend is 25p.", "The dividend is 25 pence.", []),
        ("It trades at 18.4 times earnings.", "It trades at 18.4x earnings.", []),
        # a claim without a unit: any unit; a claim with a unit: a source without one will do
        ("The yield rose to 4.62.", "The yield rose to 4.62%.", []),
        ("Revenue was 1.2 billion.", "Revenue was $1.2bn.", []),
        ("Revenue was $1.2bn.", "Revenue was 1,200 million.", []),
        ("Revenue was $1.2bn.", "Revenue was 1.2.", ["$1.2bn"]),
        # ranges
        ("Guidance is $425 million to $445 million.", "It expects $425 to $445 million.", []),
        (
            "Guidance is $425-445 million.",
            "It expects $425 million to $455 million.",
            ["445 million"],
        ),
        ("Margin of 5-7%.", "Margin of 5%\u20137%.", []),
        ("Between 17.5 and 18.5.", "Between 17.5 and 18.5 percent.", []),
        ("A payout ratio of 60%.", "A payout ratio of 50% to 60%.", []),
        # signs and directions
        ("Sales fell 9.8%.", "Sales changed by \u22129.8%.", []),
        ("Sales fell -9.8%.", "Sales were down 9.8%.", []),
        ("Shares rose 6.5%.", "Shares jumped +6.5%.", []),
        # dates, times, years
        ("Payable on December 15, 2026.", "Paid on 15 December 2026.", []),
        ("Results on October 28.", "Results on October 23.", ["28"]),
        ("The offer runs until June 30.", "The offer ends on July 30, 2026.", ["June"]),
        ("The merger closed on September 30.", "It closed on 30 September after approval.", []),
        ("The call is at 4:30 p.m.", "The call is at 16:30 ET.", []),
        ("The call is at 4 p.m.", "The call is at 4:30 p.m.", ["4 p.m."]),
        ("The plant opens in 2027.", "The plant opens in 2028.", ["2027"]),
        ("Trading began on 2026-06-12.", "Trading began on June 12, 2026.", []),
        ("Trading began on 2026-07-12.", "Trading began on June 12, 2026.", ["07"]),
        # periods: "Q3" and "third quarter" are one period, never the number 3
        ("Q3 revenue rose 12%.", "Third-quarter revenue rose 12%.", []),
        ("In the third quarter, EBITDA was $310m.", "Q3 EBITDA was $310 million.", []),
        ("Q3 revenue rose 12%.", "Second-quarter revenue rose 12%.", ["Q3"]),
        ("Q3 sales were 3 million.", "Sales were 3 million.", ["Q3"]),
        ("Sales were 3 million.", "Q3 sales were 3.1 million.", ["3 million"]),
        ("H2 sales fell 3%.", "Second-half sales fell 3%.", []),
        ("FY2026 revenue is $8.2bn.", "For fiscal 2026 revenue is $8.2 billion.", []),
        ("FY26 sales were ¥2.1tn.", "Sales in fiscal 2025 were 2.1 trillion yen.", ["FY26"]),
        ("3Q26 income was $15.1bn.", "Third-quarter 2026 income was $15.1 billion.", []),
        # number words: a source's words support digits; a claim's words need no support
        ("It has 3 plants.", "It operates three plants.", []),
        ("For the third straight year, sales rose.", "Sales rose again.", []),
        # identifiers and names
        ("Airbus delivered 62 A320neo jets.", "Airbus delivered 62 jets.", []),
        ("The S&P 500 fell 1.2%.", "The benchmark index fell 1.2%.", []),
        ("COVID-19 charges were $120m.", "Pandemic charges were $120 million.", []),
        ("Boeing delivered 44 jets.", "Boeing delivered 40 737 jets and 4 787s.", ["44"]),
    ],
)
def test_unsupported_lists_the_claim_figures_the_sentence_does_not_state(
    claim: str, sentence: str, unsupported_figures: list[str]
) -> None:
    assert flagged(claim, sentence) == unsupported_figures


def test_a_number_attached_to_the_wrong_metric_is_still_supported() -> None:
    # The checker checks numbers, not which metric a number belongs to.
    claim = "Operating profit fell 9.8%."
    sentence = "Operating profit rose 2.1%, while sales in the Americas fell 9.8%."
    assert flagged(claim, sentence) == []


def test_a_figure_may_be_stated_in_any_cited_sentence() -> None:
    claim = "Revenue rose 14.2% to $1.2bn in Q3."
    sentences = ["Revenue was $1.2 billion.", "Third-quarter sales grew 14.2%."]
    assert flagged(claim, *sentences) == []
    assert flagged(claim, sentences[0]) == ["14.2%", "Q3"]
    assert flagged(claim) == ["14.2%", "$1.2bn", "Q3"]


def figure(value: str, unit: str = "", symbol: str = "") -> Figure:
    return Figure(value, Decimal(value), unit, 0, len(value), symbol)


@pytest.mark.parametrize(
    ("claim", "source", "expected"),
    [
        (figure("7"), figure("7.0", "%"), True),
        (figure("7", "%"), figure("7"), True),
        (figure("7", "%"), figure("7", "pp"), False),
        (figure("7", "pp"), figure("7", "pt"), True),
        (figure("150", "bp"), figure("1.5", "pp"), True),
        (figure("1.5", "pp"), figure("150", "bp"), True),
        (figure("150", "bp"), figure("1.5", "%"), False),
        (figure("3", "quarter"), figure("3"), False),
        (figure("3"), figure("3", "quarter"), False),
        (figure("3", "quarter"), figure("3", "quarter"), True),
        (figure("2", "USD", "$"), figure("2", "AUD"), True),
        (figure("2", "AUD"), figure("2", "USD", "$"), True),
        (figure("2", "USD"), figure("2", "AUD"), False),
        (figure("2", "EUR"), figure("2", "USD", "$"), False),
        (figure("2", "JPY", "¥"), figure("2", "CNY"), True),
        (figure("15", "cent"), figure("0.15", "EUR"), True),
        (figure("25", "GBX"), figure("0.25", "GBP"), True),
        (figure("25", "GBX"), figure("0.25", "USD"), False),
    ],
)
def test_matches_needs_equal_values_and_agreeing_units(
    claim: Figure, source: Figure, expected: bool
) -> None:
    assert matches(claim, source) is expected


@given(
    whole=st.integers(min_value=1, max_value=999_999),
    cents=st.integers(min_value=0, max_value=99),
    digit=st.integers(min_value=1, max_value=9),  # 0 would write the same value: 01.50, 1.500
)
def test_a_number_is_never_supported_by_a_longer_number_that_contains_it(
    whole: int, cents: int, digit: int
) -> None:
    number = f"{whole}.{cents:02d}"
    for longer in (f"{digit}{number}", f"{number}{digit}", f"{whole}{digit}.{cents:02d}"):
        assert flagged(f"It was {number}.", f"It was {longer} in total.") == [number]
    assert flagged(f"It was {number}.", f"It was {whole:,}.{cents:02d} in total.") == []


@given(thousands=st.integers(min_value=1, max_value=99_999))
def test_one_amount_in_two_scales_is_one_figure(thousands: int) -> None:
    millions = Decimal(thousands) / 1000
    assert flagged(f"It cost ${millions} billion.", f"It cost ${thousands:,} million.") == []
    assert flagged(f"It cost ${thousands:,} million.", f"It cost ${millions}bn.") == []
