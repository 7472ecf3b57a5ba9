"""The offline chat model: load time, prompt and generation speed, one schema-bound analysis.

    uv sync --extra local-llm
    uv run python -m bench.llm                        # the default model, one analysis
    uv run python -m bench.llm --runs 3 --show        # three analyses, print each answer
    uv run python -m bench.llm --gguf other.gguf      # any GGUF file instead

The analysis reads PAGE (a fictional company's quarterly results, ~700 words, with concrete
numbers) and answers with the researcher's own analysis schema through
``response_format`` ``json_schema`` (strict), as the researcher does. Every number in the
answer's prose is looked up on the page (``numbers_not_on_page``: invented or derived
figures); ``key_facts`` and ``risks_named`` count which of the page's headline facts and
named risks the answer has.
docs/offline-llm.md explains the results.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

PAGE_URL = "https://investors.calloway-instruments.example/news/q1-2026-results"
PAGE_TITLE = "Calloway Instruments Reports First Quarter 2026 Results"
PAGE = """\
Calloway Instruments Reports First Quarter 2026 Results

DAYTON, Ohio, April 30, 2026 -- Calloway Instruments Inc. (NYSE: CLWY), a maker of
industrial sensors and medical imaging equipment, today reported results for its first
quarter of fiscal 2026, which ended March 31, 2026.

First quarter highlights

Revenue was $412.6 million, up 8.3% from $381.0 million in the first quarter of 2025.
Organic revenue, which excludes the Brightwell Optics acquisition and currency effects,
grew 5.1%. Gross margin was 41.2%, compared with 39.8% a year earlier, as higher prices
and a better product mix more than offset higher freight costs. Operating income rose to
$57.9 million from $49.6 million, and operating margin widened to 14.0% from 13.0%.

Net income was $38.4 million, or $1.12 per diluted share, compared with $33.5 million,
or $0.97 per diluted share, in the prior-year quarter. Adjusted earnings per share, which
exclude acquisition costs of $3.1 million and amortization of intangible assets, were
$1.26.

Segment results

Industrial Sensors revenue was $231.5 million, up 6.4%, driven by demand for pressure and
flow sensors from semiconductor and water utility customers. The segment's operating
margin was 17.8%. Orders in the segment rose 9.0%, and its backlog reached $642 million.

Medical Imaging revenue was $118.7 million, up 13.9%. Brightwell Optics, acquired in
November 2025 for $148 million, contributed $9.8 million of revenue in the quarter.
Excluding Brightwell, Medical Imaging revenue grew 4.5%. The segment's operating margin was
9.6%, reduced by integration costs.

Services revenue was $62.4 million, up 6.1%, with recurring service contracts making up
71% of the segment's revenue.

Cash flow and balance sheet

Cash from operations was $61.7 million and capital expenditures were $17.6 million, for
free cash flow of $44.1 million. The company ended the quarter with $296.3 million of cash
and $510.0 million of total debt. Net debt was 1.1 times trailing adjusted EBITDA.

During the quarter Calloway repurchased 310,000 shares for $25.0 million. The board
declared a quarterly dividend of $0.24 per share, payable on May 22, 2026, to shareholders
of record on May 8, 2026. About $175 million remains under the share repurchase
authorization approved in 2024.

Outlook

Calloway raised its full-year 2026 revenue guidance to a range of $1.70 billion to $1.76
billion, from $1.66 billion to $1.74 billion previously. The company now expects adjusted
earnings per share of $5.05 to $5.25, up from $4.90 to $5.20. The outlook assumes an
exchange rate of 1.08 dollars per euro and no further acquisitions.

"Our teams delivered a strong start to the year," said Dana Whitfield, chief executive
officer. "Sensor orders were broad-based, and Brightwell is already opening doors with
hospital systems that did not buy from us before. We are raising our outlook while we keep
investing in new products."

Chief financial officer Marcus Osei added that higher prices should add about 2 percentage
points to revenue growth this year, while freight and component costs remain elevated.

Risks and other matters

Calloway's largest customer, a semiconductor equipment maker, accounted for 14% of
quarterly revenue. Currency movements reduced revenue by $6.2 million compared with the
prior-year quarter. In February the company began a voluntary recall of 1,900 ultrasound
probes made in 2024 because of a connector defect; the quarter includes a charge of $4.8
million for the recall. New tariffs on electronic components imported from Asia, if they
take effect as proposed in July 2026, could raise the cost of goods sold by about $12
million a year before any price increases. A supplier of image sensors has said it will
stop making one part in 2027, and the company is qualifying a second source.

Calloway employed 5,840 people at the end of the quarter, up from 5,310 a year earlier,
mostly because of the acquisition.

Conference call

Management will discuss the results on a conference call at 10:00 a.m. Eastern time on
April 30, 2026. A replay will be available on the investor relations website for 90 days.

Forward-looking statements in this release are subject to risks and uncertainties, including
demand in the semiconductor and health care markets, supply chain disruptions, tariffs and
currency exchange rates. Actual results may differ materially.
"""


def _analysis_schema() -> dict[str, Any]:
    """The researcher's own output schema, exactly as the Agents SDK sends it (strict)."""
    from agents import AgentOutputSchema

    from alex.research.analysis import AnalysisDraft

    return AgentOutputSchema(AnalysisDraft).json_schema()


ANALYSIS_SCHEMA: dict[str, Any] = _analysis_schema()

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "page_analysis", "strict": True, "schema": ANALYSIS_SCHEMA},
}

SYSTEM_PROMPT = (
    "You are a careful financial research assistant. You get one web page and write a "
    "short analysis of it as JSON. Use only facts stated on the page. Copy every number "
    "exactly as the page writes it, with its unit; never calculate, round or estimate a "
    "number that the page does not state. title: the page's headline. summary: two or three "
    "sentences. key_points: the most important facts, one short sentence (under 25 words) "
    "each. risks: the risks, problems and uncertainties the page reports (often near its "
    "end), one short sentence each. sources: the page's URL and title. as_of: the date the "
    "page was published, as YYYY-MM-DD."
)

# What a good analysis of PAGE mentions: headline facts (in the title, summary or key
# points) and the five risks the page names (in risks). Each is a set of alternatives.
KEY_FACTS = {
    "revenue": ("412.6",),
    "growth": ("8.3%",),
    "gross margin": ("41.2%",),
    "eps": ("1.12",),
    "guidance raised": ("1.70 billion", "$1.70"),
    "free cash flow": ("44.1",),
}
RISK_FACTS = {
    "largest customer": ("14%", "largest customer"),
    "currency": ("6.2 million", "currency"),
    "recall": ("recall",),
    "tariffs": ("tariff",),
    "supplier": ("supplier", "second source", "image sensor"),
}

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_DATE = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December) (\d{1,2}), (\d{4})\b"
)


def page_messages(page: str, url: str, title: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"URL: {url}\nTitle: {title}\n\nPage text:\n{page}"},
    ]


def _numbers(text: str) -> set[str]:
    return {match.replace(",", "") for match in _NUMBER.findall(text)}


def page_dates(page: str) -> set[str]:
    """The page's dates ("April 30, 2026") as ISO strings."""
    return {
        datetime.strptime(" ".join(parts), "%B %d %Y").date().isoformat()
        for parts in _DATE.findall(page)
    }


def check_analysis(analysis: dict[str, Any], page: str, url: str) -> dict[str, Any]:
    """Schema conformance, numbers not on the page, and whether as_of and the source are."""
    problems: list[str] = []
    for field, kind in (("title", str), ("summary", str), ("as_of", str)):
        if not isinstance(analysis.get(field), kind):
            problems.append(f"{field} missing")
    for field, most in (("key_points", 6), ("risks", 4)):
        items = analysis.get(field)
        if not isinstance(items, list) or len(items) > most:
            problems.append(f"{field} not a list of at most {most}")
    sources = analysis.get("sources")
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and set(s) == {"url", "title"} for s in sources
    ):
        problems.append("sources malformed")
    if set(analysis) - set(ANALYSIS_SCHEMA["properties"]):
        problems.append("extra fields")
    try:
        date.fromisoformat(str(analysis.get("as_of")))
    except ValueError:
        problems.append("as_of not a date")
    prose = " ".join(
        [str(analysis.get("title", "")), str(analysis.get("summary", ""))]
        + [str(item) for item in analysis.get("key_points", [])]
        + [str(item) for item in analysis.get("risks", [])]
    )
    invented = sorted(_numbers(prose) - _numbers(page), key=lambda n: (len(n), n))
    headline = " ".join(
        [str(analysis.get("title", "")), str(analysis.get("summary", ""))]
        + [str(item) for item in analysis.get("key_points", [])]
    ).lower()
    risks = " ".join(str(item) for item in analysis.get("risks", [])).lower()
    return {
        "schema_ok": not problems,
        "problems": problems,
        "numbers": len(_numbers(prose)),
        "numbers_not_on_page": invented,
        "key_facts": sum(any(a.lower() in headline for a in alts) for alts in KEY_FACTS.values()),
        "risks_named": sum(any(a.lower() in risks for a in alts) for alts in RISK_FACTS.values()),
        "as_of_on_page": analysis.get("as_of") in page_dates(page),
        "source_is_page": isinstance(sources, list)
        and any(isinstance(s, dict) and s.get("url") == url for s in sources),
    }


def analyse(
    client: Any,
    model: str,
    page: str = PAGE,
    url: str = PAGE_URL,
    title: str = PAGE_TITLE,
    *,
    max_tokens: int = 700,
    temperature: float = 0.0,
    seed: int = 0,
) -> dict[str, Any]:
    """One schema-bound analysis of ``page``: the parsed answer, the check and the timings."""
    started = time.perf_counter()
    response = client.chat.completions.create(
        model=model,
        messages=page_messages(page, url, title),
        response_format=RESPONSE_FORMAT,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        extra_body={"cache_prompt": False},
    )
    wall = time.perf_counter() - started
    content = response.choices[0].message.content or ""
    try:
        analysis = json.loads(content)
    except ValueError:
        analysis = {}
    timings = (response.model_extra or {}).get("timings", {})
    return {
        "wall_s": wall,
        "finish_reason": response.choices[0].finish_reason,
        "prompt_tokens": response.usage.prompt_tokens if response.usage else None,
        "completion_tokens": response.usage.completion_tokens if response.usage else None,
        "prompt_tok_per_s": timings.get("prompt_per_second"),
        "gen_tok_per_s": timings.get("predicted_per_second"),
        "analysis": analysis,
        "raw": content,
        "check": check_analysis(analysis, page, url) if analysis else {"schema_ok": False},
    }


def long_prompt(words: int, seed: int = 11) -> str:
    """The page followed by corpus paragraphs, about ``words`` words in all."""
    from tests.support.text import paragraph

    rng = random.Random(seed)
    parts = [PAGE]
    while sum(len(part.split()) for part in parts) < words:
        parts.append(paragraph(rng, 200))
    return "\n\n".join(parts)


def speed(client: Any, model: str, prompt_words: int = 4000) -> dict[str, Any]:
    """Prompt tokens/s over a long prompt (no cache) and free generation tokens/s."""
    prompt = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": long_prompt(prompt_words) + "\n\nSummarise."}],
        max_tokens=1,
        extra_body={"cache_prompt": False},
    )
    generation = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Write a 300-word essay about bond markets."}],
        max_tokens=160,
        temperature=0.7,
        seed=1,
        extra_body={"cache_prompt": False, "ignore_eos": True},
    )
    prompt_t = (prompt.model_extra or {}).get("timings", {})
    gen_t = (generation.model_extra or {}).get("timings", {})
    return {
        "long_prompt_tokens": prompt_t.get("prompt_n"),
        "long_prompt_s": (prompt_t.get("prompt_ms") or 0) / 1000,
        "prompt_tok_per_s": prompt_t.get("prompt_per_second"),
        "gen_tokens": gen_t.get("predicted_n"),
        "gen_tok_per_s": gen_t.get("predicted_per_second"),
    }


def run_llm(
    quick: bool = True,
    gguf: Path | None = None,
    runs: int = 1,
    temperature: float = 0.0,
    show: bool = False,
) -> dict[str, Any]:
    """The flat results dict, as bench/__main__.py's sections return."""
    import psutil
    from openai import OpenAI

    from alex.research.offline_model import OfflineModelServer, assemble_model, default_cache_dir

    results: dict[str, Any] = {}
    rss_before = psutil.Process().memory_info().rss
    if gguf is None:
        started = time.perf_counter()
        gguf = assemble_model(default_cache_dir())
        results["llm_assemble_or_reuse_s"] = time.perf_counter() - started
    results["llm_model"] = gguf.name
    results["llm_model_mb"] = gguf.stat().st_size / 1e6
    started = time.perf_counter()
    with OfflineModelServer(gguf) as llm:
        results["llm_load_s"] = time.perf_counter() - started
        results["llm_threads"] = llm.n_threads
        results["llm_rss_loaded_mb"] = (psutil.Process().memory_info().rss - rss_before) / 1e6
        client = OpenAI(base_url=llm.base_url, api_key=llm.api_key, max_retries=0, timeout=600)
        for key, value in speed(client, llm.model_name, 1500 if quick else 4000).items():
            results[f"llm_{key}"] = value
        invented: list[str] = []
        walls: list[float] = []
        for run in range(runs):
            answer = analyse(client, llm.model_name, temperature=temperature, seed=run)
            walls.append(answer["wall_s"])
            check = answer["check"]
            invented.extend(check.get("numbers_not_on_page", []))
            prefix = f"llm_analysis{run + 1}" if runs > 1 else "llm_analysis"
            results[f"{prefix}_wall_s"] = answer["wall_s"]
            results[f"{prefix}_prompt_tokens"] = answer["prompt_tokens"]
            results[f"{prefix}_completion_tokens"] = answer["completion_tokens"]
            results[f"{prefix}_finish"] = answer["finish_reason"]
            results[f"{prefix}_schema_ok"] = check.get("schema_ok")
            results[f"{prefix}_numbers"] = check.get("numbers")
            results[f"{prefix}_numbers_not_on_page"] = " ".join(
                check.get("numbers_not_on_page", [])
            )
            results[f"{prefix}_as_of_on_page"] = check.get("as_of_on_page")
            results[f"{prefix}_key_facts_of_{len(KEY_FACTS)}"] = check.get("key_facts")
            results[f"{prefix}_risks_named_of_{len(RISK_FACTS)}"] = check.get("risks_named")
            if show:
                print(json.dumps(answer["analysis"], indent=2) or answer["raw"], flush=True)
        results["llm_rss_after_mb"] = (psutil.Process().memory_info().rss - rss_before) / 1e6
        results["llm_analysis_mean_wall_s"] = sum(walls) / len(walls)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--gguf", type=Path, help="a GGUF file instead of the default model")
    parser.add_argument("--runs", type=int, default=1, help="analyses of the page (seeds 0..)")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--full", action="store_true", help="a ~4,000-word prompt, not 1,500")
    parser.add_argument("--show", action="store_true", help="print each analysis")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    results = run_llm(
        quick=not args.full,
        gguf=args.gguf,
        runs=args.runs,
        temperature=args.temperature,
        show=args.show,
    )
    width = max(len(key) for key in results)
    print("\nOffline model benchmark")
    for key, value in results.items():
        shown = f"{value:12.3f}" if isinstance(value, float) else f"{value!s:>12}"
        print(f"  {key:<{width}}  {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
