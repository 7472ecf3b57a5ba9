from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfWriter

from alex.domain.errors import InvalidInputError
from alex.html_text import html_page_text
from alex.loaders import expand_paths, load_file, load_upload, split_front_matter
from alex.research.fetch import FetchPolicy, fetch_page
from tests.pagesite import META_CHARSET_PAGE, PAGES, PageSite

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_front_matter_becomes_metadata() -> None:
    metadata, body = split_front_matter(
        "---\ntitle: Northwind\nticker: NWSC\ntickers: NWSC, ABC\n---\n# Body\ntext"
    )
    assert metadata == {"title": "Northwind", "ticker": "NWSC", "tickers": ["NWSC", "ABC"]}
    assert body == "# Body\ntext"


def test_text_without_front_matter_is_untouched() -> None:
    assert split_front_matter("no --- here\n---\n") == ({}, "no --- here\n---\n")


def test_html_keeps_readable_text_only() -> None:
    title, text = html_page_text(
        "<html><head><title>Q3 &amp; outlook</title><style>p{}</style></head><body>"
        "<script>alert('x')</script><h1>Results</h1><p>Revenue rose&nbsp;5%.</p>"
        "<ul><li>one</li><li>two</li></ul></body></html>"
    )
    assert title == "Results"  # trafilatura's title: og:title, then a lone <h1>, then <title>
    assert text == "Results\nRevenue rose 5%.\none\ntwo"
    assert "alert" not in text


def test_an_html_fragment_keeps_all_its_visible_text() -> None:
    fragment = "<title>Note</title><p>first</p><script>x()</script><p hidden>no</p>tail"
    assert html_page_text(fragment) == ("Note", "first\ntail")
    assert html_page_text("  ") == (None, "")


@pytest.mark.parametrize(
    "name", ["quarterly-results.html", "market-news.html", "prompt-injection.html"]
)
def test_a_local_html_file_reads_as_the_same_page_fetched(site: PageSite, name: str) -> None:
    fetched = fetch_page(site.url(f"/{name}"), policy=FetchPolicy(allow_hosts={site.host_port}))
    loaded = load_file(PAGES / name)
    assert loaded.text == fetched.text
    assert loaded.metadata.get("title") == fetched.title


def test_a_local_html_file_is_decoded_as_the_page_fetched(site: PageSite, tmp_path: Path) -> None:
    # windows-1252, said only by <meta charset>: a browser reads it, and so does Alex.
    fetched = fetch_page(
        site.url("/meta-charset"), policy=FetchPolicy(allow_hosts={site.host_port})
    )
    (tmp_path / "meta.html").write_bytes(META_CHARSET_PAGE)
    loaded = load_file(tmp_path / "meta.html")
    assert "the café group earned €4.2 million" in loaded.text
    assert (loaded.text, loaded.metadata["title"]) == (fetched.text, fetched.title)


def test_bundled_samples_load_with_their_metadata() -> None:
    files = list(expand_paths([SAMPLES]))
    assert len(files) >= 10
    assert all(f.name.lower() != "readme.md" for f in files)
    loaded = [load_file(f) for f in files]
    assert all(item.text.strip() and "---" not in item.text[:3] for item in loaded)
    assert all(item.metadata["file"] == item.path.name for item in loaded)
    assert any("ticker" in item.metadata for item in loaded)


def test_a_pdf_without_text_is_a_clear_error(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(InvalidInputError, match="no extractable text"):
        load_file(path)


def test_unsupported_and_binary_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.docx").write_bytes(b"PK\x03\x04")
    with pytest.raises(InvalidInputError, match="unsupported"):
        load_file(tmp_path / "a.docx")
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidInputError, match="UTF-8"):
        load_file(tmp_path / "b.txt")
    with pytest.raises(InvalidInputError, match="no such file"):
        list(expand_paths([tmp_path / "missing.md"]))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("note.md", b"\xef\xbb\xbf---\r\ntitle: Kelp\r\n---\r\nLine one.\r\nLine two.\r"),
        ("page.html", b"<html><title>Tide</title><body><p>Tidal power.</p></body></html>"),
        ("plain.txt", "caf\u00e9 \u20ac".encode()),
    ],
)
def test_an_upload_reads_as_the_same_file_on_disk(tmp_path: Path, name: str, data: bytes) -> None:
    """A page's upload and `alex ingest` store the same text and metadata (so the same id)."""
    (tmp_path / name).write_bytes(data)
    on_disk, uploaded = load_file(tmp_path / name), load_upload(name, data)
    assert (uploaded.text, uploaded.metadata) == (on_disk.text, on_disk.metadata)


def test_an_upload_keeps_only_its_file_name_and_is_refused_by_type() -> None:
    assert load_upload("C:\\Users\\me\\notes.txt", b"x").metadata["file"] == "notes.txt"
    assert load_upload("../../etc/notes.txt", b"x").path == Path("notes.txt")
    with pytest.raises(InvalidInputError, match=r"^tool.exe: unsupported file type"):
        load_upload("tool.exe", b"MZ")
    with pytest.raises(InvalidInputError, match=r"^scan.pdf: not a readable PDF"):
        load_upload("scan.pdf", b"not a pdf")
