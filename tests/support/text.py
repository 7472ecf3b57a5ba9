"""Synthetic but realistic financial text, reproducible from a seed (fictional companies)."""

from __future__ import annotations

import random

_SYLLABLES = "ar bel cor dan el fen gor hal is jun kel lor mar nor os pel quin ros sol tor ul val wen xan yor zel".split()
_SUFFIXES = [
    "Holdings",
    "Semiconductors",
    "Bancorp",
    "Energy",
    "Therapeutics",
    "Software",
    "Foods",
    "Logistics",
    "Mining",
    "Insurance",
    "Airlines",
    "Retail Group",
    "Motors",
    "Telecom",
    "Realty Trust",
    "Biologics",
    "Materials",
    "Devices",
    "Pharma",
    "Shipping",
]
_PRODUCTS = [
    "accelerator",
    "credit line",
    "cereal brand",
    "wind farm",
    "trial drug",
    "cloud platform",
    "battery pack",
    "payments app",
    "copper mine",
    "LNG terminal",
    "insulin pump",
    "satellite network",
    "store format",
    "container fleet",
    "data centre",
    "EV platform",
]
_REASONS = [
    "higher input costs",
    "weaker consumer demand",
    "a stronger dollar",
    "freight delays",
    "lower commodity prices",
    "a supplier outage",
    "rising interest costs",
    "a product recall",
    "inventory destocking",
    "regulatory delays",
    "labour shortages",
    "an unusually warm winter",
]
_QUARTERS = ["first", "second", "third", "fourth"]
_TEMPLATES = [
    "{name} ({ticker}) reported {quarter}-quarter revenue of ${rev:.2f} billion, {direction} {growth:.1f}% "
    "from a year earlier, as demand for its {product} {trend}.",
    "Gross margin at {name} was {margin:.1f}%, and management guided to {guide:.1f}% next quarter, citing {reason}.",
    "Analysts said {ticker} trades at {pe:.1f} times forward earnings, {premium} its peers, because of "
    "expectations for the {product}.",
    "The board of {name} approved a dividend of ${div:.2f} per share and a ${buyback:.1f} billion buyback.",
    "Risks for {ticker} include customer concentration, currency swings and {reason}.",
    "{name} generated free cash flow of ${fcf:.2f} billion; net debt stands at {lev:.1f} times EBITDA.",
    "On the earnings call the chief executive of {name} said orders for the {product} extend into {year}.",
    "{name} cut its full-year outlook to ${low:.1f}-{high:.1f} billion in sales, blaming {reason}.",
    "Shares of {ticker} {moved} {pct:.1f}% on {weekday} after the company {event}.",
    "{name} agreed to buy a smaller rival for ${deal:.1f} billion in cash, its largest deal since {since}.",
    "Regulators in {region} opened a review of {name}'s {product}, which could delay launch to {year}.",
    "{name} will close {plants} plants and cut about {jobs:,} jobs to save ${save:.0f} million a year.",
    "The {product} from {name} won a contract worth ${contract:.0f} million from a {region} customer.",
    "{name}'s {segment} segment grew {growth:.1f}% while {segment2} shrank {shrink:.1f}%.",
    "Credit analysts rate {ticker}'s bonds {rating}; its {year} notes yield {yld:.2f}%.",
    "Inventories at {name} rose to {days} days of sales, up from {days2} a year ago, because of {reason}.",
    "Management of {ticker} expects capital spending of ${capex:.1f} billion in {year}, mostly on the {product}.",
    "{name} named a new chief financial officer, who joins from a {region} rival in {month}.",
]
_REGIONS = [
    "Europe",
    "Japan",
    "Brazil",
    "India",
    "Canada",
    "the Gulf",
    "Australia",
    "Korea",
    "Mexico",
]
_SEGMENTS = [
    "consumer",
    "industrial",
    "data-centre",
    "automotive",
    "retail banking",
    "wealth",
    "generic drugs",
    "services",
    "wholesale",
    "specialty",
]
_EVENTS = [
    "raised guidance",
    "missed estimates",
    "announced a recall",
    "won a patent case",
    "lost a key customer",
    "beat estimates",
    "delayed a product",
    "settled a lawsuit",
]
_MONTHS = ["January", "March", "April", "June", "September", "October", "November"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _company(rng: random.Random) -> tuple[str, str]:
    stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    ticker = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
    return f"{stem} {rng.choice(_SUFFIXES)}", ticker


def paragraph(rng: random.Random, words: int) -> str:
    """About ``words`` words of varied sentences about one fictional company."""
    name, ticker = _company(rng)
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        low = rng.uniform(1, 30)
        sentences.append(
            rng.choice(_TEMPLATES).format(
                name=name,
                ticker=ticker,
                product=rng.choice(_PRODUCTS),
                reason=rng.choice(_REASONS),
                quarter=rng.choice(_QUARTERS),
                rev=rng.uniform(0.2, 40),
                growth=rng.uniform(0.1, 35),
                direction=rng.choice(["up", "down"]),
                trend=rng.choice(["held up", "slowed", "surged"]),
                margin=rng.uniform(15, 80),
                guide=rng.uniform(15, 80),
                pe=rng.uniform(6, 70),
                premium=rng.choice(["a premium to", "a discount to", "in line with"]),
                div=rng.uniform(0.05, 4),
                buyback=rng.uniform(0.1, 25),
                fcf=rng.uniform(0.05, 12),
                lev=rng.uniform(0, 5),
                year=rng.randint(2026, 2031),
                low=low,
                high=low * 1.08,
                moved=rng.choice(["rose", "fell", "jumped", "slid"]),
                pct=rng.uniform(0.5, 25),
                weekday=rng.choice(_WEEKDAYS),
                event=rng.choice(_EVENTS),
                deal=rng.uniform(0.2, 30),
                since=rng.randint(1995, 2024),
                region=rng.choice(_REGIONS),
                plants=rng.randint(2, 12),
                jobs=rng.randint(200, 9000),
                save=rng.uniform(20, 900),
                contract=rng.uniform(15, 2500),
                segment=rng.choice(_SEGMENTS),
                segment2=rng.choice(_SEGMENTS),
                shrink=rng.uniform(0.5, 20),
                rating=rng.choice(["AA-", "A", "BBB+", "BBB-", "BB", "B+"]),
                yld=rng.uniform(3, 11),
                days=rng.randint(40, 160),
                days2=rng.randint(40, 160),
                capex=rng.uniform(0.1, 20),
                month=rng.choice(_MONTHS),
            )
        )
    return " ".join(sentences)


def documents(count: int, words: int, seed: int = 7) -> list[tuple[str, dict[str, object]]]:
    """``count`` (text, metadata) pairs of about ``words`` words each."""
    rng = random.Random(seed)
    return [(paragraph(rng, words), {"n": n}) for n in range(count)]
