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

Character properties come from the tables below, not from :mod:`unicodedata`, because the Rust
crates behind ``tokenizers`` freeze older Unicode versions than Python 3.11-3.13 know (Unicode
14-15.1), whose categories would split or strip characters that ``tokenizers`` keeps; its
``char::to_lowercase`` follows Rust's own, newer Unicode. The tables are not taken from any
Unicode database: ``scripts/make_wordpiece_tables.py`` generated them by asking ``tokenizers``
0.23.3 what it does to every code point. :mod:`unicodedata` is used only for the decomposition
and combining class of characters the tables say decompose or are non-starters.

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

# Code point ranges (hex, inclusive): scripts/make_wordpiece_tables.py's output (tokenizers 0.23.3).
# bert.rs is_control: Unicode 8 Cc, Cf, Co (unicode_categories' is_other), minus \t \n \r.
# _WHITESPACE: Rust char::is_whitespace (\x1c-\x1f are not, unlike str.isspace).
# _PUNCTUATION: ASCII punctuation or a Unicode 8 P* category (bert.rs is_bert_punc).
# _NONSPACING_MARK: Unicode 8 Mn, what strip_accents drops.
# _DECOMPOSABLE / _NON_STARTER: canonical decomposition / nonzero combining class in Unicode 9.
_CONTROL = (
    "0-8 B-C E-1F 7F-9F AD 600-605 61C 6DD 70F 180E 200B-200F 202A-202E 2060-2064 2066-206F "
    "E000-F8FF FEFF FFF9-FFFB 110BD 1BCA0-1BCA3 1D173-1D17A E0001 E0020-E007F F0000-FFFFD "
    "100000-10FFFD "
)
_WHITESPACE = "9-D 20 85 A0 1680 2000-200A 2028-2029 202F 205F 3000 "
_PUNCTUATION = (
    "21-2F 3A-40 5B-60 7B-7E A1 A7 AB B6-B7 BB BF 37E 387 55A-55F 589-58A 5BE 5C0 5C3 5C6 "
    "5F3-5F4 609-60A 60C-60D 61B 61E-61F 66A-66D 6D4 700-70D 7F7-7F9 830-83E 85E 964-965 970 "
    "AF0 DF4 E4F E5A-E5B F04-F12 F14 F3A-F3D F85 FD0-FD4 FD9-FDA 104A-104F 10FB 1360-1368 1400 "
    "166D-166E 169B-169C 16EB-16ED 1735-1736 17D4-17D6 17D8-17DA 1800-180A 1944-1945 1A1E-1A1F "
    "1AA0-1AA6 1AA8-1AAD 1B5A-1B60 1BFC-1BFF 1C3B-1C3F 1C7E-1C7F 1CC0-1CC7 1CD3 2010-2027 "
    "2030-2043 2045-2051 2053-205E 207D-207E 208D-208E 2308-230B 2329-232A 2768-2775 27C5-27C6 "
    "27E6-27EF 2983-2998 29D8-29DB 29FC-29FD 2CF9-2CFC 2CFE-2CFF 2D70 2E00-2E2E 2E30-2E42 "
    "3001-3003 3008-3011 3014-301F 3030 303D 30A0 30FB A4FE-A4FF A60D-A60F A673 A67E A6F2-A6F7 "
    "A874-A877 A8CE-A8CF A8F8-A8FA A8FC A92E-A92F A95F A9C1-A9CD A9DE-A9DF AA5C-AA5F AADE-AADF "
    "AAF0-AAF1 ABEB FD3E-FD3F FE10-FE19 FE30-FE52 FE54-FE61 FE63 FE68 FE6A-FE6B FF01-FF03 "
    "FF05-FF0A FF0C-FF0F FF1A-FF1B FF1F-FF20 FF3B-FF3D FF3F FF5B FF5D FF5F-FF65 10100-10102 "
    "1039F 103D0 1056F 10857 1091F 1093F 10A50-10A58 10A7F 10AF0-10AF6 10B39-10B3F 10B99-10B9C "
    "11047-1104D 110BB-110BC 110BE-110C1 11140-11143 11174-11175 111C5-111C9 111CD 111DB "
    "111DD-111DF 11238-1123D 112A9 114C6 115C1-115D7 11641-11643 1173C-1173E 12470-12474 "
    "16A6E-16A6F 16AF5 16B37-16B3B 16B44 1BC9F 1DA87-1DA8B "
)
_NONSPACING_MARK = (
    "300-33F 342 345-36F 483-487 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC "
    "6DF-6E4 6E7-6E8 6EA-6ED 711 730-74A 7A6-7B0 7EB-7F3 816-819 81B-823 825-827 829-82D "
    "859-85B 8E3-902 93A 93C 941-948 94D 951-957 962-963 981 9BC 9C1-9C4 9CD 9E2-9E3 A01-A02 "
    "A3C A41-A42 A47-A48 A4B-A4D A51 A70-A71 A75 A81-A82 ABC AC1-AC5 AC7-AC8 ACD AE2-AE3 B01 "
    "B3C B3F B41-B44 B4D B56 B62-B63 B82 BC0 BCD C00 C3E-C40 C46-C47 C4A-C4D C55-C56 C62-C63 "
    "C81 CBC CBF CC6 CCC-CCD CE2-CE3 D01 D41-D44 D4D D62-D63 DCA DD2-DD4 DD6 E31 E34-E3A "
    "E47-E4E EB1 EB4-EB9 EBB-EBC EC8-ECD F18-F19 F35 F37 F39 F71-F72 F74 F77 F79-F7E F80 "
    "F82-F84 F86-F87 F8D-F92 F94-F97 F99-F9C F9E-FA1 FA3-FA6 FA8-FAB FAD-FB8 FBA-FBC FC6 "
    "102D-1030 1032-1037 1039-103A 103D-103E 1058-1059 105E-1060 1071-1074 1082 1085-1086 108D "
    "109D 135D-135F 1712-1714 1732-1734 1752-1753 1772-1773 17B4-17B5 17B7-17BD 17C6 17C9-17D3 "
    "17DD 180B-180D 18A9 1920-1922 1927-1928 1932 1939-193B 1A17-1A18 1A1B 1A56 1A58-1A5E 1A60 "
    "1A62 1A65-1A6C 1A73-1A7C 1A7F 1AB0-1ABD 1B00-1B03 1B34 1B36-1B3A 1B3C 1B42 1B6B-1B73 "
    "1B80-1B81 1BA2-1BA5 1BA8-1BA9 1BAB-1BAD 1BE6 1BE8-1BE9 1BED 1BEF-1BF1 1C2C-1C33 1C36-1C37 "
    "1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1DC0-1DF5 1DFC-1DFF 20D0-20DC 20E1 "
    "20E5-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302D 3099-309A A66F A674-A67D A69E-A69F A6F0-A6F1 "
    "A802 A806 A80B A825-A826 A8C4 A8E0-A8F1 A926-A92D A947-A951 A980-A982 A9B3 A9B6-A9B9 A9BC "
    "A9E5 AA29-AA2E AA31-AA32 AA35-AA36 AA43 AA4C AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 "
    "AAEC-AAED AAF6 ABE5 ABE8 ABED FB1E FE00-FE0F FE20-FE2F 101FD 102E0 10376-1037A 10A01-10A03 "
    "10A05-10A06 10A0C-10A0F 10A38-10A3A 10A3F 10AE5-10AE6 11001 11038-11046 1107F-11081 "
    "110B3-110B6 110B9-110BA 11100-11102 11127-1112B 1112D 11130-11134 11173 11180-11181 "
    "111B6-111BE 111CA-111CC 1122F-11231 11234 11236-11237 112DF 112E3-112EA 11300-11301 1133C "
    "11340 11366-1136C 11370-11374 114B3-114B8 114BA 114BF-114C0 114C2-114C3 115B2-115B5 "
    "115BC-115BD 115BF-115C0 115DC-115DD 11633-1163A 1163D 1163F-11640 116AB 116AD 116B0-116B5 "
    "116B7 1171D-1171F 11722-11725 11727-1172B 16AF0-16AF4 16B30-16B36 16F8F-16F92 1BC9D-1BC9E "
    "1D167-1D169 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 "
    "1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E8D0-1E8D6 E0100-E01EF "
)
_DECOMPOSABLE = (
    "C0-C5 C7-CF D1-D6 D9-DD E0-E5 E7-EF F1-F6 F9-FD FF-10F 112-125 128-130 134-137 139-13E "
    "143-148 14C-151 154-165 168-17E 1A0-1A1 1AF-1B0 1CD-1DC 1DE-1E3 1E6-1F0 1F4-1F5 1F8-21B "
    "21E-21F 226-233 340-341 343-344 374 37E 385-38A 38C 38E-390 3AA-3B0 3CA-3CE 3D3-3D4 "
    "400-401 403 407 40C-40E 419 439 450-451 453 457 45C-45E 476-477 4C1-4C2 4D0-4D3 4D6-4D7 "
    "4DA-4DF 4E2-4E7 4EA-4F5 4F8-4F9 622-626 6C0 6C2 6D3 929 931 934 958-95F 9CB-9CC 9DC-9DD "
    "9DF A33 A36 A59-A5B A5E B48 B4B-B4C B5C-B5D B94 BCA-BCC C48 CC0 CC7-CC8 CCA-CCB D4A-D4C "
    "DDA DDC-DDE F43 F4D F52 F57 F5C F69 F73 F75-F76 F78 F81 F93 F9D FA2 FA7 FAC FB9 1026 1B06 "
    "1B08 1B0A 1B0C 1B0E 1B12 1B3B 1B3D 1B40-1B41 1B43 1E00-1E99 1E9B 1EA0-1EF9 1F00-1F15 "
    "1F18-1F1D 1F20-1F45 1F48-1F4D 1F50-1F57 1F59 1F5B 1F5D 1F5F-1F7D 1F80-1FB4 1FB6-1FBC 1FBE "
    "1FC1-1FC4 1FC6-1FD3 1FD6-1FDB 1FDD-1FEF 1FF2-1FF4 1FF6-1FFD 2000-2001 2126 212A-212B "
    "219A-219B 21AE 21CD-21CF 2204 2209 220C 2224 2226 2241 2244 2247 2249 2260 2262 226D-2271 "
    "2274-2275 2278-2279 2280-2281 2284-2285 2288-2289 22AC-22AF 22E0-22E3 22EA-22ED 2329-232A "
    "2ADC 304C 304E 3050 3052 3054 3056 3058 305A 305C 305E 3060 3062 3065 3067 3069 3070-3071 "
    "3073-3074 3076-3077 3079-307A 307C-307D 3094 309E 30AC 30AE 30B0 30B2 30B4 30B6 30B8 30BA "
    "30BC 30BE 30C0 30C2 30C5 30C7 30C9 30D0-30D1 30D3-30D4 30D6-30D7 30D9-30DA 30DC-30DD 30F4 "
    "30F7-30FA 30FE AC00-D7A3 F900-FA0D FA10 FA12 FA15-FA1E FA20 FA22 FA25-FA26 FA2A-FA6D "
    "FA70-FAD9 FB1D FB1F FB2A-FB36 FB38-FB3C FB3E FB40-FB41 FB43-FB44 FB46-FB4E 1109A 1109C "
    "110AB 1112E-1112F 1134B-1134C 114BB-114BC 114BE 115BA-115BB 1D15E-1D164 1D1BB-1D1C0 "
    "2F800-2FA1D "
)
_NON_STARTER = (
    "300-33F 342 345-34E 350-36F 483-487 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 "
    "6D6-6DC 6DF-6E4 6E7-6E8 6EA-6ED 711 730-74A 7EB-7F3 816-819 81B-823 825-827 829-82D "
    "859-85B 8D4-8E1 8E3-8FF 93C 94D 951-954 9BC 9CD A3C A4D ABC ACD B3C B4D BCD C4D C55-C56 "
    "CBC CCD D4D DCA E38-E3A E48-E4B EB8-EB9 EC8-ECB F18-F19 F35 F37 F39 F71-F72 F74 F7A-F7D "
    "F80 F82-F84 F86-F87 FC6 1037 1039-103A 108D 135D-135F 1714 1734 17D2 17DD 18A9 1939-193B "
    "1A17-1A18 1A60 1A75-1A7C 1A7F 1AB0-1ABD 1B34 1B44 1B6B-1B73 1BAA-1BAB 1BE6 1BF2-1BF3 1C37 "
    "1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1DC0-1DF5 1DFB-1DFF 20D0-20DC 20E1 "
    "20E5-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302F 3099-309A A66F A674-A67D A69E-A69F A6F0-A6F1 "
    "A806 A8C4 A8E0-A8F1 A92B-A92D A953 A9B3 A9C0 AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAF6 "
    "ABED FB1E FE20-FE2F 101FD 102E0 10376-1037A 10A0D 10A0F 10A38-10A3A 10A3F 10AE5-10AE6 "
    "11046 1107F 110B9-110BA 11100-11102 11133-11134 11173 111C0 111CA 11235-11236 112E9-112EA "
    "1133C 1134D 11366-1136C 11370-11374 11442 11446 114C2-114C3 115BF-115C0 1163F 116B6-116B7 "
    "1172B 11C3F 16AF0-16AF4 16B30-16B36 1BC9E 1D165-1D169 1D16D-1D172 1D17B-1D182 1D185-1D18B "
    "1D1AA-1D1AD 1D242-1D244 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A "
    "1E8D0-1E8D6 1E944-1E94A "
)

# char::to_lowercase mappings (Unicode 16-17) that Python 3.11-3.13's str.lower() lacks:
# "first-last:target" maps first..last to target.. in order.
_LOWERCASE_EXTRA = (
    "1C89:1C8A A7CB:264 A7CC:A7CD A7CE:A7CF A7D2:A7D3 A7D4:A7D5 A7DA:A7DB A7DC:19B "
    "10D50-10D65:10D70 16EA0-16EB8:16EBB "
)
# bert.rs is_chinese_char: the CJK ideograph blocks that handle_chinese_chars pads with spaces.
_CHINESE = "3400-4DBF 4E00-9FFF F900-FAFF 20000-2A6DF 2A700-2B81F 2B920-2CEAF 2F800-2FA1F "
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
