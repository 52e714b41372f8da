"""Browser tests: Debian's Chromium, driven by Playwright, against the portal served on loopback.

Every test fails if a page it visits violates the Content-Security-Policy,
requests anything from another origin, or throws a JavaScript error.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
# A 1×1 transparent PNG: what the stubbed tile server answers.
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
AXE_SOURCE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCsp(`${event.effectiveDirective} blocked ${event.blockedURI} on ${location.pathname}`);
});
"""


class _CspReportLog(logging.Handler):
    """Collects what the portal's /csp-report endpoint logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "csp violation" in record.getMessage():
            self.messages.append(record.getMessage())


@pytest.fixture(scope="session")
def csp_report_log() -> Iterator[_CspReportLog]:
    handler = _CspReportLog()
    logger = logging.getLogger("portal.views")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope="session")
def live_server(live_portal, csp_report_log) -> LiveServer:
    return live_portal


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Watch:
    """What a test's pages did that they must not do."""

    origin: str
    # Other origins a test expects: "stub" answers with a neutral page, "tiles" with a blank map
    # tile, "pass" lets the request through.
    allowed_origins: dict[str, str] = field(default_factory=dict)
    tiles: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def allow(self, origin: str, mode: str = "stub") -> None:
        self.allowed_origins[origin] = mode


def _watch(context: BrowserContext, origin: str) -> Watch:
    watch = Watch(origin=origin)

    def route(route, request):
        parts = urlsplit(request.url)
        request_origin = f"{parts.scheme}://{parts.netloc}"
        if (parts.scheme in ("data", "blob") or request_origin == watch.origin
                or watch.allowed_origins.get(request_origin) == "pass"):
            route.continue_()
        elif watch.allowed_origins.get(request_origin) == "tiles":
            route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
            watch.tiles.append(request.url)
        elif request_origin in watch.allowed_origins:
            route.fulfill(status=200, content_type="text/html",
                          body="<!doctype html><html lang=fr><title>Site neutre</title><p>Météo</p>")
        else:
            watch.foreign_requests.append(request.url)
            route.abort()

    context.route("**/*", route)
    context.expose_function("__reportCsp", lambda text: watch.csp_violations.append(text))
    context.add_init_script(REPORT_CSP)
    context.on("page", lambda page: _watch_page(page, watch))
    return watch


def _watch_page(page: Page, watch: Watch) -> None:
    def console(msg) -> None:
        # A failed load is reported below with its URL; an error page itself is not a failure.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            watch.errors.append(msg.text)

    def response(resp) -> None:
        if resp.status >= 400 and resp.request.resource_type != "document":
            watch.errors.append(f"{resp.status} {resp.url}")

    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("console", console)
    page.on("response", response)


def _check(watch: Watch, csp_report_log: _CspReportLog, reported_before: int) -> None:
    assert watch.foreign_requests == [], f"requests to another origin: {watch.foreign_requests}"
    assert watch.csp_violations == [], f"CSP violations: {watch.csp_violations}"
    assert csp_report_log.messages[reported_before:] == [], "the server received CSP reports"
    assert watch.errors == [], f"JavaScript errors: {watch.errors}"


@contextmanager
def watched_context(browser: Browser, base_url: str, csp_report_log: _CspReportLog,
                    **options) -> Iterator[tuple[BrowserContext, Watch]]:
    """A browser context on a portal, failing the test on what its pages must not do."""
    ctx = browser.new_context(base_url=base_url, locale="fr-FR", **options)
    watch = _watch(ctx, base_url)
    reported_before = len(csp_report_log.messages)
    try:
        yield ctx, watch
    finally:
        ctx.close()
    _check(watch, csp_report_log, reported_before)


@pytest.fixture
def context(browser, live_server, csp_report_log) -> Iterator[tuple[BrowserContext, Watch]]:
    with watched_context(browser, live_server.url, csp_report_log) as (ctx, watch):
        yield ctx, watch


@pytest.fixture
def page(context) -> Page:
    ctx, _ = context
    return ctx.new_page()


@pytest.fixture
def watch(context) -> Watch:
    return context[1]


@pytest.fixture
def page_without_js(browser, live_server, csp_report_log) -> Iterator[Page]:
    with watched_context(browser, live_server.url, csp_report_log, java_script_enabled=False) as (ctx, _):
        yield ctx.new_page()


def run_axe(page: Page) -> list[dict]:
    """axe-core's violations of the WCAG 2.1 A and AA rules on the current page."""
    page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            resultTypes: ["violations"],
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def sign_in_agent(context: BrowserContext, email: str, password: str, secret: str) -> Page:
    """A new page of ``context`` signed in to the agents' space through its form (password and TOTP code)."""
    page = context.new_page()
    page.goto("/agents/connexion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")
    page.get_by_label("Adresse électronique professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace agents")
    return page
