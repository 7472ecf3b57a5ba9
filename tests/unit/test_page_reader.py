"""PageReader under concurrent reads: one fetch per URL, one page per final URL, a hard budget."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from alex.domain.errors import AlexError
from alex.research.fetch import FetchPolicy, FetchRefusedError
from alex.research.sources import PageReader
from tests.pagesite import PageSite


def reader_for(site: PageSite, max_pages: int) -> PageReader:
    return PageReader(FetchPolicy(allow_hosts={site.host_port}), max_pages)


def fetched(site: PageSite, path: str) -> int:
    return sum(1 for request in site.requests if request.path == path)


def test_concurrent_reads_of_one_url_fetch_it_once(site: PageSite) -> None:
    reader = reader_for(site, max_pages=1)
    url = site.url("/slow?delay=0.5")
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(reader.read, [url] * 4))
    assert fetched(site, "/slow?delay=0.5") == 1
    assert all(page is pages[0] for page in pages)
    assert reader.pages == [pages[0]]


def test_fetches_under_way_count_against_the_budget(site: PageSite) -> None:
    reader = reader_for(site, max_pages=2)
    urls = [site.url(f"/slow?delay=0.5&n={n}") for n in range(4)]

    def outcome(url: str) -> str:
        try:
            reader.read(url)
        except ValueError as error:
            return str(error)
        return "read"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(outcome, urls))
    assert sorted(outcomes) == ["read", "read"] + ["this run may read at most 2 pages"] * 2
    assert len(reader.pages) == 2
    assert sum(1 for request in site.requests if request.path.startswith("/slow")) == 2


def test_urls_redirecting_to_one_page_keep_it_once_and_both_may_be_cited(site: PageSite) -> None:
    reader = reader_for(site, max_pages=3)
    first = site.url("/redirect?to=/quarterly-results.html")
    second = site.url("/redirect?to=/quarterly-results.html&status=301")
    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(reader.read, [first, second]))
    assert pages[0] is pages[1]
    assert len(reader.pages) == 1
    read = reader.read_urls()
    assert {first, second, site.url("/quarterly-results.html")} <= read.keys()


def test_a_failed_fetch_reaches_every_waiter_and_spends_no_budget(site: PageSite) -> None:
    quick = FetchPolicy(allow_hosts={site.host_port}, total_timeout=0.5, read_timeout=0.5)
    reader = PageReader(quick, max_pages=1)
    url = site.url("/drip?seconds=5")
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(reader.read, url) for _ in range(3)]
    for future in futures:
        with pytest.raises(AlexError, match="total time limit"):
            future.result()
    assert fetched(site, "/drip?seconds=5") == 1
    assert reader.pages == [] and reader.read_urls() == {}
    assert reader.read(site.url("/tiny")).title == "Tiny"  # the failure spent no budget


def test_a_malformed_url_is_a_refusal_and_spends_no_budget(site: PageSite) -> None:
    reader = reader_for(site, max_pages=1)
    # idna raised from inside httpx here, which no caller caught: a research job's 500.
    with pytest.raises(FetchRefusedError, match="not a valid URL"):
        reader.read("http://xn--localhost-:18500/")
    assert reader.read(site.url("/tiny")).title == "Tiny"
