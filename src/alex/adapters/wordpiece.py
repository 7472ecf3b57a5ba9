"""all-MiniLM-L6-v2's BERT WordPiece tokenizer in pure Python (standard library only).

Lambda functions count and locate word pieces for chunking; this module lets them do it
without the Rust ``tokenizers`` wheel. It reads the same ``tokenizer.json`` and gives the
same ids and the same character offsets as ``tokenizers`` 0.23 does with no truncation, no
padding and ``add_special_tokens=False`` (``tests/unit/test_wordpiece.py`` checks this against
the real library).

The pipeline is the Rust one: special (added) tokens are cut out of the raw text first, each
remaining part goes through ``BertNormalizer`` (clean text, pad CJK ideographs, NFD and drop
nonspacing marks, lowercase), ``BertPreTokenizer`` (split on whitespace, isolate punctuation)
and greedy longest-match-first ``WordPiece``. Every normalized character remembers the original
character it came from, so a piece spans from its first character's source to its last one's.

Character properties come from tables (``wordpiece_tables.py``), not from :mod:`unicodedata`,
because the Rust crates behind ``tokenizers`` freeze older Unicode versions than Python
3.11-3.13 know (Unicode 14-15.1), whose categories would split or strip characters that
``tokenizers`` keeps; its ``char::to_lowercase`` follows Rust's own, newer Unicode. The tables
are not taken from any Unicode database: ``scripts/make_wordpiece_tables.py`` generated them
by asking ``tokenizers`` 0.23.3 what it does to every code point. :mod:`unicodedata` is used
only for the decomposition and combining class of characters the tables say decompose or are
non-starters.

Why one file of ~520 lines: it is one pipeline whose stages share the offset bookkeeping
(each normalized character's source); splitting them would part code that changes together.

What the tests check: ``tests/unit/test_wordpiece_tables.py``, that every table equals the
generator's output for the installed ``tokenizers``; ``tests/unit/test_wordpiece.py``, that the
ids and offsets equal ``tokenizers``' on every code point inside a word, on the samples and
evaluation corpus, on random mark sequences and on hypothesis-generated text.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alex.adapters.wordpiece_tables import CHINESE as _CHINESE
from alex.adapters.wordpiece_tables import CONTROL as _CONTROL
from alex.adapters.wordpiece_tables import DECOMPOSABLE as _DECOMPOSABLE
from alex.adapters.wordpiece_tables import LOWERCASE_EXTRA as _LOWERCASE_EXTRA
from alex.adapters.wordpiece_tables import NON_STARTER as _NON_STARTER
from alex.adapters.wordpiece_tables import NONSPACING_MARK as _NONSPACING_MARK
from alex.adapters.wordpiece_tables import PUNCTUATION as _PUNCTUATION
from alex.adapters.wordpiece_tables import WHITESPACE as _WHITESPACE
from alex.domain.errors import EmbedderUnavailableError

VENDORED_DIR = Path(__file__).resolve().parent / "minilm"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json: max_seq_length, incl. [CLS] and [SEP]
_FIX = "Reinstall Alex (`uv sync`): its tokenizer file is missing or damaged."

# Cached results: a corpus repeats its words, so the per-word greedy search runs once per
# distinct word. Bounded so a stream of unique strings cannot grow memory without limit.
_CACHE_SIZE = 1 << 16
# Special characters this close (in characters) are normalized as one window (see _windows).
_WINDOW_GAP = 64

# The character tables (tokenizers' behaviour per code point) are generated data, kept apart:
# CONTROL is bert.rs is_control (Cc, Cf, Co but \t \n \r), WHITESPACE Rust's
# char::is_whitespace (\x1c-\x1f are not, unlike str.isspace), PUNCTUATION bert.rs
# is_bert_punc, NONSPACING_MARK what strip_accents drops, DECOMPOSABLE / NON_STARTER what
# NFD changes / reorders, CHINESE what handle_chinese_chars pads, LOWERCASE_EXTRA
# char::to_lowercase mappings that Python's str.lower() lacks.
_SURROGATE = "D800-DFFF "

# A word's piece ids, and the span of each piece in the word.
_Pieces = tuple[tuple[int, ...], tuple[tuple[int, int], ...]]
# Special characters; words; words in a capturing group (to split on them).
_Patterns = tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]


def _ranges(table: str) -> list[tuple[int, int]]:
    spans = []
    for item in table.split():
        first, _, last = item.partition("-")
        spans.append((int(first, 16), int(last or first, 16)))
    return spans


def _char_class(*tables: str, bmp_only: bool = False) -> str:
    """The body of a regex character class matching every code point of ``tables``.

    ``bmp_only`` leaves out the code points above U+FFFF: re tests those ranges one by one
    for every character a class does not otherwise match, which makes a scan of plain text
    several times slower. Text without such characters is scanned with the smaller class.
    """
    spans = [span for table in tables for span in _ranges(table)]
    if bmp_only:
        spans = [(a, min(b, 0xFFFF)) for a, b in spans if a <= 0xFFFF]
    return "".join(rf"\U{a:08x}" if a == b else rf"\U{a:08x}-\U{b:08x}" for a, b in spans)


def _matcher(*tables: str) -> Callable[[str], object]:
    """A one-character membership test (regex classes run in C, faster than bisecting)."""
    return re.compile(f"[{_char_class(*tables)}]").match


def _lowercase_extra() -> dict[str, str]:
    mapping = {}
    for item in _LOWERCASE_EXTRA.split():
        span, _, target = item.partition(":")
        ((first, last),) = _ranges(span)
        for offset in range(last - first + 1):
            mapping[chr(first + offset)] = chr(int(target, 16) + offset)
    return mapping


_is_control = _matcher(_CONTROL)
_is_whitespace = _matcher(_WHITESPACE)
_is_chinese = _matcher(_CHINESE)
_is_nonspacing_mark = _matcher(_NONSPACING_MARK)
_is_decomposable = _matcher(_DECOMPOSABLE)
_is_non_starter = _matcher(_NON_STARTER)
_is_surrogate = _matcher(_SURROGATE)
_has_astral = re.compile(r"[\U00010000-\U0010ffff]").search
_plain_space = re.compile("[ \t\n\r]").search
_LOWER_EXTRA = _lowercase_extra()


@dataclass(frozen=True)
class _Normalizer:
    """BertNormalizer's settings, as tokenizer.json gives them."""

    clean_text: bool
    handle_chinese_chars: bool
    strip_accents: bool  # already resolved: null means "same as lowercase"
    lowercase: bool


class WordPieceTokenizer:
    """The tokenizer of ``tokenizer.json`` without its 128-token truncation and padding."""

    def __init__(self, model_dir: Path | None = None) -> None:
        """``model_dir`` holds a ``tokenizer.json``; by default the vendored, pinned one."""
        path = (VENDORED_DIR if model_dir is None else Path(model_dir)) / TOKENIZER_FILE
        if not path.is_file():
            raise EmbedderUnavailableError(f"Model file {path} is missing. {_FIX}")
        raw = path.read_bytes()
        if model_dir is None and hashlib.sha256(raw).hexdigest() != TOKENIZER_SHA256:
            raise EmbedderUnavailableError(f"{path} does not match its pinned sha256. {_FIX}")
        try:
            config = json.loads(raw)
            self._load(config)
        except EmbedderUnavailableError as exc:
            raise EmbedderUnavailableError(f"Cannot use tokenizer {path}: {exc.message}") from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise EmbedderUnavailableError(f"Cannot read tokenizer {path}: {exc}. {_FIX}") from exc
        self._word_cache: dict[str, _Pieces] = {}
        self._run_cache: dict[str, tuple[str, tuple[int, ...]]] = {}

    def _load(self, config: dict[str, Any]) -> None:
        normalizer = config.get("normalizer") or {}
        pre_tokenizer = config.get("pre_tokenizer") or {}
        model = config.get("model") or {}
        kinds = (normalizer.get("type"), pre_tokenizer.get("type"), model.get("type"))
        if kinds != ("BertNormalizer", "BertPreTokenizer", "WordPiece"):
            raise EmbedderUnavailableError(
                "only a BertNormalizer + BertPreTokenizer + WordPiece tokenizer is supported, "
                f"this one has normalizer {kinds[0]}, pre-tokenizer {kinds[1]}, model {kinds[2]}"
            )
        # Missing fields take the Rust defaults (BertNormalizer::default, WordPiece::default).
        lowercase = _flag(normalizer, "lowercase", True)
        strip = normalizer.get("strip_accents")
        self._norm = _Normalizer(
            clean_text=_flag(normalizer, "clean_text", True),
            handle_chinese_chars=_flag(normalizer, "handle_chinese_chars", True),
            strip_accents=lowercase if strip is None else _flag(normalizer, "strip_accents", True),
            lowercase=lowercase,
        )
        vocab = model["vocab"]
        if not isinstance(vocab, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in vocab.items()
        ):
            raise EmbedderUnavailableError("the WordPiece vocab is not a map of strings to ids")
        self._vocab: dict[str, int] = vocab
        unk = model.get("unk_token", "[UNK]")
        if unk not in vocab:
            raise EmbedderUnavailableError(f"the unknown token {unk!r} is not in the vocab")
        self._unk_id = vocab[unk]
        self._prefix: str = model.get("continuing_subword_prefix", "##")
        self._max_chars: int = int(model.get("max_input_chars_per_word", 100))
        # No vocab entry is longer than these, so the greedy search starts there, not at the
        # end of a long word: same result, far fewer dictionary lookups.
        self._longest_first = max(map(len, vocab))
        self._longest_next = max(
            (len(k) - len(self._prefix) for k in vocab if k.startswith(self._prefix)), default=0
        )
        self._added: dict[str, int] = {}
        for token in config.get("added_tokens") or []:
            flags = ("normalized", "single_word", "lstrip", "rstrip")
            if any(token.get(flag, False) for flag in flags):
                raise EmbedderUnavailableError(
                    f"added token {token.get('content')!r} sets one of {', '.join(flags)}; "
                    "only plain tokens matched in the raw text are supported"
                )
            if token["content"]:
                self._added[token["content"]] = int(token["id"])
        # The Rust side finds added tokens leftmost-longest; trying longer ones first at each
        # position makes Python's leftmost-first alternation do the same.
        by_length = sorted(self._added, key=len, reverse=True)
        self._added_re = re.compile("|".join(map(re.escape, by_length))) if by_length else None
        self._compile_patterns()

    def _compile_patterns(self) -> None:
        norm = self._norm
        # Characters whose normalization is not just str.lower() of themselves, one to one,
        # independent of their neighbours. Text without any takes the fast path. Surrogates
        # are here so that they are found without a second scan, and refused.
        special = [_SURROGATE]
        if norm.clean_text:
            special += [_CONTROL, "0 FFFD "]
        if norm.strip_accents:
            special += [_NONSPACING_MARK, _DECOMPOSABLE, _NON_STARTER]
        if norm.lowercase:
            # Sigma: str.lower() gives a final sigma in context, char::to_lowercase never does.
            # U+0130 lowercases to two characters.
            extra = " ".join(f"{ord(c):X}" for c in _LOWER_EXTRA)
            special += ["3A3 130 ", extra]
        # Pre-tokenization on the normalized text: words are runs of anything but whitespace
        # and punctuation; each punctuation mark is a word of its own. Padding an ideograph
        # with spaces, as handle_chinese_chars does, also makes it a word of its own.
        isolated = [_PUNCTUATION, *([_CHINESE] if norm.handle_chinese_chars else [])]
        self._patterns: dict[bool, _Patterns] = {}
        for bmp_only in (False, True):
            alone = _char_class(*isolated, bmp_only=bmp_only)
            word = f"[^{_char_class(_WHITESPACE, bmp_only=bmp_only)}{alone}]+|[{alone}]"
            self._patterns[bmp_only] = (
                re.compile(f"[{_char_class(*special, bmp_only=bmp_only)}]+"),
                re.compile(word),
                re.compile(f"({word})"),
            )

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token`` (an added token or a vocab entry), or None."""
        found = self._added.get(token)
        return self._vocab.get(token) if found is None else found

    def piece_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span ``(start, end)`` of each word piece of ``text``.

        No special tokens and no truncation: every piece of the text is listed.
        """
        offsets: list[tuple[int, int]] = []
        self._encode(text, [], offsets)
        return offsets

    def piece_ids(self, text: str) -> list[int]:
        """The id of each word piece of ``text``, without special tokens or truncation."""
        ids: list[int] = []
        self._encode(text, ids, None)
        return ids

    def encode_for_model(
        self, texts: Sequence[str], max_tokens: int = MAX_SEQ_LENGTH
    ) -> list[list[int]]:
        """Token ids ``[CLS]`` + pieces + ``[SEP]``, cut at ``max_tokens`` in all, unpadded."""
        cls_id, sep_id = self.token_to_id("[CLS]"), self.token_to_id("[SEP]")
        if cls_id is None or sep_id is None:
            raise EmbedderUnavailableError(f"The tokenizer has no [CLS]/[SEP] tokens. {_FIX}")
        keep = max_tokens - 2
        return [[cls_id, *self.piece_ids(text)[:keep], sep_id] for text in texts]

    def _encode(self, text: str, ids: list[int], offsets: list[tuple[int, int]] | None) -> None:
        patterns = self._patterns[text.isascii() or _has_astral(text) is None]
        if self._added_re is None:
            self._encode_part(text, 0, patterns, ids, offsets)
            return
        # Added tokens are cut out of the raw text; the parts between are normalized apart.
        start = 0
        for match in self._added_re.finditer(text):
            if match.start() > start:
                self._encode_part(text[start : match.start()], start, patterns, ids, offsets)
            ids.append(self._added[match.group()])
            if offsets is not None:
                offsets.append(match.span())
            start = match.end()
        if start < len(text):
            self._encode_part(text[start:], start, patterns, ids, offsets)

    def _encode_part(
        self,
        text: str,
        base: int,
        patterns: _Patterns,
        ids: list[int],
        offsets: list[tuple[int, int]] | None,
    ) -> None:
        """Pieces of ``text``, a part of the input that starts at character ``base``."""
        lowercase = self._norm.lowercase
        done = 0
        for start, end in _windows(text, patterns[0]):
            if start > done:
                plain = text[done:start]
                self._emit(
                    plain.lower() if lowercase else plain, base + done, None, patterns, ids, offsets
                )
            normalized, source = self._normalize(text[start:end], base + start, patterns[0])
            self._emit(normalized, base + start, source, patterns, ids, offsets)
            done = end
        plain = text[done:] if done else text
        self._emit(plain.lower() if lowercase else plain, base + done, None, patterns, ids, offsets)

    def _emit(
        self,
        normalized: str,
        base: int,
        source: list[int] | None,
        patterns: _Patterns,
        ids: list[int],
        offsets: list[tuple[int, int]] | None,
    ) -> None:
        """Pre-tokenize and tokenize normalized text, whose character ``i`` comes from original
        character ``source[i]``, or ``base + i`` without a ``source``."""
        _, words, splitter = patterns
        known = self._word_cache.get
        add_ids = ids.extend
        if offsets is None:
            for word in words.findall(normalized):
                add_ids((known(word) or self._learn(word))[0])
            return
        # split() hands over the words and the whitespace between them as plain strings,
        # cheaper than a Match object per word; the loop adds up their lengths instead.
        parts = iter(splitter.split(normalized))
        at = len(next(parts))
        for word, gap in zip(parts, parts, strict=True):
            word_ids, spans = known(word) or self._learn(word)
            add_ids(word_ids)
            if source is None:
                if len(spans) == 1:  # most words are one piece
                    offsets.append((base + at + spans[0][0], base + at + spans[0][1]))
                else:
                    offsets.extend([(base + at + s, base + at + e) for s, e in spans])
            elif len(spans) == 1:
                offsets.append((source[at + spans[0][0]], source[at + spans[0][1] - 1] + 1))
            else:
                offsets.extend([(source[at + s], source[at + e - 1] + 1) for s, e in spans])
            at += len(word) + len(gap)

    def _learn(self, word: str) -> _Pieces:
        """The pieces of a word not in the cache, now cached."""
        pieces = self._word_pieces(word)
        if len(word) <= self._max_chars:  # a longer word is one [UNK]: nothing to save
            cache = self._word_cache
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[word] = pieces
        return pieces

    def _normalize(self, text: str, base: int, special: re.Pattern[str]) -> tuple[str, list[int]]:
        """BertNormalizer: the normalized text, and the original index of each of its characters."""
        lowercase = self._norm.lowercase
        parts: list[str] = []
        source: list[int] = []
        done = 0
        for match in special.finditer(text):
            start, end = match.span()
            if start > done:
                plain = text[done:start]
                parts.append(plain.lower() if lowercase else plain)
                source.extend(range(base + done, base + start))
            run, run_source = self._normalize_run(match.group())
            parts.append(run)
            source.extend([base + start + i for i in run_source])
            done = end
        if done < len(text):
            plain = text[done:]
            parts.append(plain.lower() if lowercase else plain)
            source.extend(range(base + done, base + len(text)))
        return "".join(parts), source

    def _word_pieces(self, word: str) -> _Pieces:
        """WordPiece: greedy longest-match-first; one [UNK] for a word it cannot cover."""
        length = len(word)
        if length > self._max_chars:
            return (self._unk_id,), ((0, length),)
        lookup, prefix = self._vocab.get, self._prefix
        found = lookup(word)
        if found is not None:  # most words are in the vocab whole
            return (found,), ((0, length),)
        ids: list[int] = []
        spans: list[tuple[int, int]] = []
        start = 0
        longest = self._longest_first
        while start < length:
            end = length if length - start < longest else start + longest
            while end > start:
                found = lookup(prefix + word[start:end] if start else word[:end])
                if found is not None:
                    break
                end -= 1
            else:
                return (self._unk_id,), ((0, length),)
            ids.append(found)
            spans.append((start, end))
            start = end
            longest = self._longest_next
        return tuple(ids), tuple(spans)

    def _normalize_run(self, run: str) -> tuple[str, tuple[int, ...]]:
        """BertNormalizer on a run of special characters: the text, and each character's source.

        Sources are indexes into ``run``. Runs are normalized apart from the plain text around
        them: plain characters are starters (combining class 0), so canonical reordering never
        crosses them.
        """
        cached = self._run_cache.get(run)
        if cached is not None:
            return cached
        norm = self._norm
        # 1. clean_text and handle_chinese_chars, character by character.
        chars: list[str] = []
        sources: list[int] = []
        for index, char in enumerate(run):
            if _is_surrogate(char):
                # tokenizers cannot take such a str either: it raises this same error.
                raise TypeError("TextInputSequence must be str")
            if norm.clean_text:
                if char in "\x00\ufffd" or _is_control(char):
                    continue
                if _is_whitespace(char):
                    char = " "
            if norm.handle_chinese_chars and _is_chinese(char):
                chars += [" ", char, " "]
                sources += [index, index, index]
            else:
                chars.append(char)
                sources.append(index)
        # 2. strip_accents: NFD, then drop nonspacing marks.
        if norm.strip_accents:
            chars, sources = _nfd_without_marks(chars, sources)
        # 3. lowercase: char::to_lowercase, character by character, so never a final sigma.
        if norm.lowercase:
            lowered: list[str] = []
            lowered_sources: list[int] = []
            for char, source in zip(chars, sources, strict=True):
                lower = _LOWER_EXTRA.get(char) or char.lower()
                lowered.append(lower)
                lowered_sources += [source] * len(lower)
            chars, sources = lowered, lowered_sources
        result = "".join(chars), tuple(sources)
        if len(self._run_cache) >= _CACHE_SIZE:
            self._run_cache.clear()
        self._run_cache[run] = result
        return result


def _windows(text: str, special: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """Stretches of ``text`` around its special characters, cut at plain whitespace.

    A space, tab, newline or carriage return stays whitespace through normalization and is a
    starter, so no word and no canonical reordering crosses it: the text between windows can
    take the fast path, and only windows need a character-by-character source map. Windows
    closer than _WINDOW_GAP are merged to save the per-window overhead.
    """
    window_start = window_end = -1
    for match in special.finditer(text):
        start, end = match.span()
        if window_end < 0 or start > window_end + _WINDOW_GAP:
            if window_end >= 0:
                yield window_start, window_end
            floor = max(window_end, 0)
            window_start = max(floor, *(text.rfind(space, floor, start) + 1 for space in " \t\n\r"))
        after = _plain_space(text, end)
        window_end = len(text) if after is None else after.start()
    if window_end >= 0:
        yield window_start, window_end


def _flag(section: dict[str, Any], name: str, default: bool) -> bool:
    value = section.get(name, default)
    if not isinstance(value, bool):
        raise EmbedderUnavailableError(f"normalizer setting {name} is {value!r}, not true/false")
    return value


def _nfd_without_marks(chars: list[str], sources: list[int]) -> tuple[list[str], list[int]]:
    """NFD as unicode-normalization-alignments does it, then drop Unicode 8 Mn characters.

    Each character's decomposition comes out first with "change 0" (it replaces the
    character), the rest with "change 1" (inserted). Each run of non-starters is then stably
    sorted by combining class, the changes travelling with their characters. NormalizedString
    then aligns a change-0 character with the next character of the input, in input order,
    and an inserted one with the last input character consumed.
    """
    emitted: list[tuple[str, int, bool]] = []  # (character, combining class, inserted)
    for char in chars:
        parts = unicodedata.normalize("NFD", char) if _is_decomposable(char) else char
        for position, part in enumerate(parts):
            ccc = unicodedata.combining(part) if _is_non_starter(part) else 0
            emitted.append((part, ccc, position > 0))
    # Canonical ordering: stable sort of each maximal run of non-starters by class.
    start = 0
    while start < len(emitted):
        if emitted[start][1] == 0:
            start += 1
            continue
        end = start + 1
        while end < len(emitted) and emitted[end][1] != 0:
            end += 1
        if end - start > 1:
            emitted[start:end] = sorted(emitted[start:end], key=lambda item: item[1])
        start = end
    kept: list[str] = []
    kept_sources: list[int] = []
    consumed = 0
    source = sources[0] if sources else 0
    for part, _, inserted in emitted:
        if not inserted:
            source = sources[consumed]
            consumed += 1
        if not _is_nonspacing_mark(part):
            kept.append(part)
            kept_sources.append(source)
    return kept, kept_sources
