"""Pages and notes as the model sees them: untrusted data, fenced and labelled.

Page text comes from the web and note text from the knowledge base; either may contain
instructions ("ignore previous instructions ..."). They reach the model only inside
``<page>``/``<note>`` elements that the instructions declare to be data, with anything that
could close the element escaped, so a page cannot step outside its fence.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from alex.domain.models import ChunkHit
from alex.research.fetch import FetchPolicy, Page, fetch_page


def _fence(text: str) -> str:
    # "<" is enough to neutralise every tag-like sequence, including "</page>".
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _attribute(text: str) -> str:
    return _fence(text).replace('"', "&quot;").replace("\n", " ")


def page_as_data(page: Page, limit: int) -> str:
    """One page as a fenced element, its text cut at ``limit`` characters."""
    text = page.text if len(page.text) <= limit else page.text[:limit] + " [...]"
    return (
        f'<page url="{_attribute(page.final_url)}" title="{_attribute(page.title or "")}">\n'
        f"{_fence(text)}\n</page>"
    )


def note_as_data(hit: ChunkHit) -> str:
    return f'<note document="{hit.document_id}">\n{_fence(hit.text)}\n</note>'


@dataclass
class PageReader:
    """Fetches pages under one policy for one run, remembering what was really read.

    Only pages read here may be cited: the analysis's sources are checked against
    :meth:`read_urls`. ``max_pages`` bounds what one run (and a model with a fetch tool)
    may read.
    """

    policy: FetchPolicy
    max_pages: int
    pages: list[Page] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, url: str) -> Page:
        with self._lock:
            for page in self.pages:
                if url in (page.url, page.final_url):
                    return page
            if len(self.pages) >= self.max_pages:
                raise ValueError(f"this run may read at most {self.max_pages} pages")
        page = fetch_page(url, policy=self.policy)
        with self._lock:
            self.pages.append(page)
        return page

    def read_urls(self) -> dict[str, Page]:
        """Every URL a read page answers to (as requested and after redirects)."""
        with self._lock:
            return {url: page for page in self.pages for url in (page.url, page.final_url)}
