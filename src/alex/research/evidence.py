"""Pages as numbered sentences: the only thing a key point may cite.

The code, not the model, decides what the model sees. Each page's text is split into blocks
(the lines :func:`alex.html_text.html_page_text` writes) and sentences; table rows become
sentences that name their columns; bullets and heading marks are dropped. Passages written
to an AI (:mod:`alex.research.injection`) are set aside: they are never shown and never
support a figure. What is left is numbered across the run (``[1]``, ``[2]``, ...) so that
a point can cite the sentences it used, and the code can check every figure of the point
against exactly those sentences (:mod:`alex.research.checks`).

A small model's prompt is short, so when the pages hold more than the budget the code keeps
the sentences most likely to matter: those with figures, those about risks, those sharing
words with the topic; then shows them in page order.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from alex.domain.sentences import split_sentences, without_bullet
from alex.research.fetch import Page
from alex.research.injection import instruction_like, instruction_passages
from alex.research.sources import attribute, fence

_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_TABLE_SCALE = re.compile(r"\bin (?:thousands|millions|billions)\b[^)]*", re.I)
_FIGURE = re.compile(r"\d")
_RISK = re.compile(
    r"\b(risks?|uncertain\w*|caution\w*|warn\w*|headwinds?|pressure\w*|declin\w*|weak\w*|"
    r"slow\w*|fell|fall\w*|los[st]\w*|disrupt\w*|threat\w*|volatil\w*|concern\w*|could|may)\b",
    re.I,
)
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
        "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "this", "to",
        "was", "were", "with", "what", "which", "who", "why", "how", "after", "over", "about",
    }
)  # fmt: skip
# A heading: a short block without a sentence's final punctuation.
_MAX_HEADING_WORDS = 14


@dataclass(frozen=True)
class Sentence:
    """One numbered sentence of a page, as shown to the model and cited by points."""

    id: int
    page: Page
    text: str
    has_figure: bool
    from_table: bool = False
    position: float = 0.0  # where on its page: 0 first, 1 last (the lede states the news)


@dataclass(frozen=True)
class PageEvidence:
    """What one page offers: its sentences, its headings and the passages set aside."""

    page: Page
    sentences: tuple[Sentence, ...]
    headings: tuple[str, ...]
    withheld: tuple[str, ...]  # instruction-like passages: never shown, never support


def content_words(text: str) -> set[str]:
    """Lower-case words less stopwords; "Keldan's" is "keldan"."""
    text = _POSSESSIVE.sub("", text.lower())
    return {word for word in _WORD.findall(text) if word not in _STOPWORDS}


def _is_heading(block: str) -> bool:
    words = block.split()
    return 0 < len(words) <= _MAX_HEADING_WORDS and not block.rstrip().endswith((".", "!", "?"))


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table_sentences(rows: Sequence[str]) -> list[str]:
    """Rows of a Markdown-like table as sentences: "Revenue: Q3 2026 $412.6; Q3 2025 $361.3".

    A row with one filled cell is a caption; its scale ("in millions") is kept in brackets
    after each row it describes, since the cells' figures mean nothing without it.
    """
    caption, header, sentences = "", list[str](), []
    for row in rows:
        if _TABLE_RULE.match(row):
            continue
        cells = _cells(row)
        filled = [cell for cell in cells if cell]
        if len(filled) <= 1:
            scale = _TABLE_SCALE.search(filled[0]) if filled else None
            caption = scale.group(0) if scale else caption
        elif not header:
            header = cells
        else:
            named = [
                f"{name} {value}".strip() if name else value
                for name, value in zip(header[1:], cells[1:], strict=False)
                if value
            ]
            sentence = f"{cells[0]}: {'; '.join(named)}"
            sentences.append(f"{sentence} ({caption})" if caption else sentence)
    return sentences


def _blocks(text: str) -> Iterable[tuple[str, bool]]:
    """(block, is_table_sentence) in order: table rows grouped and turned into sentences."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    index = 0
    while index < len(lines):
        if lines[index].startswith("|"):
            end = index
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            for sentence in _table_sentences(lines[index:end]):
                yield sentence, True
            index = end
        else:
            yield without_bullet(lines[index]), False
            index += 1


@dataclass
class Evidence:
    """The numbered sentences of every page a run read (a fetch tool may add pages)."""

    budget_chars: int
    pages: list[PageEvidence] = field(default_factory=list)
    _next_id: int = 1
    _shown: dict[int, Sentence] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: Page) -> PageEvidence:
        """Split ``page`` into numbered sentences (once per page)."""
        with self._lock:
            for known in self.pages:
                if known.page.final_url == page.final_url:
                    return known
            withheld = instruction_passages(page.text)
            # Dropped as lines, before bullets are stripped and table rows rewritten: a
            # block no longer equals the line it came from.
            held = set(withheld)
            readable = "\n".join(
                line for line in page.text.splitlines() if line.strip() not in held
            )
            sentences: list[Sentence] = []
            headings: list[str] = []
            for block, from_table in _blocks(readable):
                if not block:
                    continue
                if not from_table and _is_heading(block):
                    # A heading names a topic; the sentences under it state the facts.
                    headings.append(block)
                    continue
                for text in [block] if from_table else split_sentences(block):
                    sentences.append(
                        Sentence(self._next_id, page, text, bool(_FIGURE.search(text)), from_table)
                    )
                    self._next_id += 1
            count = max(1, len(sentences) - 1)
            placed = tuple(
                replace(sentence, position=number / count)
                for number, sentence in enumerate(sentences)
            )
            evidence = PageEvidence(page, placed, tuple(headings), tuple(withheld))
            self.pages.append(evidence)
            return evidence

    def shown_sentence(self, sentence_id: int) -> Sentence | None:
        """The sentence numbered ``sentence_id`` if the model was shown it: a point may
        cite nothing else."""
        return self._shown.get(sentence_id)

    def show(self, sentences: Sequence[Sentence]) -> None:
        """Let ``sentences`` be cited (they are about to be shown)."""
        with self._lock:
            self._shown.update((sentence.id, sentence) for sentence in sentences)

    def shown_sentences(self) -> list[Sentence]:
        with self._lock:
            return list(self._shown.values())

    def withheld(self) -> list[str]:
        return [passage for page in self.pages for passage in page.withheld]

    def select(
        self,
        topic: str,
        pages: Sequence[PageEvidence] | None = None,
        budget_chars: int | None = None,
    ) -> list[Sentence]:
        """The sentences worth showing for ``topic`` (of every page, or of ``pages``), within
        the budget, in page order; from now on they may be cited."""
        chosen_pages = self.pages if pages is None else pages
        topic_words = content_words(topic)
        every = [sentence for page in chosen_pages for sentence in page.sentences]

        def worth(sentence: Sentence) -> float:
            words = content_words(sentence.text)
            title_words = content_words(sentence.page.title or "")
            overlap = len(topic_words & words) / max(1, len(topic_words))
            on_topic_page = len(topic_words & title_words) / max(1, len(topic_words))
            risk = 0.5 if _RISK.search(sentence.text) else 0.0
            return float(sentence.has_figure) + risk + overlap + 0.5 * on_topic_page

        kept: set[int] = set()
        used = 0
        for sentence in sorted(every, key=worth, reverse=True):  # sorted() is stable
            if worth(sentence) < 0.5:  # no figure, no risk, hardly about the topic
                continue
            cost = len(sentence.text) + 8
            if used + cost > (budget_chars or self.budget_chars):
                continue
            kept.add(sentence.id)
            used += cost

        # The page most about the topic first: a small model leans on what it reads first.
        def page_rank(page: PageEvidence) -> float:
            return -sum(worth(sentence) for sentence in page.sentences if sentence.id in kept)

        ordered = sorted(chosen_pages, key=page_rank)
        chosen = [
            sentence for page in ordered for sentence in page.sentences if sentence.id in kept
        ]
        with self._lock:
            self._shown.update((sentence.id, sentence) for sentence in chosen)
        return chosen


def as_data(sentences: Sequence[Sentence]) -> str:
    """Numbered sentences grouped by page, each page fenced as untrusted data."""
    parts: list[str] = []
    page: Page | None = None
    for sentence in sentences:
        if sentence.page is not page:
            if page is not None:
                parts.append("</page>")
            page = sentence.page
            # A title written to an AI is withheld like any such passage of the page.
            title = "" if instruction_like(page.title or "") else page.title or ""
            parts.append(f'<page url="{attribute(page.final_url)}" title="{attribute(title)}">')
        parts.append(f"[{sentence.id}] {fence(sentence.text)}")
    if page is not None:
        parts.append("</page>")
    return "\n".join(parts)
