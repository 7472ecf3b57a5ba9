"""The web pages behind API Gateway, in process: the researcher image's door
(``alex.http.research_cloud``: the FastAPI app through Mangum) answers events shaped as API
Gateway sends them for the unkeyed ``/app`` and ``/app/{proxy+}`` methods on the stage
``dev``. A small cookie jar plays the browser: it keeps a cookie only for its ``Path``.

What is checked: every link, form, redirect and the session cookie carry the stage prefix
(``/dev/app/...``); the cookie is ``Secure`` (Mangum's scheme is API Gateway's
``X-Forwarded-Proto``, else https); sign-in takes the API's real key (read from API Gateway
on moto by the key's id) and nothing else; the pages' files answer with their exact bytes;
an upload that API Gateway hands over base64-encoded (``multipart/form-data`` is a binary
media type of the API) arrives byte for byte. The API Gateway side (which methods are keyed)
is test_serverless.py's, from the packaged templates.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import boto3
import httpx
import pytest
from moto import mock_aws

from alex.adapters import aws_clients
from alex.config import Settings
from alex.http import research_cloud as cloud
from alex.http.research_cloud import PAGES_PREFIX, CloudResearcher, stage_root_path
from alex.planner.render import STATIC as CHART_STATIC
from alex.ports import ClaimingJobStore
from alex.services import Services
from alex.web.charts import ASSETS_PATH
from alex.web.identity import COOKIE_NAME
from alex.web.pages import STATIC
from tests.fakes import FakeEmbedder, InMemoryVectorStore

from .helpers import ROOT, SERVICES
from .test_service_config import config

KEY = "the-apis-real-key-0123456789abcdefghij"
STAGE = "dev"
HOST = "a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com"
ORIGIN = f"https://{HOST}"
REGION = "eu-west-2"
LINK = re.compile(r'\b(?:href|src|action|hx-get|hx-post|data-src)="([^"]*)"')


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    given: dict[str, Any] = {"_env_file": None, "ALEX_DATA_DIR": str(tmp_path)}
    built = Services(
        Settings(**given, ALEX_BACKEND="local"),
        embedder=FakeEmbedder(),
        store=InMemoryVectorStore(),
    )
    yield built
    built.close()


def researcher(services: Services, pages_key: str | None = KEY) -> CloudResearcher:
    # HTTP events never touch the job table: the researcher's own tests cover it.
    return CloudResearcher(services, cast(ClaimingJobStore, None), pages_key=pages_key)


def page_event(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    content_type: str | None = None,
    cookie: str | None = None,
    binary: bool = False,
    forwarded_proto: str | None = "https",
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API proxy event for an unkeyed page method, as a browser's request arrives:
    ``path`` without the stage (API Gateway strips it), ``requestContext.path`` with it."""
    resource = PAGES_PREFIX if path == PAGES_PREFIX else f"{PAGES_PREFIX}/{{proxy+}}"
    headers = {"host": HOST, "accept": "text/html", "sec-fetch-site": "same-origin"}
    if forwarded_proto:
        headers["x-forwarded-proto"] = forwarded_proto
    if method == "POST":
        headers["origin"] = ORIGIN
    if content_type:
        headers["content-type"] = content_type
    if cookie:
        headers["cookie"] = cookie
    headers.update(extra or {})
    proxy = path.removeprefix(PAGES_PREFIX + "/")
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if path == PAGES_PREFIX else {"proxy": proxy},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            # No apiKey / apiKeyId: API Gateway checks none on these methods.
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "Mozilla/5.0"},
        },
        "body": (base64.b64encode(body).decode("ascii") if binary else body.decode("utf-8"))
        if body
        else None,
        "isBase64Encoded": binary and bool(body),
    }


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: bytes
    base64: bool

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


def answer_of(response: dict[str, Any]) -> Answer:
    headers = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    multi = {
        name.lower(): value for name, value in (response.get("multiValueHeaders") or {}).items()
    }
    cookies = list(multi.get("set-cookie", []))
    if "set-cookie" in headers:
        cookies.append(headers["set-cookie"])
    raw = response.get("body") or ""
    encoded = bool(response.get("isBase64Encoded"))
    body = base64.b64decode(raw) if encoded else raw.encode("utf-8")
    return Answer(int(response["statusCode"]), headers, cookies, body, encoded)


@dataclass
class Browser:
    """Sends page events through the handler; keeps cookies by ``Path`` as a browser does
    (the host is always the API's, so only the path decides)."""

    door: CloudResearcher
    jar: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (value, path)

    def cookie_header(self, browser_path: str) -> str | None:
        sent = [
            f"{name}={value}"
            for name, (value, path) in self.jar.items()
            if browser_path == path.rstrip("/") or browser_path.startswith(path.rstrip("/") + "/")
        ]
        return "; ".join(sent) or None

    def send(self, method: str, path: str, **kwargs: Any) -> Answer:
        browser_path = f"/{STAGE}{path}"
        event = page_event(method, path, cookie=self.cookie_header(browser_path), **kwargs)
        answer = answer_of(self.door.handle(event, None))
        for header in answer.set_cookies:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            attributes = dict(
                [*part.strip().split("=", 1), ""][:2] for part in header.split(";")[1:]
            )
            path_attribute = {k.lower(): v for k, v in attributes.items()}.get("path", "/")
            if value in ("", '""') or "max-age=0" in header.lower():
                self.jar.pop(name, None)
            else:
                self.jar[name] = (value, path_attribute)
        return answer

    def get(self, path: str) -> Answer:
        return self.send("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        body = urlencode(fields).encode("ascii")
        return self.send("POST", path, body=body, content_type="application/x-www-form-urlencoded")


def as_api_gateway_path(location: str) -> str:
    """The path API Gateway hands the function for a browser path ``/dev/...``."""
    assert location.startswith(f"/{STAGE}{PAGES_PREFIX}"), location
    return location.removeprefix(f"/{STAGE}")


def page_links(page: str) -> list[str]:
    """Every URL a page links, loads or posts to, but in-page anchors."""
    return [link for link in LINK.findall(page) if not link.startswith("#")]


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(browser: Browser) -> Answer:
    login = browser.get(f"{PAGES_PREFIX}/login")
    assert login.status == 200
    return browser.post_form(f"{PAGES_PREFIX}/login", {"api_key": KEY})


# ------------------------------------------------------------------------ the stage prefix


def test_the_root_path_is_what_api_gateway_took_off() -> None:
    event = page_event("GET", "/app/accounts")
    assert stage_root_path(event) == "/dev"
    # A custom domain with a base path mapping "alex" / none.
    event["requestContext"]["path"] = "/alex/app/accounts"
    assert stage_root_path(event) == "/alex"
    event["requestContext"]["path"] = "/app/accounts"
    assert stage_root_path(event) == ""
    # Paths that differ by their encoding still get the stage.
    event["requestContext"]["path"] = "/dev/app/accounts%20x"
    event["path"] = "/app/accounts x"
    assert stage_root_path(event) == "/dev"
    assert stage_root_path({"path": "/app"}) == "" and stage_root_path(None) == ""


def test_sign_in_and_out_with_the_stage_prefix_in_every_path_and_the_cookie(
    services: Services,
) -> None:
    browser = Browser(researcher(services))
    first = browser.get(f"{PAGES_PREFIX}/")
    assert first.status == 303 and first.location == f"/{STAGE}{PAGES_PREFIX}/login"
    bare = browser.get(PAGES_PREFIX)  # the /app resource: to /dev/app/ on the same host
    assert bare.status in (307, 308) and bare.location == f"{ORIGIN}/{STAGE}{PAGES_PREFIX}/"

    login = browser.get(as_api_gateway_path(first.location))
    assert login.status == 200 and "text/html" in login.headers["content-type"]
    links = page_links(login.text)
    assert links and all(link.startswith(f"/{STAGE}{PAGES_PREFIX}/") for link in links), links

    signed = sign_in(browser)
    assert signed.status == 303 and signed.location == f"/{STAGE}{PAGES_PREFIX}/"
    (cookie,) = signed.set_cookies
    parts = [part.strip().lower() for part in cookie.split(";")]
    assert f"path=/{STAGE}{PAGES_PREFIX}/" in parts
    assert {"secure", "httponly", "samesite=strict"} <= set(parts)
    assert KEY not in cookie

    dashboard = browser.get(as_api_gateway_path(signed.location))
    assert dashboard.status == 200, dashboard.text
    assert "Sign out" in dashboard.text
    links = page_links(dashboard.text)
    assert links and all(link.startswith(f"/{STAGE}{PAGES_PREFIX}/") for link in links), links
    # Every page the nav links to answers through the door.
    hrefs = re.findall(r'<a [^>]*href="(/[^"]*)"', dashboard.text)
    for link in sorted({link for link in hrefs if "/static/" not in link and "." not in link}):
        page = browser.get(as_api_gateway_path(link))
        assert page.status == 200, (link, page.status, page.text[:300])
        inner = page_links(page.text)
        assert all(href.startswith(f"/{STAGE}{PAGES_PREFIX}/") for href in inner), (link, inner)

    # The cookie is not sent to the JSON routes' paths (nor would they read it).
    assert browser.cookie_header(f"/{STAGE}/portfolio") is None

    out = browser.post_form(f"{PAGES_PREFIX}/logout", {"csrf_token": csrf_token(dashboard.text)})
    assert out.status == 303 and out.location == f"/{STAGE}{PAGES_PREFIX}/login"
    (deleted,) = out.set_cookies
    assert f"path=/{STAGE}{PAGES_PREFIX}/" in deleted.lower() and COOKIE_NAME not in browser.jar
    assert browser.get(f"{PAGES_PREFIX}/").status == 303


def test_the_cookie_is_secure_whatever_the_forwarded_scheme_says_is_missing(
    services: Services,
) -> None:
    """API Gateway sends X-Forwarded-Proto: https; without it Mangum assumes https too."""
    for proto in ("https", None):
        browser = Browser(researcher(services))
        body = urlencode({"api_key": KEY}).encode("ascii")
        signed = browser.send(
            "POST",
            f"{PAGES_PREFIX}/login",
            body=body,
            content_type="application/x-www-form-urlencoded",
            forwarded_proto=proto,
        )
        assert signed.status == 303
        assert "secure" in [part.strip().lower() for part in signed.set_cookies[0].split(";")]


def test_only_the_apis_key_signs_in_and_a_cross_site_post_is_refused(services: Services) -> None:
    browser = Browser(researcher(services))
    wrong = browser.post_form(f"{PAGES_PREFIX}/login", {"api_key": KEY[:-1] + "X"})
    assert wrong.status == 401 and not wrong.set_cookies
    other_site = browser.send(
        "POST",
        f"{PAGES_PREFIX}/login",
        body=urlencode({"api_key": KEY}).encode("ascii"),
        content_type="application/x-www-form-urlencoded",
        extra={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    assert other_site.status == 403 and not other_site.set_cookies
    # Without the key's value (no ALEX_API_KEY_ID, or API Gateway would not say): no one.
    nobody = Browser(researcher(services, pages_key=None))
    refused = nobody.post_form(f"{PAGES_PREFIX}/login", {"api_key": KEY})
    assert refused.status == 401 and not refused.set_cookies


def test_an_unkeyed_request_reaches_no_json_route(services: Services) -> None:
    """A JSON path under /app does not exist, and a JSON route reached without API
    Gateway's key check (were one ever published unkeyed) is refused by the app itself."""
    browser = Browser(researcher(services))
    sign_in(browser)
    assert browser.get(f"{PAGES_PREFIX}/portfolio").status == 404
    event = page_event("GET", "/portfolio")
    event["resource"] = event["requestContext"]["resourcePath"] = "/portfolio"
    answer = answer_of(researcher(services).handle(event, None))
    assert answer.status == 403


def test_the_sign_in_key_is_read_from_api_gateway_by_its_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_clients.aws_client.cache_clear()
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        key_id = apigateway.create_api_key(name="alex-dev", value=KEY, enabled=True)["id"]
        client = lambda: aws_clients.aws_client("apigateway", REGION)  # noqa: E731
        assert cloud.pages_key(key_id, client) == KEY
        assert cloud.pages_key(None, client) is None
        assert cloud.pages_key("nosuchkey", client) is None  # logged; the pages refuse all
    aws_clients.aws_client.cache_clear()


# ------------------------------------------------------------------------ files and uploads


def static_files() -> list[tuple[str, Path]]:
    """Every file the pages may load: all of /app/static, and the chart files at
    /app/chart-assets (the renderers and alex-charts; that folder also holds Swagger UI's
    files, which only /docs loads). Licences and notes are left out."""
    files = [
        (f"{PAGES_PREFIX}/static/{p.relative_to(STATIC).as_posix()}", p) for p in STATIC.rglob("*")
    ]
    files += [
        (f"{PAGES_PREFIX}{ASSETS_PATH}/{p.relative_to(CHART_STATIC).as_posix()}", p)
        for folder in ("vendor", "charts")
        for p in (CHART_STATIC / folder).rglob("*")
    ]
    return sorted(
        (url, path)
        for url, path in files
        if path.is_file() and path.suffix != ".md" and not path.name.startswith("LICENSE")
    )


def binary_media_types() -> list[str]:
    api = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"]["Api"]
    types: list[str] = api["Properties"].get("BinaryMediaTypes", [])
    return types


def test_every_page_file_answers_with_its_exact_bytes(services: Services) -> None:
    """Text goes to API Gateway as text; anything Mangum base64-encodes must be a binary
    media type of the API, or API Gateway would hand the browser the base64 text."""
    browser = Browser(researcher(services))
    files = static_files()
    assert any(url.endswith(".svg") for url, _ in files)
    assert any(url.endswith("vega.min.js") for url, _ in files)
    binary = binary_media_types()
    for url, path in files:
        answer = browser.get(url)
        assert answer.status == 200, url
        assert answer.body == path.read_bytes(), url
        content_type = answer.headers["content-type"].split(";")[0]
        assert not answer.base64 or content_type in binary, (url, content_type)
        # Lambda's synchronous answer is at most 6 MB, base64 included.
        assert len(answer.body) < 4_000_000, url


def test_a_binary_upload_arrives_byte_for_byte(services: Services) -> None:
    """multipart/form-data is one of the API's binary media types, so API Gateway hands the
    upload over base64-encoded and Mangum decodes it: a non-UTF-8 file is named as such
    rather than ingested as mangled text, and UTF-8 text keeps every character."""
    assert "multipart/form-data" in binary_media_types()
    browser = Browser(researcher(services))
    page = browser.get(as_api_gateway_path(sign_in(browser).location))
    token = csrf_token(page.text)
    request = httpx.Request(
        "POST",
        "https://x/",
        data={"csrf_token": token, "metadata": ""},
        files=[
            ("files", ("prices.md", "# Prices\n\nThe fund costs 12 € and 3 ¥.".encode())),
            ("files", ("latin.txt", "caf\xe9".encode("latin-1"))),
        ],
    )
    body = request.read()
    answer = browser.send(
        "POST",
        f"{PAGES_PREFIX}/knowledge/upload",
        body=body,
        content_type=request.headers["content-type"],
        binary=True,
    )
    assert answer.status == 400, answer.text  # one of two refused: the page says which
    assert "1 of 2 files ingested." in answer.text
    assert "latin.txt</span>: not UTF-8 text" in answer.text
    (listed,), _ = services.documents.list_documents()
    assert "12 € and 3 ¥" in services.documents.get(listed.id).text


def test_the_function_serves_the_pages_under_the_prefix_the_template_publishes() -> None:
    """services/researcher/serverless.yml's unkeyed events are /app and /app/{proxy+}: the
    prefix the door mounts the pages at."""
    events = config(SERVICES / "researcher" / "serverless.yml")["functions"]["researcher"]["events"]
    unkeyed = {
        (event["http"]["method"].upper(), "/" + event["http"]["path"])
        for event in events
        if not event["http"].get("private")
    }
    assert unkeyed == {
        (method, path)
        for method in ("GET", "POST")
        for path in (PAGES_PREFIX, f"{PAGES_PREFIX}/{{proxy+}}")
    }
    assert json.dumps(events).count('"private": false') == 4
