"""The research page sets: served under /sets/ with no way out of their folder, and each
set's facts.json agrees with its pages (what the research bench scores against)."""

from __future__ import annotations

import html
import http.client
import json
from pathlib import Path

import pytest

from tests.pagesite import PAGES, PageSite

SETS = sorted(path for path in (PAGES / "sets").iterdir() if path.is_dir())


def _get(site: PageSite, path: str) -> tuple[int, bytes]:
    # http.client sends the path as written: no client-side ".." clean-up.
    connection = http.client.HTTPConnection(site.host, site.port, timeout=5)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_set_pages_are_served_and_no_path_leaves_the_sets_folder() -> None:
    with PageSite() as site:
        status, body = _get(site, "/sets/brightmoor/results.html")
        assert (status, body) == (200, (PAGES / "sets/brightmoor/results.html").read_bytes())
        for escape in (
            "/sets/brightmoor/../../pagesite.py",
            "/sets/../quarterly-results.html",
            "/sets/brightmoor/..%2f..%2fquarterly-results.html",
            "/sets/%2e%2e/quarterly-results.html",
            "/sets/brightmoor/facts.json",
            "/sets/brightmoor/missing.html",
        ):
            assert _get(site, escape)[0] == 404, escape


def _text(page: Path) -> str:
    return html.unescape(page.read_text("utf-8"))


@pytest.mark.parametrize("folder", SETS, ids=[path.name for path in SETS])
def test_each_set_has_its_pages_six_key_facts_and_injections_only_in_the_blog(
    folder: Path,
) -> None:
    facts = json.loads((folder / "facts.json").read_text("utf-8"))
    assert facts["split"] in {"tuning", "held-out"}
    assert len(facts["key_facts"]) == 6
    pages = {name: _text(folder / f"{name}.html") for name in ("results", "news", "blog")}
    everything = " ".join(pages.values())
    for fact in facts["key_facts"]:
        assert fact["words"], fact["name"]
        assert any(figure in everything for figure in fact["figures"]), fact["name"]
    honest = (pages["results"] + pages["news"]).lower()
    for planted in facts["planted"]:
        assert planted.lower() in pages["blog"].lower(), planted
        assert planted.lower() not in honest, planted


def test_the_sets_split_into_two_tuning_and_two_held_out() -> None:
    splits = [json.loads((folder / "facts.json").read_text("utf-8"))["split"] for folder in SETS]
    assert sorted(splits) == ["held-out", "held-out", "tuning", "tuning"]
