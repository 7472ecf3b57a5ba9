"""Every number in a report must be a computed figure; suggested actions must not contradict
the figures. Pure: text and a :class:`~alex.planner.figures.FigureSet` in, a verdict out.

**Numbers** (:func:`check_text`). The text is read line by line (Markdown: a bullet, a
heading's hashes or a list number such as "1." is markup, not a figure) and each line
sentence by sentence (a table row is one unit). Every number in a sentence is read by the
researcher's reader (:func:`alex.domain.figures.figures_in`: values with units, "$171k" is
171000 USD, "17.4 per cent" is 17.4 %, signs and "down" are the sentence's business) and must
match a figure of the set, a number in a figure's label ("Income in 2024", "Value at age
65"), or a number in a cited note. A sentence with a number that matches nothing is removed
from the cleaned text and reported with that number.

A written number matches a figure when:

* the figure, rounded to the precision the number is written with, equals it (half up or
  half to even): "$171k", "$171,236", "0.17 million", "171,235.92 USD" all state 171,235.92
  USD; "17.4%", "17%" and "17.39%" state 17.3884...%. The figure as shown (already rounded)
  counts as well, so "2.5%" states a figure shown as "2.45%". Truncating is not rounding:
  "17.3%" does not state 17.39%;
* for money, trailing zeros of a whole number are rounding too, keeping two significant
  digits ("$170,000" and "$200k" are rounded; "$2,000" is to the hundred): percentages,
  ages, counts and years are exact in their written digits ("10%" is not 10.95%);
* the units agree: money needs its currency ("$" any dollar, "USD", "171,235.92 dollars") or
  no unit; a share or a drift takes "%" and percentage points alike ("pp", "points",
  "percentage points"; 250 bp is 2.5); a count, age, year or duration takes a bare number;
  a date's parts match as the reader reads them (year, month, day; "Q4" is the quarter of a
  date); a bare number agrees with any of these;
* magnitudes are compared: a drift of -12.61 pp is stated by "12.61 points below target"
  and by "-12.61 pp" alike (whether the direction is right is not checked here).

Not figures: number words ("three accounts", never read), ordinals 1st-9th (counting words
written in digits: "the 2nd largest"), list numbers, citation marks ("[2]": not "[55]%",
"$[999]" or "[999](url)", which show a number), and digits inside the set's names (instrument
and account names, symbols: "Europe 600 ETF"). Markdown's underscores do not hide a number
("_999_" is an emphasised 999).

A number in a cited note is matched as the researcher matches (no rounding, units agreeing:
:func:`alex.domain.figures.unsupported`).

Limits: a wrong number that happens to equal another figure (a 5.98% said of the wrong
account) passes; so does a right number said of the wrong thing. The more figures, the more
such chances: small integers (2, 3, 10) and round percentages are the likeliest.

**Actions** (:func:`check_actions`). Each suggested action is read for what it would raise
and what it would lower: after a reducing verb (reduce, sell, trim, cut, lower, decrease,
exit, take profits, spend, withdraw) the subjects it names are lowered, after a raising verb
(increase, buy, add, raise, boost, top up, build, accumulate, overweight, direct) raised;
after a moving verb (move, shift, switch, transfer, rebalance, reallocate, redirect, use,
deploy, invest, put, convert) the subject is the source until "to", "into", "in" or
"towards" names the destination. "from", "out of", "with" and "using" name a source. A
negation ("not", "don't", "avoid", "rather than", "instead of", "without", "no need to")
voids the verb after it; a clause ends at . ; : ! ? or at because, since, as, while, but,
which, given, although, so that. Subjects: the set's symbols and instrument names, a
capitalised 2-5 letter ticker (a symbol the set does not hold), the allocation's buckets
with a few plain names ("stocks" and "equities" for equity, "U.S." for north_america,
"tech" for technology), "cash", and "savings"/"emergency fund". The rules:

1. ``reduce-below-target``: lowering a bucket whose drift is below 0 (under its target);
2. ``increase-above-target``: raising a bucket whose drift is above 0 (over its target);
3. ``sell-not-held``: lowering a symbol the portfolio does not hold;
4. ``buy-over-limit``: raising a holding the single-holding rule found over its limit;
5. ``add-cash-despite-drag``: raising cash while the cash-drag rule fired;
6. ``spend-emergency-fund``: lowering savings while the emergency-fund rule fired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from alex.domain.figures import Figure as Written
from alex.domain.figures import figures_in, matches, unsupported, written_step
from alex.domain.sentences import BULLET, split_sentences
from alex.planner.figures import FigureSet, Unit

_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_CITATION = re.compile(r"\[\^?\d{1,3}\]")
_SMALL_ORDINAL = re.compile(r"[1-9](?:st|nd|rd|th)")
_HUNDREDTHS = frozenset({"bp", "cent", "GBX"})  # written in hundredths of the figure's unit

Kind = Literal["money", "share", "points", "plain", "month", "quarter", "half"]
_LABEL_KINDS: dict[str, Kind] = {
    "%": "share", "pp": "points", "month": "month", "quarter": "quarter", "half": "half"
}  # fmt: skip
_FIGURE_KINDS: dict[Unit, Kind] = {
    Unit.MONEY: "money", Unit.PERCENT: "share", Unit.POINTS: "points"
}  # fmt: skip


@dataclass(frozen=True)
class CheckedNumber:
    """A number read in a sentence and what it matched: a figure's key, ``label:<key>`` for
    a number in a figure's label, ``note`` for a cited note, or None."""

    text: str
    matched: str | None


@dataclass(frozen=True)
class SentenceCheck:
    text: str
    numbers: tuple[CheckedNumber, ...]

    @property
    def kept(self) -> bool:
        return all(number.matched is not None for number in self.numbers)

    @property
    def unmatched(self) -> tuple[str, ...]:
        return tuple(number.text for number in self.numbers if number.matched is None)


@dataclass(frozen=True)
class NumberCheck:
    """Each sentence checked, in order, and the text without the sentences removed."""

    sentences: tuple[SentenceCheck, ...]
    text: str

    @property
    def numbers(self) -> int:
        return sum(len(sentence.numbers) for sentence in self.sentences)

    @property
    def unmatched(self) -> int:
        """Numbers that matched nothing."""
        return sum(len(sentence.unmatched) for sentence in self.sentences)

    @property
    def removed(self) -> tuple[SentenceCheck, ...]:
        return tuple(sentence for sentence in self.sentences if not sentence.kept)


@dataclass(frozen=True)
class _Target:
    values: tuple[Decimal, ...]  # magnitudes: exact, then as shown
    kind: Kind
    currency: str
    key: str


def _targets(figures: FigureSet) -> list[_Target]:
    out: list[_Target] = []
    for figure in figures:
        if figure.unit is Unit.DATE:
            day = figure.shown
            assert not isinstance(day, Decimal)
            out += [
                _Target((Decimal(day.year),), "plain", "", figure.key),
                _Target((Decimal(day.day),), "plain", "", figure.key),
                _Target((Decimal(day.month),), "month", "", figure.key),
                _Target((Decimal((day.month - 1) // 3 + 1),), "quarter", "", figure.key),
                _Target((Decimal((day.month - 1) // 6 + 1),), "half", "", figure.key),
            ]
            continue
        shown = figure.shown
        assert isinstance(shown, Decimal)
        values = tuple(dict.fromkeys((abs(figure.number), abs(shown))))
        kind = _FIGURE_KINDS.get(figure.unit, "plain")
        out.append(_Target(values, kind, figure.currency, figure.key))
    for figure in figures:
        for number in figures_in(figure.label):
            label_kind = _LABEL_KINDS.get(number.unit, "plain")
            out.append(_Target((number.value,), label_kind, "", f"label:{figure.key}"))
    return out


def _rounded(value: Decimal, step: Decimal | None) -> set[Decimal]:
    if step is None:
        return {value}
    try:
        return {value.quantize(step, rounding=mode) for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN)}
    except InvalidOperation:
        return {value}


def _agrees(number: Written, target: _Target) -> bool:
    if target.kind == "plain":
        if number.unit:
            return False
        units: tuple[str, ...] = ("",)
    elif target.kind == "share":
        units = ("%",)  # a share is never written in points (a difference's unit)
    elif target.kind == "points":
        units = ("%", "pp")  # a drift is written either way
    elif target.kind == "money":
        units = (target.currency,)
    else:
        units = (target.kind,)
    step = written_step(number, round_zeros=target.kind == "money")
    if target.kind in ("share", "points") and not number.unit and (step is None or step >= 1):
        return False  # a bare whole number is a count, an age or a year, not a rounded share
    if step is not None and number.unit in _HUNDREDTHS:
        step = step / 100
    for value in target.values:
        for rounded in _rounded(value, step):
            for unit in units:
                if matches(number, Written("", rounded, unit, 0, 0)):
                    return True
    return False


def _is_citation(text: str, mark: re.Match[str]) -> bool:
    """Whether ``[n]`` is a citation mark, not a number in brackets: no link after it
    ("[999](url)" shows 999), no unit on either side ("[55]%", "$[999]", "USD [999]")."""
    after = text[mark.end() :]
    if after.lstrip().startswith(("(", "[")):
        return False
    digits = mark.group().strip("[]^")
    before = text[: mark.start()][-8:] + digits
    read = [n for n in figures_in(digits + after[:24]) if n.start == 0]
    read += [n for n in figures_in(before) if n.end == len(before)]
    return not any(number.unit for number in read)


def _mask(text: str, names: Sequence[str]) -> str:
    """Names with digits and citation marks blanked, Markdown's underscores (``_999_`` is an
    emphasised 999) made spaces: same length, offsets stay."""
    for name in names:
        text = re.sub(re.escape(name), lambda m: " " * len(m.group()), text, flags=re.I)
    text = text.replace("_", " ")
    return _CITATION.sub(
        lambda m: " " * len(m.group()) if _is_citation(text, m) else m.group(), text
    )


class _Checker:
    def __init__(self, figures: FigureSet, notes: Sequence[str]) -> None:
        self.targets = _targets(figures)
        self.names = [name for name in figures.names if any(c.isdigit() for c in name)]
        self.notes = list(notes)

    def sentence(self, text: str) -> SentenceCheck:
        masked = _mask(text, self.names)
        numbers = [n for n in figures_in(masked) if not _SMALL_ORDINAL.fullmatch(n.text)]
        in_notes: set[tuple[int, int]] = set()
        if self.notes and numbers:
            missing = {(f.start, f.end) for f in unsupported(masked, self.notes)}
            in_notes = {(n.start, n.end) for n in numbers} - missing
        checked = []
        for number in numbers:
            key = next((t.key for t in self.targets if _agrees(number, t)), None)
            if key is None and (number.start, number.end) in in_notes:
                key = "note"
            checked.append(CheckedNumber(text[number.start : number.end], key))
        return SentenceCheck(text, tuple(checked))


def _marks(line: str) -> int:
    """Where a line's markup ends: "## 1. Summary" -> after "1. "."""
    end = 0
    while (found := BULLET.match(line[end:])) is not None and found.end() > 0:
        end += found.end()
    return end


def check_text(text: str, figures: FigureSet, notes: Sequence[str] = ()) -> NumberCheck:
    """Every sentence of ``text`` (Markdown) checked against ``figures`` and the cited
    ``notes``; the text returned keeps only the sentences whose numbers all matched (a line
    left empty goes, runs of blank lines shrink to one)."""
    checker = _Checker(figures, notes)
    checks: list[SentenceCheck] = []
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|") and not _TABLE_RULE.match(stripped):
            row = checker.sentence(stripped)
            checks.append(row)
            if row.kept:
                lines.append(line)
            continue
        start = _marks(line)
        sentences = [checker.sentence(s) for s in split_sentences(line[start:])]
        checks += sentences
        kept = [s.text for s in sentences if s.kept]
        if kept or not sentences:
            lines.append(line[:start] + " ".join(kept) if sentences else line)
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return NumberCheck(tuple(checks), cleaned)


# --- Actions -------------------------------------------------------------------------------

Rule = Literal[
    "reduce-below-target",
    "increase-above-target",
    "sell-not-held",
    "buy-over-limit",
    "add-cash-despite-drag",
    "spend-emergency-fund",
]


@dataclass(frozen=True)
class Contradiction:
    """An action that goes against the figures: which rule, about what, and the figure."""

    action: str
    rule: Rule
    subject: str  # a bucket, a symbol, "cash" or "savings"
    reason: str
    key: str | None = None  # the figure it contradicts


_REDUCE = (
    r"reduc\w*|sell\w*|sold|trim\w*|cut\w*|lower\w*|decreas\w*|exit\w*|tak\w* profits?|"
    r"spend\w*|withdraw\w*|draw\w* down|underweight\w*"
)
_RAISE = (
    r"increas\w*|buy\w*|bought|add\w*|rais\w*|boost\w*|top\w* up|build\w*|accumulat\w*|"
    r"overweight\w*|direct\w*|hold more|keep more|to fund|to finance"
)
_MOVE = (
    r"mov\w*|shift\w*|switch\w*|transfer\w*|rebalanc\w*|reallocat\w*|redirect\w*|us(?:e|ed|ing)|"
    r"deploy\w*|invest\w*|put\w*|convert\w*"
)
_CUES = re.compile(
    rf"\b(?:(?P<negate>not|don't|do not|avoid\w*|rather than|instead of|without|no need to)"
    rf"|(?P<reduce>{_REDUCE})|(?P<raise>{_RAISE})|(?P<move>{_MOVE})"
    r"|(?P<source>from|out of|with|using)|(?P<destination>into|towards?|to|in)"
    r"|(?P<end>because|since|as|while|but|which|given|although|so that))\b"
    r"|(?P<stop>[.;:!?](?:\s|$))",
    re.I,
)
_TICKER = re.compile(r"\b[A-Z]{2,5}\b")
_NOT_TICKERS = frozenset(
    {
        "ETF", "ETFS", "IRA", "ISA", "SIPP", "REIT", "US", "USA", "UK", "EU", "CD", "FX", "YTD",
        "ROI", "AI", "OK", "IT", "CEO", "IPO", "GDP", "ESG", "NAV", "TER", "FEE", "AND", "THE",
    }
)  # fmt: skip
# Plain names of common buckets, as patterns ("US" in capitals only: "let us" is no region).
_PLAIN_NAMES = {
    "equity": (r"equities", r"stocks?", r"shares"),
    "bond": (r"fixed income",),
    "north_america": (r"(?-i:US|U\.S\.)", r"american", r"north american"),
    "europe": (r"european",),
    "asia_pacific": (r"asia", r"asian", r"asia-pacific", r"pacific"),
    "technology": (r"tech",),
    "health_care": (r"healthcare",),
    "emerging_markets": (r"emerging",),
}
_CURRENCY_DIMENSION = "currency"
_ACCOUNT_DIMENSION = "account"


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    kind: Literal["symbol", "ticker", "bucket", "savings"]
    name: str


def _bucket_pattern(bucket: str) -> str:
    words = [re.escape(word) for word in bucket.split("_")]
    plain = r"[\s_-]".join(words) + r"(?:s|es)?"
    return "|".join([plain, *_PLAIN_NAMES.get(bucket, ())])


def _mentions(text: str, figures: FigureSet) -> list[_Mention]:
    found: list[_Mention] = []
    names = {name.casefold(): symbol for symbol, name in figures.instruments.items() if name}
    for name, symbol in sorted(names.items(), key=lambda item: -len(item[0])):
        for match in re.finditer(re.escape(name), text, re.I):
            found.append(_Mention(match.start(), match.end(), "symbol", symbol))
    for match in _TICKER.finditer(text):
        word = match.group()
        if word in figures.instruments or word in figures.holdings:
            found.append(_Mention(match.start(), match.end(), "symbol", word))
        elif word not in _NOT_TICKERS and word not in figures.buckets.get(_CURRENCY_DIMENSION, ()):
            found.append(_Mention(match.start(), match.end(), "ticker", word))
    # Accounts are not spoken of as buckets ("savings" is the emergency fund's word).
    buckets = {
        bucket
        for dimension, names_ in figures.buckets.items()
        if dimension != _ACCOUNT_DIMENSION
        for bucket in names_
    }
    for bucket in sorted(buckets - {"unknown"}):
        flags = 0 if bucket.isupper() else re.I  # a currency code is written in capitals
        for match in re.finditer(rf"(?<![\w-])(?:{_bucket_pattern(bucket)})(?![\w-])", text, flags):
            found.append(_Mention(match.start(), match.end(), "bucket", bucket))
    for match in re.finditer(r"\b(?:savings|emergency fund)\b", text, re.I):
        found.append(_Mention(match.start(), match.end(), "savings", "savings"))
    # One mention per span: the longest (an instrument's name over the words inside it).
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[_Mention] = []
    for mention in found:
        if kept and mention.start < kept[-1].end:
            continue
        # "European stocks", "US bonds": the second word is the first's noun, not a subject
        # of its own (buying European stocks with the proceeds of other stocks adds none).
        before = kept[-1] if kept else None
        if (
            before is not None
            and before.kind == mention.kind == "bucket"
            and not text[before.end : mention.start].strip()
        ):
            continue
        kept.append(mention)
    return kept


def _directions(text: str, mentions: Sequence[_Mention]) -> list[tuple[str, _Mention]]:
    """("reduce" | "raise", mention) for each mention an un-negated verb governs."""
    # A cue inside a mention is part of a name ("U.S." ends no sentence, a "Buy-Write
    # Fund" buys nothing).
    events: list[tuple[int, str, _Mention | None]] = [
        (match.start(), match.lastgroup or "", None)
        for match in _CUES.finditer(text)
        if not any(m.start <= match.start() < m.end for m in mentions)
    ]
    events += [(mention.start, "mention", mention) for mention in mentions]
    events.sort(key=lambda event: (event[0], event[1] == "mention"))
    direction: str | None = None
    moving = negated = False
    out: list[tuple[str, _Mention]] = []
    for _, cue, mention in events:
        if cue in ("end", "stop"):
            direction, moving, negated = None, False, False
        elif cue == "negate":
            negated = True
        elif cue in ("reduce", "raise", "move"):
            direction = None if negated else ("reduce" if cue != "raise" else "raise")
            moving, negated = cue == "move", False
        elif cue == "source" and direction is not None:
            direction = "reduce"
        elif cue == "destination" and direction is not None and moving:
            direction = "raise"
        elif mention is not None and direction is not None:
            out.append((direction, mention))
    return out


def _against(
    action: str, direction: str, mention: _Mention, figures: FigureSet
) -> Iterable[Contradiction]:
    name = mention.name
    if mention.kind in ("symbol", "ticker"):
        if direction == "reduce" and name not in figures.holdings:
            yield Contradiction(action, "sell-not-held", name, f"{name} is not held")
        if direction == "raise" and name in figures.over_limit:
            key = f"xray.single_holding.share.{name}"
            share = figures[key].text
            yield Contradiction(
                action, "buy-over-limit", name, f"{name} is {share}, over the limit", key
            )
        return
    if mention.kind == "savings":
        if direction == "reduce" and "emergency_fund" in figures.fired:
            key = "xray.emergency_fund.months"
            months = figures[key].text
            yield Contradiction(
                action, "spend-emergency-fund", name, f"savings cover only {months}", key
            )
        return
    if name == "cash" and direction == "raise" and "cash_drag" in figures.fired:
        key = "xray.cash_drag.share"
        yield Contradiction(
            action, "add-cash-despite-drag", name, f"cash is {figures[key].text}, over the limit",
            key,
        )  # fmt: skip
    for dimension, buckets in figures.buckets.items():
        drift = figures.drift(dimension, name) if name in buckets else None
        if drift is None or drift == 0:
            continue
        key = f"drift.{dimension}.{name}"
        if direction == "reduce" and drift < 0:
            reason = f"{name} is {figures[key].text} from its {dimension} target (below it)"
            yield Contradiction(action, "reduce-below-target", name, reason, key)
        elif direction == "raise" and drift > 0:
            reason = f"{name} is {figures[key].text} from its {dimension} target (above it)"
            yield Contradiction(action, "increase-above-target", name, reason, key)


def check_actions(actions: Sequence[str], figures: FigureSet) -> list[Contradiction]:
    """The contradictions of each action (module docstring: rules 1-6), in order, once each."""
    out: dict[tuple[str, str, str], Contradiction] = {}
    for action in actions:
        for direction, mention in _directions(action, _mentions(action, figures)):
            for contradiction in _against(action, direction, mention, figures):
                out.setdefault((action, contradiction.rule, contradiction.subject), contradiction)
    return list(out.values())
