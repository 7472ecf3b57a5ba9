"""/docs works offline: Swagger UI's files come from the package, not from a CDN."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alex.config import Settings
from alex.http.app import create_app
from alex.services import Services

STATIC = Path(__file__).parents[2] / "src" / "alex" / "http" / "static" / "swagger-ui"


class _References(HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    services = Services(settings)
    with TestClient(create_app(services, "test-key-0123456789")) as test_client:
        yield test_client
    services.close()


def test_docs_names_no_other_host_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
    assert re.findall(r"(?:https?:)?//[\w.-]+", page.text) == []
    parser = _References()
    parser.feed(page.text)
    assets = {url.rsplit(".", 1)[-1]: url for url in parser.found}
    assert set(assets) == {"js", "css", "png"}, parser.found
    types = {"js": "javascript", "css": "text/css", "png": "image/png"}
    for kind, url in assets.items():
        assert url.startswith("/"), url
        # Open to a browser without the API key, like /docs itself.
        answer = TestClient(client.app).get(url)
        assert answer.status_code == 200, url
        assert types[kind] in answer.headers["content-type"], answer.headers
        assert len(answer.content) > 200


def test_the_page_does_not_ask_the_online_validator(client: TestClient) -> None:
    # Swagger UI's default validatorUrl is validator.swagger.io.
    assert '"validatorUrl": null' in client.get("/docs").text


def test_redoc_which_would_load_from_a_cdn_is_off(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


def test_the_vendored_files_come_with_their_licence_and_match_their_sums() -> None:
    names = {path.name for path in STATIC.iterdir()}
    assert {"LICENSE", "NOTICE", "swagger-ui-bundle.js", "swagger-ui.css"} <= names
    source = (STATIC / "SOURCE.md").read_text("utf-8")
    listed = dict(re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", source))
    assert set(listed) == names - {"SOURCE.md"}
    for name, sha256 in listed.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == sha256, name


def test_the_wheel_carries_the_static_files(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv builds the wheel")
    root = Path(__file__).parents[2]
    subprocess.run([uv, "build", "--wheel", "-q", "-o", str(tmp_path)], cwd=root, check=True)
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE"):
        assert f"alex/http/static/swagger-ui/{name}" in names
