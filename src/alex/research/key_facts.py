"""Which sentences state the key facts of a financial topic: chosen by code, for small models.

Measured (docs/researcher.md): asked to pick the sentences that state a company's results,
outlook and the market's reaction, the embedded 0.5B and 1.5B models pick the same sentence
for every question, or copy the first sentences in page order and miss the guidance and the
share-price move. Financial news states those facts in a small vocabulary ("revenue",
"operating profit", "expects", "shares rose"), so the code finds them instead: for each kind
of fact, the sentence whose words name that kind, that holds a figure, that is about the
topic, and that comes early on a page about the topic (the lede states the news). The model
only rephrases what the code chose (:mod:`alex.research.phraser`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from alex.research.evidence import Sentence, content_words

_MOVE = (
    r"(?:rose|fell|jumped|slipped|gained|lost|climbed|dropped|surged|tumbled|rallied|edged|"
    r"slid|sank|soared|plunged|rebounded|advanced|declined|added|closed|traded|were up|"
    r"were down|was up|was down)"
)


@dataclass(frozen=True)
class Kind:
    name: str
    words: re.Pattern[str]
    needs_figure: bool = True


KINDS: tuple[Kind, ...] = (
    Kind(
        "result",
        re.compile(
            r"\b(?:revenues?|sales|(?<!staff )(?<!workforce )(?<!employee )turnover|bookings|"
            r"net interest income|"
            r"(?:deposit|policy|bank|interest|benchmark|cash) rates?)\b",
            re.I,
        ),
    ),
    Kind(
        "change",
        re.compile(
            r"\b(?:up|down|rose|fell|grew|growth|increased?|decreased?|declined?|higher|lower|"
            r"year[- ]on[- ]year|year over year|a year earlier|compared with)\b",
            re.I,
        ),
    ),
    Kind(
        "margin",
        re.compile(r"\bmargins?\b", re.I),
    ),
    Kind(
        "profit",
        re.compile(
            r"\b(?:operating (?:profit|income|loss)|net (?:income|profit|loss)|"
            r"pre-?tax profit|profit before tax|ebitda|ebit|earnings per share|eps|"
            r"(?:underlying|adjusted) (?:profit|earnings))\b",
            re.I,
        ),
    ),
    Kind(
        "outlook",
        re.compile(
            r"\b(?:guidance|outlook|expects?|expected|forecasts?|anticipates?|projects?|"
            r"now sees|targets?|full[- ]year)\b",
            re.I,
        ),
    ),
    Kind(
        "reaction",
        re.compile(
            rf"\b(?:shares?|stock|share price|index|equities|bonds?|yields?)\b[^.;]*\b{_MOVE}\b",
            re.I,
        ),
    ),
)
RISK = Kind(
    "risk",
    re.compile(
        r"\b(?:risks?|uncertain\w*|caution\w*|headwinds?|pressures?|threat\w*|volatil\w*|"
        r"concerns?|weak\w*|slowdown|(?-i:could|may|might))\b",
        re.I,
    ),
    needs_figure=False,
)
_KIND = {kind.name: kind for kind in KINDS}
_ACTUAL = frozenset({"result", "change", "margin", "profit"})
MAX_RISKS = 2
_BOILERPLATE = re.compile(
    r"forward-looking statements|not investment advice|safe harbou?r|differ materially", re.I
)
# Kinds that a sentence chosen for an earlier kind may already state ("revenue of $412.6
# million, up 14.2%"; "operating profit of $89.5 million, a margin of 21.7%").
_COVERED_BY_EARLIER = frozenset({"change", "margin"})
_PERCENT = re.compile(r"\d\s*(?:%|per ?cent|bps|basis points)", re.I)


@dataclass(frozen=True)
class KeyFact:
    kind: str
    sentence: Sentence


def _score(sentence: Sentence, kind: Kind, topic_words: set[str]) -> float:
    """How well ``sentence`` states a fact of ``kind`` about the topic (0: it does not)."""
    named = len(kind.words.findall(sentence.text))
    if not named or (kind.needs_figure and not sentence.has_figure):
        return 0.0
    if kind.name in {"change", "margin", "reaction"} and not _PERCENT.search(sentence.text):
        return 0.0  # measured in per cent: "shares rose" with no size is not the fact
    words = content_words(sentence.text)
    title_words = content_words(sentence.page.title or "")
    about = len(topic_words & words) / max(1, len(topic_words))
    if kind.name == "reaction" and not about:
        return 0.0  # another company's shares
    on_topic_page = len(topic_words & title_words) / max(1, len(topic_words))
    score = 1.0 + 0.25 * min(named, 3) + 2.0 * about + 0.5 * on_topic_page
    score += 0.5 * (1.0 - sentence.position)  # the lede first
    score -= 0.5 if sentence.from_table else 0.0  # a table row lacks its context
    # A result that states its change too ("revenue of $412.6 million, up 14.2%") says more.
    score += 0.3 if kind.name == "result" and _PERCENT.search(sentence.text) else 0.0
    # No final stop: a headline or a subtitle, which announces a fact the text then states.
    score -= 0.5 if not sentence.from_table and not sentence.text.endswith((".", '"')) else 0.0
    if _BOILERPLATE.search(sentence.text):
        return 0.0  # the legal small print names every risk and states none
    # What was (results) is not what is expected (outlook), and a sentence on how shares
    # moved is the market's reaction, whatever forecast it mentions as the cause.
    if kind.name in _ACTUAL and _KIND["outlook"].words.search(sentence.text):
        score -= 1.0
    if kind.name == "outlook" and _KIND["reaction"].words.search(sentence.text):
        score -= 1.0
    return max(score, 0.0)


def _assign(
    sentences: Sequence[Sentence], kinds: Sequence[Kind], topic_words: set[str]
) -> list[KeyFact]:
    """One sentence per kind, the strongest (kind, sentence) matches first: a sentence that
    plainly states the outlook is not spent on the profit it also names."""
    pairs = sorted(
        (
            (_score(sentence, kind, topic_words), order, kind, sentence)
            for order, kind in enumerate(kinds)
            for sentence in sentences
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    chosen: dict[str, Sentence] = {}
    used: set[int] = set()
    for score, _, kind, sentence in pairs:
        if score <= 0:
            break
        if kind.name in chosen or sentence.id in used:
            continue
        chosen[kind.name] = sentence
        used.add(sentence.id)
    return [KeyFact(kind.name, chosen[kind.name]) for kind in kinds if kind.name in chosen]


def key_facts(sentences: Sequence[Sentence], topic: str) -> list[KeyFact]:
    """The key facts, then the risks. A change or a margin that another chosen sentence
    already states ("revenue of $412.6 million, up 14.2%") is not looked for: the kinds are
    assigned again without it, so the sentence it took ("shares rose 3%") is free for the
    kind it states best."""
    topic_words = content_words(topic)
    kinds = list(KINDS)
    facts = _assign(sentences, kinds, topic_words)
    while True:
        covered = {
            fact.kind
            for fact in facts
            if fact.kind in _COVERED_BY_EARLIER
            and any(
                _score(other.sentence, _KIND[fact.kind], topic_words) > 0
                for other in facts
                if other is not fact and other.kind not in _COVERED_BY_EARLIER
            )
        }
        if not covered:
            break
        kinds = [kind for kind in kinds if kind.name not in covered]
        facts = _assign(sentences, kinds, topic_words)
    used = {fact.sentence.id for fact in facts}
    risks = sorted(
        (s for s in sentences if s.id not in used), key=lambda s: -_score(s, RISK, topic_words)
    )
    facts += [KeyFact(RISK.name, s) for s in risks[:MAX_RISKS] if _score(s, RISK, topic_words) > 0]
    return facts
