"""Every picture the README shows is in the repository, is a PNG, and is small (the
screenshots are committed: scripts/make_screenshots.py writes them under this limit)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 150_000  # bytes, as scripts/make_screenshots.py
PNG = b"\x89PNG\r\n\x1a\n"
# Markdown images, ![alt](path "title"), and HTML <img src="path">.
LINKS = re.compile(r"!\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img\s[^>]*src=[\"']([^\"']+)[\"']")


def linked_images(markdown: str) -> list[str]:
    return [markdown_link or html_link for markdown_link, html_link in LINKS.findall(markdown)]


def test_the_link_pattern_finds_markdown_and_html_images() -> None:
    text = (
        '![a](docs/a.png) a [link](docs/ui.md) ![b](docs/b.png "title")\n'
        '<img alt="c" width="300" src="docs/c.png">'
    )
    assert linked_images(text) == ["docs/a.png", "docs/b.png", "docs/c.png"]


def test_every_image_the_readme_links_is_a_small_png_in_the_repository() -> None:
    images = linked_images((ROOT / "README.md").read_text("utf-8"))
    assert images, "the README shows the pages' screenshots"
    for link in images:
        assert "://" not in link, f"{link}: a picture from the web is not in the repository"
        path = ROOT / link
        assert path.is_file(), f"{link}: no such file"
        data = path.read_bytes()
        assert data.startswith(PNG), f"{link}: not a PNG"
        assert len(data) <= LIMIT, f"{link}: {len(data):,} bytes, over {LIMIT:,}"
