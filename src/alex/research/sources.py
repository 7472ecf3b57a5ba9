"""Pages and notes as the model sees them: untrusted data, fenced and labelled.

Page text comes from the web and note text from the knowledge base; either may contain
instructions ("ignore previous instructions ..."). They reach the model only inside
``<page>``/``<note>`` elements that the instructions declare to be data, with anything that
could close the element escaped, so a page cannot step outside its fence.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from alex.domain.models import ChunkHit
from alex.research.analysis import CHECKED
from alex.research.fetch import FetchPolicy, Page, fetch_page
from alex.research.injection import instruction_like


def fence(text: str) -> str:
    # "<" is enough to neutralise every tag-like sequence, including "</page>".
    return text.replace("&", "&amp;").replace("<", "&lt;")


def attribute(text: str) -> str:
    return fence(text).replace('"', "&quot;").replace("\n", " ")


def note_as_data(hit: ChunkHit) -> str:
    """A recalled note, marked with whether Alex checked its figures: background, never a
    source (points cite page sentences only), its instruction-like lines left out."""
    state = "checked" if hit.metadata.get("verification") == CHECKED else "unchecked"
    text = "\n".join(line for line in hit.text.splitlines() if not instruction_like(line))
    return (
        f'<note document="{attribute(hit.document_id)}" verification="{state}">\n'
        f"{fence(text)}\n</note>"
    )


@dataclass
class PageReader:
    """Fetches pages under one policy for one run, remembering what was really read.

    Only pages read here may be cited: the analysis's sources are checked against
    :meth:`read_urls`. ``max_pages`` bounds what one run (and a model with a fetch tool)
    may read. Reads may run on several threads at once: a URL already being fetched is
    waited for, not fetched again, and fetches under way count against the budget.
    """

    policy: FetchPolicy
    max_pages: int
    pages: list[Page] = field(default_factory=list)
    _by_url: dict[str, Page] = field(default_factory=dict)
    _in_flight: dict[str, Future[Page]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, url: str) -> Page:
        with self._lock:
            if url in self._by_url:
                return self._by_url[url]
            pending = self._in_flight.get(url)
            if pending is None:
                if len(self.pages) + len(self._in_flight) >= self.max_pages:
                    raise ValueError(f"this run may read at most {self.max_pages} pages")
                fetching = self._in_flight[url] = Future()
        if pending is not None:
            return pending.result()
        try:
            page = fetch_page(url, policy=self.policy)
        except BaseException as error:
            with self._lock:
                del self._in_flight[url]
            fetching.set_exception(error)
            raise
        with self._lock:
            del self._in_flight[url]
            # Two URLs may redirect to one page: keep it once, answering to both.
            kept = self._by_url.get(page.final_url)
            if kept is None:
                self.pages.append(page)
                kept = page
            self._by_url.update({url: kept, page.url: kept, page.final_url: kept})
        fetching.set_result(kept)
        return kept

    def read_urls(self) -> dict[str, Page]:
        """Every URL a read page answers to (as requested and after redirects)."""
        with self._lock:
            return dict(self._by_url)
