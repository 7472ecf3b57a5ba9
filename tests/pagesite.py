"""A loopback web server for tests that fetch pages: the fixture pages plus awkward answers.

    with serve_pages() as base_url:            # just the base URL, e.g. http://127.0.0.1:41234
        fetch_page(f"{base_url}/market-news.html", policy=...)

    with PageSite() as site:                   # the base URL, host:port, and a request log
        site.url("/redirect?to=/quarterly-results.html"); site.host_port; site.requests

Only 127.0.0.1 (or ``::1``) is used, on a free port, so a fetcher must allow-list
``site.host_port`` to read it. Routes:

- ``/<name>.html``: ``tests/fixtures/pages/<name>.html`` as text/html; charset=utf-8
- ``/sets/<set>/<page>.html``: ``tests/fixtures/pages/sets/<set>/<page>.html`` (the research
  page sets: ``results``, ``news``, ``blog``); names are lower-case letters, digits and
  hyphens only, so no path can leave that folder
- ``/redirect?to=URL[&status=302]``: a redirect to URL (absolute or relative)
- ``/loop``: redirects to itself; ``/chain/N``: N redirects, then a small page
- ``/big?bytes=N[&length=0]``: an HTML page of N bytes (``length=0``: no Content-Length)
- ``/gzip``: a gzip-compressed page; ``/gzip-bomb?mb=N``: N MB of HTML, gzipped to a few KB
- ``/slow?delay=S``: waits S seconds before answering; ``/drip?seconds=S``: answers at once,
  then sends one byte every 0.1 s for S seconds
- ``/pdf``, ``/image.png``, ``/octet``: non-HTML types
- ``/no-content-type``: an HTML page without a Content-Type header
- ``/bad-charset``: declares UTF-8 but has invalid UTF-8 bytes
- ``/unknown-charset``: declares a charset that does not exist (body in windows-1252)
- ``/meta-charset``: no charset in the header, ``<meta charset="windows-1252">`` in the page
- ``/plain.txt``: text/plain; ``/xhtml``: application/xhtml+xml with an XML declaration
- ``/tiny``: a very short page; ``/empty``: an empty text/html body
- ``/status/CODE``: that status; ``/echo``: the Host and User-Agent it received, as text
"""

from __future__ import annotations

import gzip
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).parent / "fixtures" / "pages"
# A set page's path: plain names only ("..", "%2e", "/" and "\\" cannot match).
SET_PAGE = re.compile(r"/sets/([a-z0-9-]+)/([a-z0-9-]+\.html)")

TINY_PAGE = b"<html><head><title>Tiny</title></head><body><p>Hello from a tiny page.</p></body>"
# Declared UTF-8; "caf\xe9" is latin-1 and "\xff\xfe" is no UTF-8 at all.
BAD_CHARSET_PAGE = (
    b"<!DOCTYPE html><html><head><title>Bad bytes</title></head><body><article>"
    b"<p>The caf\xe9 chain reported sales of $12.4 million \xff\xfe in the quarter to "
    b"September 2026, up 8% from a year earlier, and kept its dividend at 14 cents.</p>"
    b"</article></body></html>"
)
WINDOWS_1252_TEXT = (
    "Résumé of the quarter: the café group earned €4.2 million, its “best” quarter since "
    "2019. Net debt fell to €31 million; the board proposed a dividend of €0.12 per share. "
) * 4
# windows-1252 bytes, said only by a <meta charset> (the header names no charset).
META_CHARSET_PAGE = (
    '<html><head><meta charset="windows-1252"><title>Meta</title></head>'
    f"<body><article><p>{WINDOWS_1252_TEXT}</p></article></body></html>"
).encode("cp1252")
PLAIN_TEXT = (
    "Corvane Instruments: Q3 2026 fact sheet\n\n"
    "Revenue: $412.6 million (+14.2%)\nGross margin: 58.4%\nDiluted EPS: $1.38\n"
)
XHTML_PAGE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
    b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>XHTML filing</title></head>'
    b"<body><p>The XHTML filing reports total assets of $2.3 billion at 30 September 2026."
    b"</p></body></html>"
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class Recorded:
    """One request the site received."""

    method: str
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow answer never holds up the end of a test

    def __init__(self, host: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        super().__init__((host, 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a fetcher that gives up mid-answer (size, timeout) is what the tests want


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append(Recorded("GET", self.path, headers))
        parts = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        path = parts.path
        set_page = SET_PAGE.fullmatch(path)
        if path.endswith(".html") and "/" not in path[1:]:
            self._page(PAGES / path[1:])
        elif set_page:
            self._page(PAGES / "sets" / set_page[1] / set_page[2])
        elif path == "/redirect":
            self._redirect(query.get("to", "/"), int(query.get("status", "302")))
        elif path == "/loop":
            self._redirect("/loop", 302)
        elif path.startswith("/chain/"):
            left = int(path.removeprefix("/chain/"))
            if left > 0:
                self._redirect(f"/chain/{left - 1}", 302)
            else:
                self._send(200, b"<html><body><p>The end of the redirect chain.</p></body></html>")
        elif path == "/big":
            self._big(int(query.get("bytes", "3000000")), query.get("length") != "0")
        elif path == "/gzip":
            body = gzip.compress((PAGES / "market-news.html").read_bytes())
            self._send(200, body, headers={"Content-Encoding": "gzip"})
        elif path == "/gzip-bomb":
            size = int(query.get("mb", "20")) * 1_000_000
            padding = b" " * (size - 60)
            body = gzip.compress(b"<html><body><p>" + padding + b"</p></body></html>", 9)
            self._send(200, body, headers={"Content-Encoding": "gzip"})
        elif path == "/slow":
            if not self.server.stopping.wait(float(query.get("delay", "5"))):
                self._send(200, TINY_PAGE)
        elif path == "/drip":
            self._drip(float(query.get("seconds", "5")))
        elif path == "/pdf":
            self._send(200, PDF_BYTES, "application/pdf")
        elif path == "/image.png":
            self._send(200, PNG_BYTES, "image/png")
        elif path == "/octet":
            self._send(200, b"\x00\x01\x02", "application/octet-stream")
        elif path == "/no-content-type":
            self._send(200, (PAGES / "market-news.html").read_bytes(), content_type=None)
        elif path == "/bad-charset":
            self._send(200, BAD_CHARSET_PAGE, "text/html; charset=utf-8")
        elif path == "/unknown-charset":
            markup = f"<html><body><article><p>{WINDOWS_1252_TEXT}</p></article></body></html>"
            self._send(200, markup.encode("cp1252"), "text/html; charset=x-no-such-charset")
        elif path == "/meta-charset":
            self._send(200, META_CHARSET_PAGE, "text/html")
        elif path == "/plain.txt":
            self._send(200, PLAIN_TEXT.encode(), "text/plain; charset=utf-8")
        elif path == "/xhtml":
            self._send(200, XHTML_PAGE, "application/xhtml+xml")
        elif path == "/tiny":
            self._send(200, TINY_PAGE)
        elif path == "/empty":
            self._send(200, b"")
        elif path.startswith("/status/"):
            code = int(path.removeprefix("/status/"))
            self._send(code, f"<html><body><p>Status {code}</p></body></html>".encode())
        elif path == "/echo":
            host = self.headers.get("Host", "")
            agent = self.headers.get("User-Agent", "")
            self._send(200, f"Host: {host}\nUser-Agent: {agent}\n".encode(), "text/plain")
        else:
            self._send(404, b"<html><body><p>Not found</p></body></html>")

    def _page(self, page: Path) -> None:
        if page.is_file():
            self._send(200, page.read_bytes())
        else:
            self._send(404, b"<html><body><p>Not found</p></body></html>")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _big(self, size: int, with_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if with_length:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")  # the body ends when the socket closes
            self.close_connection = True
        self.end_headers()
        line = b"<p>" + b"Revenue grew in every region. " * 30 + b"</p>\n"
        sent = 0
        while sent < size:
            chunk = line[: size - sent]
            self.wfile.write(chunk)
            sent += len(chunk)

    def _drip(self, seconds: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(b"<html><body><p>")
        self.wfile.flush()
        for _ in range(int(seconds * 10)):
            if self.server.stopping.wait(0.1):
                return
            self.wfile.write(b".")
            self.wfile.flush()
        self.wfile.write(b"</p></body></html>")


class PageSite:
    """The fixture web server, running in a thread while the ``with`` block lasts."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _Server(host)
        self._thread = threading.Thread(
            # A short poll: shutdown() waits up to one interval, once per test.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self.host = host
        self.port: int = self._server.server_address[1]
        self.host_port = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.base_url = f"http://{self.host_port}"

    @property
    def requests(self) -> list[Recorded]:
        return self._server.requests

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else f"/{path}")

    def __enter__(self) -> PageSite:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve_pages(host: str = "127.0.0.1") -> Iterator[str]:
    """Run the fixture site on ``host`` and a free port; yield its base URL (no slash)."""
    with PageSite(host) as site:
        yield site.base_url
