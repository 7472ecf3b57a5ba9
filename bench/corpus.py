"""Synthetic but realistic financial text, reproducible from a seed."""

from __future__ import annotations

import random

COMPANIES = [
    ("Northwind Semiconductors", "NWSC"),
    ("Cedar Valley Bancorp", "CVBK"),
    ("Brightwater Pantry", "BWPC"),
    ("Solvik Renewable Power", "SLVK"),
    ("Aurelian Therapeutics", "AURX"),
    ("Lumenstack Software", "LMSK"),
    ("Halvorsen Microdevices", "HVMD"),
    ("Orvane Biologics", "ORVN"),
]
TEMPLATES = [
    "{name} ({ticker}) reported quarterly revenue of ${rev:.2f} billion, up {growth:.1f}% from a "
    "year earlier, as demand for its {product} line stayed strong.",
    "Gross margin at {name} was {margin:.1f}%, and management guided to {guide:.1f}% next quarter "
    "citing input costs and pricing.",
    "Analysts noted that {ticker} trades at {pe:.1f} times forward earnings, a premium to peers "
    "that reflects expectations for the {product} ramp.",
    "The board of {name} approved a dividend of ${div:.2f} per share and a buyback of "
    "${buyback:.1f} billion over two years.",
    "Risks for {ticker} include customer concentration, currency swings and a single supplier "
    "for its {product} components.",
    "Free cash flow reached ${fcf:.2f} billion while net debt fell to {lev:.1f} times EBITDA.",
    "In the call, the chief executive of {name} said inventories had normalised and that order "
    "books for {product} extend well into next year.",
]
PRODUCTS = [
    "NX-7 accelerator",
    "Harvest Line",
    "Morning Mill",
    "Tamarack Ridge",
    "AUR-214",
    "Beacon Relay",
    "Kestrel K9",
    "LUMEN-7",
]


def paragraph(rng: random.Random, words: int) -> str:
    name, ticker = rng.choice(COMPANIES)
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(
            rng.choice(TEMPLATES).format(
                name=name,
                ticker=ticker,
                product=rng.choice(PRODUCTS),
                rev=rng.uniform(0.5, 40),
                growth=rng.uniform(-10, 35),
                margin=rng.uniform(20, 75),
                guide=rng.uniform(20, 75),
                pe=rng.uniform(8, 60),
                div=rng.uniform(0.1, 3),
                buyback=rng.uniform(0.2, 20),
                fcf=rng.uniform(0.1, 9),
                lev=rng.uniform(0, 4),
            )
        )
    return " ".join(" ".join(sentences).split()[:words])


def documents(count: int, words: int, seed: int = 7) -> list[tuple[str, dict[str, object]]]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        text = paragraph(rng, words)
        out.append((f"Note {n}. {text}", {"n": n, "ticker": text.split("(")[-1][:4]}))
    return out
