"""Charts as files (``alex.planner.render``): SVG and PNG through vl-convert, and the
standalone HTML report that draws the same specs offline with the vendored Vega builds.

The report is opened in a real Chromium when one is installed (Debian's ``chromium``, as the
browser tests use): every chart must be drawn under the page's own Content-Security-Policy
(``script-src 'self'``, no ``'unsafe-eval'``, ``default-src 'none'``) with no violation, and
the same page with the expression interpreter switched off must be refused by that policy,
which proves that the policy is in force and that nothing else needs ``eval``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alex.domain.errors import ConfigError
from alex.planner import render
from alex.planner.charts import allocation_chart, drift_chart
from alex.portfolio.allocation import Allocation, Bucket, Dimension

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "alex" / "http" / "static"
HOSTILE = '</script><script>alert("x")</script> & <b>'


def allocation() -> Allocation:
    return Allocation(
        Dimension.ASSET_CLASS,
        "USD",
        (
            Bucket("equity", Decimal("112468.91"), Decimal("65.68")),
            Bucket("bond", Decimal("29775.2"), Decimal("17.39")),
            Bucket(HOSTILE, Decimal("28991.81"), Decimal("16.93")),
        ),
        (),
    )


def charts() -> dict[str, Any]:
    shares = allocation()
    targets = {"equity": Decimal(60), "bond": Decimal(40)}
    drift = {b.name: b.share - targets.get(b.name, Decimal(0)) for b in shares.buckets}
    return {
        "allocation_asset_class": allocation_chart(shares),
        "drift_asset_class": drift_chart(shares, targets, drift),
    }


def test_svg_has_the_titles_and_labels_as_text() -> None:
    svg = render.render_svg(charts()["allocation_asset_class"])
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "Allocation by asset class" in texts
    assert "Total 171,235.92 USD" in texts
    assert {"equity", "bond", "65.68%", "17.39%", "Value (USD)"} <= set(texts)
    # The hostile bucket name is text in the SVG, escaped, never markup.
    assert "<script>" not in svg and "&lt;/script&gt;" in svg


def test_png_is_an_image() -> None:
    png = render.render_png(charts()["drift_asset_class"], scale=1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000


def test_no_spec_can_fetch_anything() -> None:
    spec = dict(charts()["allocation_asset_class"], data={"url": "http://127.0.0.1:9/data.json"})
    with pytest.raises(ValueError, match="External data url not allowed"):
        render.render_svg(spec)


def write(folder: Path, images: bool = True) -> render.ReportFiles:
    return render.write_report(folder, charts(), title=f"Report {HOSTILE}", images=images)


def test_the_report_folder_opens_from_disk_with_nothing_from_outside(tmp_path: Path) -> None:
    files = write(tmp_path)
    page = files.html.read_text("utf-8")
    # No address anywhere in the page: no CDN, no schema URL, no protocol-relative source.
    assert not re.search(r"(?i)https?:|//[a-z0-9]", page.replace("<!doctype html>", ""))
    # Every file the page loads is beside it.
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert loaded and all((tmp_path / ref).is_file() for ref in loaded), loaded
    assert {Path(ref).name for ref in loaded} >= {*render.SCRIPTS, "report.css"}
    assert sorted(p.name for p in files.images) == sorted(
        f"{name}.{ext}" for name in charts() for ext in ("png", "svg")
    )
    # No inline script: every <script> either loads a file or is a JSON data block.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S):
        assert ('src="' in attributes and not body) or 'type="application/json"' in attributes
    assert f'content="{render.CSP}"' in page and "'unsafe-eval'" not in render.CSP


def test_the_data_blocks_hold_the_specs_and_escape_what_could_close_them(tmp_path: Path) -> None:
    page = write(tmp_path, images=False).html.read_text("utf-8")
    assert HOSTILE not in page and "<script>alert" not in page
    blocks = dict(
        re.findall(r'<script type="application/json" id="chart-([a-z_]+)">(.*?)</script>', page)
    )
    for name, spec in charts().items():
        expected = {k: v for k, v in spec.items() if k != "$schema"}
        assert json.loads(blocks[name]) == expected
    # The table under each chart has the same figures, escaped.
    assert (
        "<td>&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;</td>"
        in page
    )
    assert '<td class="number">112,468.91</td>' in page and "+5.68 pp" in page


def test_the_assets_are_the_vendored_files_with_the_recorded_sums(tmp_path: Path) -> None:
    files = write(tmp_path, images=False)
    sources = (STATIC / "vendor" / "SOURCE.md").read_text("utf-8")
    for copy in files.assets:
        part = "vendor" if copy.suffix == ".js" and copy.name.startswith("vega") else "charts"
        assert copy.read_bytes() == (STATIC / part / copy.name).read_bytes()
    for vendored in (STATIC / "vendor").glob("*"):
        if vendored.name != "SOURCE.md":
            digest = hashlib.sha256(vendored.read_bytes()).hexdigest()
            assert f"| `{vendored.name}` |" in sources and digest in sources, vendored.name


def test_the_script_draws_with_the_interpreter_and_never_evaluates_strings() -> None:
    script = (STATIC / "charts" / "alex-charts.js").read_text("utf-8")
    assert re.search(r"^\s*ast: true,", script, re.M)
    assert not re.search(r"\beval\(|new Function|innerHTML", script)
    assert "actions: false" in script  # no "open in the Vega editor": it posts the data away
    for own in (STATIC / "charts").iterdir():  # the report's own files name no address
        assert not re.search(r"(?i)https?:|url\(", own.read_text("utf-8")), own.name
    # vega-embed 7.0.2 hands the View its bundled interpreter when ast is set.
    embed = (STATIC / "vendor" / "vega-embed.min.js").read_text("utf-8")
    assert "expressionInterpreter??" in embed


def test_without_the_charts_extra_images_are_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # as if not installed
    with pytest.raises(ConfigError, match="--extra charts"):
        write(tmp_path / "with-images")
    assert not (tmp_path / "with-images").exists()
    assert write(tmp_path / "html-only", images=False).html.is_file()


# --- in a real browser --------------------------------------------------------------------
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)


def browse(page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran (Chromium headless, from disk)."""
    command = [CHROMIUM or "chromium", "--headless", "--disable-gpu", "--no-first-run"]
    command += [f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom"]
    if getattr(os, "geteuid", lambda: -1)() == 0:
        command.append("--no-sandbox")  # as root (CI's containers) Chromium needs it
    done = subprocess.run(
        [*command, page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_chromium_draws_every_chart_under_the_pages_policy(tmp_path: Path) -> None:
    files = write(tmp_path / "report", images=False)
    dom = browse(files.html, tmp_path / "profile")
    assert dom.count('data-drawn="true"') == len(charts()), dom[:2000]
    assert "data-csp-violations" not in dom
    assert "Allocation by asset class" in dom and "<svg" in dom

    # Control: the same page compiling expressions (ast: false) is refused by the policy.
    script = files.html.parent / "assets" / "alex-charts.js"
    script.write_text(script.read_text("utf-8").replace("ast: true,", "ast: false,"), "utf-8")
    refused = browse(files.html, tmp_path / "profile-eval")
    assert 'data-drawn="true"' not in refused
    assert "unsafe-eval" in refused and "data-csp-violations" in refused
