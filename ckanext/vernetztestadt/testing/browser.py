"""pytest plugin: a real browser for the tests (``-p
ckanext.vernetztestadt.testing.browser``): Debian's Chromium driven by
Playwright, the portal served on a real port of 127.0.0.1, axe-core and
screenshots.

Owns: starting and stopping Chromium (one per session; a new context and page
for each ``browse``), the page guard that fails a test on console errors,
page errors and any request to a host other than the portal's, serving an app
on a free port with map tiles of its own (``/kacheln/``: no map asks an outside
host), logging in through the form, axe-core's WCAG 2.1 A/AA run and the
screenshots folder (``<runtime home>/screenshots``, named in the README).
Skips, saying why, where Chromium, Playwright or axe-core is missing.

Must not touch: product code or the database (tests build their own data).
"""
from __future__ import annotations

import contextlib
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from .pytest_plugin import home

CHROMIUM = "/usr/bin/chromium"
#: No background traffic: this machine's network is closed, and a request to
#: an outside host is what the page guard looks for.
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage")
#: axe-core, installed from tests/browser/package-lock.json by ``make browser``.
AXE = Path("tests") / "browser" / "node_modules" / "axe-core" / "axe.min.js"
#: The axe rule tags of WCAG 2.1 levels A and AA (BITV 2.0).
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def screenshots_dir(config: pytest.Config) -> Path:
    """Where the tests write their screenshots."""
    return home(config) / "screenshots"


def _png_pixel() -> bytes:
    """A valid 1 x 1 PNG (one grey pixel)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xc0")) + chunk(b"IEND", b""))


PIXEL = _png_pixel()


def with_tiles(wsgi_app: Callable) -> Callable:
    """``/kacheln/`` answers a one-pixel PNG (Leaflet shows itself once a tile
    has loaded); everything else is the portal."""
    def serve(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/kacheln/"):
            start_response("200 OK", [("Content-Type", "image/png"),
                                      ("Content-Length", str(len(PIXEL)))])
            return [PIXEL]
        return wsgi_app(environ, start_response)

    return serve


def site_settings(url: str) -> dict[str, str]:
    """The portal's address and map tiles of its own (no outside host)."""
    return {"ckan.site_url": url, "ckanext.spatial.common_map.type": "custom",
            "ckanext.spatial.common_map.custom_url": url + "/kacheln/{z}/{x}/{y}.png",
            "ckanext.spatial.common_map.attribution": "Testkacheln"}


class QuietHandler(WSGIRequestHandler):
    """No line per request in the test output (a page loads dozens)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextlib.contextmanager
def serving(build_app: Callable[[], Any], config: Any) -> Iterator[str]:
    """Serve the app ``build_app`` makes on a free port of 127.0.0.1, built
    after the site URL and the map tiles point at that port (CKAN takes its
    server name and the scripts' site root from ``ckan.site_url`` when the
    app is made); ``config`` is CKAN's, restored after."""
    server = make_server("127.0.0.1", 0, with_tiles(lambda *args: None), threaded=True,
                         request_handler=QuietHandler)  # the port first, the app next
    url = f"http://127.0.0.1:{server.server_port}"
    settings = site_settings(url)
    before = {key: config.get(key) for key in settings}
    config.update(settings)
    server.app = with_tiles(build_app().app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(5)
        for key, value in before.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value


@pytest.fixture
def live_server(make_app, ckan_config) -> Iterator[str]:
    """This test's portal on a real port."""
    with serving(make_app, ckan_config) as url:
        yield url




# -- Chromium -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright fehlt (dev-requirements.txt)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} fehlt (make browser, als root: apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        # Playwright gives each launch a new empty profile of its own
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=list(CHROMIUM_FLAGS))
        yield browser
        browser.close()


@dataclass
class Guard:
    """What a page did that a test must not let pass."""

    site: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    #: console errors a test provoked on purpose (substring match)
    expected_errors: list[str] = field(default_factory=list)

    def request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.site:
            self.foreign_requests.append(request.url)

    def failed(self, request: Any) -> None:
        self.failed_requests.append(f"{request.url}: {request.failure}")

    def console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def _unexpected(self, found: list[str]) -> list[str]:
        return [text for text in found
                if not any(expected in text for expected in self.expected_errors)]

    def problems(self) -> list[str]:
        return ([f"Konsolenfehler: {e}" for e in self._unexpected(self.console_errors)]
                + [f"fremder Host: {u}" for u in self.foreign_requests]
                + [f"Anfrage gescheitert: {u}" for u in self._unexpected(self.failed_requests)])


@pytest.fixture
def browse(chromium) -> Iterator[Callable[..., tuple[Any, Guard]]]:
    """``browse(site, locale="de-DE")`` opens a new context and page whose
    console errors and outside requests fail the test at its end."""
    opened: list[tuple[Any, Guard]] = []

    def open_page(site: str, locale: str = "de-DE") -> tuple[Any, Guard]:
        context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        guard = Guard(site=site)
        page.on("request", guard.request)
        page.on("requestfailed", guard.failed)
        page.on("console", guard.console)
        page.on("pageerror", lambda error: guard.console_errors.append(f"JS: {error}"))
        opened.append((context, guard))
        return page, guard

    yield open_page
    problems = [p for _, guard in opened for p in guard.problems()]
    for context, _ in opened:
        context.close()
    assert not problems, "\n".join(problems)


def login(page: Any, site: str, user: str, password: str) -> None:
    page.goto(f"{site}/user/login")
    page.fill("#field-login", user)
    page.fill("#field-password", password)
    with page.expect_navigation():
        page.press("#field-password", "Enter")


@pytest.fixture
def screenshot(pytestconfig: pytest.Config) -> Callable[[Any, str], Path]:
    """``screenshot(page, name)`` writes the whole page as ``<name>.png``."""
    folder = screenshots_dir(pytestconfig)

    def take(page: Any, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        return target

    return take


@pytest.fixture
def axe(pytestconfig: pytest.Config) -> Callable[[Any], list[dict[str, Any]]]:
    """``axe(page)``: axe-core's WCAG 2.1 A/AA violations of the page as loaded
    now (at most five nodes each, as selectors and axe's summary)."""
    script = pytestconfig.rootpath / AXE
    if not script.exists():
        pytest.skip(f"{script} fehlt (make browser: npm ci in tests/browser)")

    def violations(page: Any) -> list[dict[str, Any]]:
        page.add_script_tag(path=str(script))
        return page.evaluate("""async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': '
                                                  + (n.failureSummary || ''))}));
        }""", WCAG_21_AA)

    return violations
