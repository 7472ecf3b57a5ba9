"""The pure-Python WordPieceTokenizer against the real ``tokenizers`` library, piece for piece.

Every expectation comes from ``tokenizers`` itself (through ReferenceTokenizer, or a Tokenizer
built from the same file): ids and character offsets must be identical. Set
WORDPIECE_EXAMPLES to run the property test with more examples than the default.
"""

# ruff: noqa: RUF001  (look-alike characters are what these tests are about)
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from alex.adapters import wordpiece
from alex.adapters.wordpiece import TOKENIZER_FILE, VENDORED_DIR, WordPieceTokenizer
from alex.domain.errors import EmbedderUnavailableError
from tests.reference_tokenizer import ReferenceTokenizer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("WORDPIECE_EXAMPLES", "300"))

REFERENCE = ReferenceTokenizer()
OURS = WordPieceTokenizer()


def reference_ids(reference: ReferenceTokenizer, text: str) -> list[int]:
    """Piece ids through the public API: [CLS] + pieces + [SEP], with room for every piece."""
    (ids,) = reference.encode_for_model([text], max_tokens=8 * len(text) + 2)
    return ids[1:-1]


def assert_same(
    text: str, ours: WordPieceTokenizer = OURS, reference: ReferenceTokenizer = REFERENCE
) -> None:
    assert ours.piece_offsets(text) == reference.piece_offsets(text), ascii(text)
    assert ours.piece_ids(text) == reference_ids(reference, text), ascii(text)


def documents() -> list[tuple[str, str]]:
    found = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(ROOT.glob("samples/*.md"))]
    for path in sorted(ROOT.glob("bench/eval/corpus_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.append((f"{path.name}:{row['id']}", row["text"]))
    return found


DOCUMENTS = documents()

COMBINING = [chr(c) for c in range(0x300, 0x370)] + [
    *("\u0f71\u0f72\u0f73\u0f75\u0f81\u0344\u0345\u0334\u093c\u05b0\u0670\u302a\u1dfa\u0898"),
    *("\u1b44\ua953\u0488\u0903\u1734\u111c9\ufe0f\u20e3\u200d\u200c\u00ad\u034f"),
    *("\U0001d165\U0001d166\U0001d16d\U0001e08f\U00011938"),
]
BASES = [
    *"aAeEiIoOsS zZ09 .,;!?-'$%",
    *"ΣσςİIıßẞǅǄﬁÅé한中丽𠀀文ÆŒ",
    *"\u212b\u1e69\u01d5\uf900\u1fef\u037e\u0387\u2000\u00a0\u3000\x00\x1c\x85\ufffd\t\n",
    *"\u1c89\ua7cb\U00010d50\U00016ea0\u0130\u03a3",
]

TRICKY = [
    "",
    " ",
    " \n\t\r ",
    "Hello, World!",
    "naïve café résumé coöperate façade Ångström",
    "nai\u0308ve cafe\u0301 re\u0301sume\u0301",  # NFD input
    "\u00e9 vs e\u0301 vs E\u0301 vs \u00c9",
    "a\u0301\u0316\u0323b x\u0344\u0316y \u0f73\u0f71\u0f72 \u1e69\u0323",  # canonical reordering
    "a\u0301\u0898\u0316b c\u0316\u1dfa\u0301d",  # marks newer than Unicode 9 are starters
    "İstanbul İİ i\u0307 DİYARBAKIR ıi",
    "Straße STRASSE ß ẞ",
    "ΟΔΥΣΣΕΥΣ Ὀδυσσεύς ΣΑΣ σας ς Σ",
    "中文字符测试，日本語のテキスト、한국어 텍스트 𠀀𪜀 丽",
    "مرحبا بالعالم العربي ١٢٣",
    "Привет, мир! Ёлка ЁЖИК",
    "עברית עם ניקוד: שָׁלוֹם",
    "हिन्दी क़ ड़ नमस्ते",
    "emoji 🙂👍🏽 👨\u200d👩\u200d👧\u200d👦 🏳\ufe0f\u200d🌈 ❤\ufe0f 🇫🇷🇯🇵 keycap 1\ufe0f\u20e3",
    "€100 £5 ¥300 ₹42 ₿1 $1,234.56 −3.5% ±2 ½ ¾ ²",
    "\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x7f\x80\x85\x9f control",
    "\x1c\x1d\x1e\x1f separators a\x1cb\x1fc",
    "replacement \ufffd\ufffd a\ufffdb",
    "NUL\x00inside\x00words",
    "nbsp\u00a0narrow\u202fideo\u3000em\u2003thin\u2009zw\u200bjoin\u200dnj\u200c",
    "line\u2028para\u2029ogham\u1680mongolian\u180evs\u205fbom\ufeffend",
    "soft\u00adhyphen word\u2060joiner",
    "a" * 100,
    "a" * 101,
    "x" * 250 + " short " + "é" * 120,
    "antidisestablishmentarianism" * 4 + " pneumonoultramicroscopicsilicovolcanoconiosis",
    "!!!...???---***((([[[{{{}}}]]])))",
    "'quoted' \"double\" «guillemets» „German“ ‘curly’ “quotes” — – … ‽ ¿¡",
    "https://example.com/path/to/page?query=value&x=1#frag user@example.org",
    "$1,234.56 and 1,000,000 and 3.14159 and 1e-10 and 0x1F and 10:30pm",
    "tab\tseparated\tvalues\nnew\r\nlines\rhere",
    "[CLS] hello [SEP] world [MASK][PAD][UNK] [cls] [Sep] x[CLS]y [[CLS]] [CLS",
    "ﬁﬂ ligatures Ⅻ ⅻ ① ㍿ ＡＢＣ ｱｲｳ ℌ ℵ \u2126 \u212b \u212a (ohm, angstrom, kelvin signs)",
    "\u1c89\ua7cb\ua7cc\U00010d50\U00016ea0 new case pairs",
    "\U00011935\U00011930 \U00011938 dives akuru",
    "combining at start: \u0301abc \u0316\u0301",
    "Σ\u0301 ΆΈΉ ά έ",
    "x\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b",
    "Korean jamo 각 and syllables 각 갂",
    "\U000f0000\U0010fffd private use \ue000",
    "unassigned \U000e0001\U000e0020 tags \U0003ffff \U000ffff0",
]


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_documents_match(name: str, text: str) -> None:
    assert_same(text)


def test_all_documents_as_one_text_match() -> None:
    assert_same("\n\n".join(text for _, text in DOCUMENTS))


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_strings_match(text: str) -> None:
    assert_same(text)


def test_every_code_point_inside_a_word_matches() -> None:
    """Each code point of the BMP and plane 1 (a sample above) as ``A<c>b``, 4096 a text."""
    points = [*range(0x20000), *range(0x20000, 0x110000, 97)]
    chars = [chr(p) for p in points if not 0xD800 <= p <= 0xDFFF]
    for start in range(0, len(chars), 4096):
        assert_same(" ".join(f"A{c}b" for c in chars[start : start + 4096]))


def test_random_mark_sequences_match() -> None:
    """Runs of combining marks exercise canonical reordering and offset alignment."""
    rnd = random.Random(20240611)
    pool = COMBINING + BASES
    texts = ["".join(rnd.choices(pool, k=rnd.randint(1, 12))) for _ in range(3000)]
    # One text per call would be slow; with a separator, each stays its own word.
    for start in range(0, len(texts), 100):
        assert_same(" ".join(texts[start : start + 100]))


def test_long_texts_with_scattered_special_characters_match() -> None:
    """Plain stretches of every length between characters that need the slow path."""
    rnd = random.Random(11)
    words = " ".join(text for _, text in DOCUMENTS[:5]).split(" ")
    pool = COMBINING + BASES
    for _ in range(40):
        pieces = []
        for _ in range(rnd.randint(1, 300)):
            pieces.append(rnd.choice(words))
            if rnd.random() < 0.05:
                pieces.append("".join(rnd.choices(pool, k=rnd.randint(1, 3))))
            pieces.append(rnd.choice([" ", " ", " ", "\n", "\t", "\r\n", "", "\u00a0", "  "]))
        assert_same("".join(pieces))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_matches(text: str) -> None:
    assert_same(text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.sampled_from(COMBINING + BASES) | st.characters(codec="utf-8"), max_size=40))
def test_any_text_rich_in_marks_matches(text: str) -> None:
    assert_same(text)


def write_tokenizer(directory: Path, change: dict[str, Any]) -> Path:
    """A copy of the vendored tokenizer.json with top-level sections updated by ``change``."""
    config = json.loads((VENDORED_DIR / TOKENIZER_FILE).read_text(encoding="utf-8"))
    for section, values in change.items():
        if isinstance(config.get(section), dict) and isinstance(values, dict):
            config[section].update(values)
        else:
            config[section] = values
    directory.mkdir(parents=True, exist_ok=True)
    (directory / TOKENIZER_FILE).write_text(json.dumps(config), encoding="utf-8")
    return directory


def test_each_normalized_character_maps_to_the_same_original_character(tmp_path: Path) -> None:
    """With a vocab of single characters, every normalized character is a piece of its own.

    The vocab holds every character the real normalizer produces, so both tokenizers must
    agree on the whole normalized text, character by character, and on each one's source.
    """
    rnd = random.Random(7)
    pool = COMBINING + BASES
    texts = [*TRICKY, *("".join(rnd.choices(pool, k=rnd.randint(1, 10))) for _ in range(1500))]
    normalizer = Tokenizer.from_file(str(VENDORED_DIR / TOKENIZER_FILE)).normalizer
    assert normalizer is not None
    chars = sorted({c for text in texts for c in normalizer.normalize_str(text)})
    vocab = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
    for char in chars:
        for key in (char, f"##{char}"):
            vocab.setdefault(key, len(vocab) + 1000)
    model = {"vocab": vocab, "max_input_chars_per_word": 10_000}
    directory = write_tokenizer(tmp_path / "chars", {"model": model})
    ours, reference = WordPieceTokenizer(directory), ReferenceTokenizer(directory)
    for text in texts:
        assert_same(text, ours, reference)


NORMALIZER_SETTINGS = [
    {"clean_text": False},
    {"handle_chinese_chars": False},
    {"strip_accents": False},
    {"strip_accents": True, "lowercase": False},
    {"lowercase": False},  # strip_accents null follows lowercase: off
    {"clean_text": False, "handle_chinese_chars": False, "lowercase": False},
]


@pytest.mark.parametrize("normalizer", NORMALIZER_SETTINGS, ids=str)
def test_normalizer_settings_are_read_from_the_file(
    tmp_path: Path, normalizer: dict[str, Any]
) -> None:
    model = {"max_input_chars_per_word": 12, "continuing_subword_prefix": "##"}
    directory = write_tokenizer(tmp_path, {"normalizer": normalizer, "model": model})
    ours, reference = WordPieceTokenizer(directory), ReferenceTokenizer(directory)
    rnd = random.Random(3)
    pool = COMBINING + BASES
    texts = [*TRICKY, *("".join(rnd.choices(pool, k=rnd.randint(1, 12))) for _ in range(300))]
    for text in texts:
        assert_same(text, ours, reference)


def test_no_added_tokens_means_brackets_are_plain_text(tmp_path: Path) -> None:
    directory = write_tokenizer(tmp_path, {"added_tokens": []})
    ours, reference = WordPieceTokenizer(directory), ReferenceTokenizer(directory)
    assert_same("[CLS] a [SEP]b[MASK]", ours, reference)


def test_token_to_id_matches() -> None:
    tokens = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "hello", "##ing", "the", "xyzzy", ""]
    for token in tokens:
        assert OURS.token_to_id(token) == REFERENCE._pieces.token_to_id(token)


@pytest.mark.parametrize("max_tokens", [2, 5, 256])
def test_encode_for_model_matches(max_tokens: int) -> None:
    texts = [text for _, text in DOCUMENTS[:3]] + TRICKY[:8]
    expected = REFERENCE.encode_for_model(texts, max_tokens)
    assert OURS.encode_for_model(texts, max_tokens) == expected


def test_lone_surrogates_are_refused_like_tokenizers() -> None:
    with pytest.raises(TypeError):
        REFERENCE.piece_offsets("a\ud800b")
    with pytest.raises(TypeError):
        OURS.piece_offsets("a\ud800b")


def test_a_full_cache_is_cleared_and_results_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordpiece, "_CACHE_SIZE", 8)
    ours = WordPieceTokenizer()
    text = DOCUMENTS[0][1] + " é ü ö"
    assert ours.piece_offsets(text) == REFERENCE.piece_offsets(text)
    assert len(ours._word_cache) <= 8
    assert len(ours._run_cache) <= 8


def test_loads_without_the_tokenizers_library() -> None:
    """What Lambda gets: the module and a tokenization with ``tokenizers`` impossible to import."""
    script = (
        "import sys; sys.modules['tokenizers'] = None\n"
        "from alex.adapters.wordpiece import WordPieceTokenizer\n"
        "print(WordPieceTokenizer().piece_offsets('Héllo, wörld!'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == str(REFERENCE.piece_offsets("Héllo, wörld!"))


def test_vendored_file_is_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tokenizer(tmp_path, {"truncation": None})
    monkeypatch.setattr(wordpiece, "VENDORED_DIR", tmp_path)
    with pytest.raises(EmbedderUnavailableError, match="sha256"):
        WordPieceTokenizer()


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match="missing"):
        WordPieceTokenizer(tmp_path)


@pytest.mark.parametrize(
    "change",
    [
        {"normalizer": {"type": "Lowercase"}},
        {"normalizer": None},
        {"pre_tokenizer": {"type": "Whitespace"}},
        {"model": {"type": "BPE"}},
        {"model": {"unk_token": "<unk>"}},
        {"normalizer": {"lowercase": "yes"}},
        {"added_tokens": [{"id": 5, "content": "<x>", "normalized": True}]},
    ],
    ids=str,
)
def test_unsupported_files_are_refused(tmp_path: Path, change: dict[str, Any]) -> None:
    with pytest.raises(EmbedderUnavailableError, match="Cannot"):
        WordPieceTokenizer(write_tokenizer(tmp_path, change))


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / TOKENIZER_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(EmbedderUnavailableError, match="Cannot read"):
        WordPieceTokenizer(tmp_path)
