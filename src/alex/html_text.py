"""From HTML to readable text: invisible elements dropped, then the main content.

The one path from HTML to text: the pages the researcher fetches and the ``.html`` files
``alex ingest`` reads go through ``html_page_text`` alike.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Final

_HIDDEN_STYLE: Final = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Elements whose content a reader never sees as text.
_INVISIBLE_TAGS: Final = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
)  # fmt: skip
_BLOCK_TAGS: Final = (
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section",
    "article", "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt",
    "figcaption", "caption", "main", "aside", "nav",
)  # fmt: skip


def _drop_invisible(tree: Any) -> None:
    """Remove what a reader never sees: scripts, templates, comments and hidden elements.

    Hidden text is a favourite place for instructions aimed at AI agents. Removing it is
    not a defence (visible text can say the same): the agent treats all page text as data.
    CSS in stylesheets (off-screen, white on white) is not evaluated.
    """
    doomed: list[Any] = list(tree.xpath("//comment() | //processing-instruction()"))
    for element in tree.iter(*_INVISIBLE_TAGS):
        doomed.append(element)
    for element in tree.xpath("//*[@hidden or @aria-hidden='true' or @style]"):
        hidden = element.get("hidden") is not None or element.get("aria-hidden") == "true"
        if hidden or _HIDDEN_STYLE.search(element.get("style") or ""):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent


def _tree_text(tree: Any) -> str:
    """Plain text of the page body, one line per block: the fallback when trafilatura
    finds no main content (short pages, lists, odd layouts)."""
    body = tree.find(".//body")
    root = tree if body is None else body
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in "".join(root.itertext()).splitlines())
    return "\n".join(line for line in lines if line)


def html_page_text(html: str, url: str | None = None) -> tuple[str | None, str]:
    """The title and the readable main content of an HTML page (boilerplate dropped).

    ``url`` (where the page came from) only helps trafilatura with metadata. A fragment or
    bare text, not a whole document, is converted block by block, all of it kept.
    """
    # trafilatura and lxml take about a second to import: only when a page is read.
    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is None:
        if not html.strip():
            return None, ""
        # Inside a whole document trafilatura parses anything; nothing is extracted from it.
        fragment = trafilatura.load_html(f"<html><body>{html}</body></html>")
        _drop_invisible(fragment)
        return _title(fragment, drop=True), _tree_text(fragment)
    _drop_invisible(tree)
    metadata = trafilatura.extract_metadata(copy.deepcopy(tree), default_url=url)
    title = metadata.title if metadata is not None and metadata.title else _title(tree)
    extracted = trafilatura.extract(
        copy.deepcopy(tree),  # trafilatura edits the tree it is given
        url=url,
        output_format="txt",
        include_comments=False,  # reader comments are not the article
        include_tables=True,  # financial pages put their numbers in tables
        include_links=False,
        include_images=False,
        # No deduplicate: its cache is process-wide, so a second fetch of a page would
        # lose the paragraphs the first one saw.
    )
    text = extracted if extracted and extracted.strip() else _tree_text(tree)
    return title, text.strip()


def _title(tree: Any, *, drop: bool = False) -> str | None:
    """The ``<title>``, whitespace collapsed; ``drop`` removes it from the text as well
    (in a fragment it sits among the text, not in a ``<head>``)."""
    element = tree.find(".//title")
    if element is None:
        return None
    title = " ".join(element.text_content().split()) or None
    if drop:
        element.drop_tree()
    return title
