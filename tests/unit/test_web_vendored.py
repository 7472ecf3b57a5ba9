"""The web pages' vendored files: each is the one its SOURCE.md pins (sha256), and axe-core
(test-only) is neither in the package nor served by the app."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alex.config import load_settings
from alex.http.app import create_app
from alex.services import Services

ROOT = Path(__file__).resolve().parents[2]
HTMX = ROOT / "src" / "alex" / "web" / "static" / "vendor" / "htmx"
AXE = ROOT / "tests" / "browser" / "vendor" / "axe-core"
ROW = re.compile(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", re.MULTILINE)


@pytest.mark.parametrize("folder", [HTMX, AXE], ids=["htmx", "axe-core"])
def test_every_vendored_file_is_the_one_source_md_pins(folder: Path) -> None:
    pinned = dict(ROW.findall((folder / "SOURCE.md").read_text("utf-8")))
    present = {p.name for p in folder.iterdir() if p.name != "SOURCE.md"}
    assert pinned and set(pinned) == present
    for name, digest in pinned.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_axe_core_is_test_only() -> None:
    assert not list((ROOT / "src").rglob("axe*.js"))
    app = create_app(Services(load_settings()), "vendored-key-0123456789")
    with TestClient(app) as client:
        assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
        for path in ("/static/vendor/axe-core/axe.min.js", "/static/axe.min.js"):
            assert client.get(path).status_code == 404
