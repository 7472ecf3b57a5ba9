"""Take the README's screenshots of the web pages (docs/images/screenshot-*.png).

One-off script, run by hand after a change to how the pages look; its PNGs are committed so
the README shows the pages without running anything::

    uv run python -m scripts.make_screenshots    # from the repository root

It starts ``alex serve`` as the browser tests do (``tests.support.server.AlexServer``: a
temporary data folder, a key of its own) with the bundled samples, which ``alex serve``
loads into an empty store as on a first run, sets the browser tests' asset-class target (so
the dashboard has drift to draw) and the projection inputs of the README's
``alex portfolio project`` example (age 45, 10,000 a year paid in, 40,000 a year spent), signs
in through the form in Chromium (started as the browser tests start it) and photographs one
viewport of each page: the top of the dashboard, the retirement page from its outcome (the
success probability and the fan chart). Chromium's PNGs of these pages are 50-100 KB; a
picture over ``LIMIT`` is refused rather than written, naming its size.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any

from tests.support.browser import chromium_options
from tests.support.server import AlexServer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
LIMIT = 150_000  # bytes a picture; tests/unit/test_readme_images.py checks the README's
# (file name, path, element at the top or None, viewport width, height): desktop 1280 x 800,
# a phone 375 x 812.
SHOTS: tuple[tuple[str, str, str | None, int, int], ...] = (
    ("screenshot-dashboard.png", "/", None, 1280, 800),
    ("screenshot-retirement.png", "/retirement", "#projection", 1280, 800),
    ("screenshot-dashboard-phone.png", "/", None, 375, 812),
)
PROJECTION = {"birth_year": 1981, "contribution": "10000", "spending": "40000"}
TARGET = {"equity": "60", "bond": "30", "cash": "10"}


def shoot(page: Any, url: str, top: str | None, width: int, height: int) -> bytes:
    """One viewport of the page at ``url``, from the element ``top`` when given."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    page.wait_for_load_state("networkidle")
    # Charts are drawn by script after the load: wait until each one says it is done.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')]"
        ".every(c => c.dataset.drawn === 'true')"
    )
    if top is None:
        png: bytes = page.screenshot(full_page=False)
        return png
    box = page.locator(top).bounding_box()
    clip = {"x": 0, "y": max(0, box["y"] - 16), "width": width, "height": height}
    png = page.screenshot(full_page=True, clip=clip)
    return png


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="alex-screenshots-") as folder:
        server = AlexServer(Path(folder), secrets.token_urlsafe(24), samples=True).start()
        try:
            with server.client(timeout=60) as client:
                client.put(
                    "/portfolio/targets/asset_class", json={"weights": TARGET}
                ).raise_for_status()
                client.put(
                    "/portfolio/settings", json={"projection": PROJECTION}
                ).raise_for_status()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(**chromium_options())
                page = browser.new_page()
                page.goto(f"{server.url}/login")
                page.get_by_label("API key").fill(server.api_key or "")
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{server.url}/")
                OUT.mkdir(parents=True, exist_ok=True)
                for name, path, top, width, height in SHOTS:
                    png = shoot(page, server.url + path, top, width, height)
                    if len(png) > LIMIT:
                        raise SystemExit(f"{name}: {len(png):,} bytes, over {LIMIT:,}")
                    (OUT / name).write_bytes(png)
                    print(f"wrote docs/images/{name} ({len(png):,} bytes)")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
