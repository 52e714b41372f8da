"""A mairie's site embeds the portal's widgets, in Chromium, from other origins than the portal's.

Two host pages are served on loopback ports of their own (other origins): one registered for Le Mans
(72181), one not. Each page uses the loader (`/widgets/loader.js`) for the five widgets and also
carries the plain iframe snippet. Besides the checks every browser test makes (no CSP violation, no
JavaScript error, no request to a third origin), every test here records every request and response
of its browser context: only the portal and the host page's own origin are ever contacted, and the
portal never sets a cookie.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Page, Response, expect
from sqlalchemy import select

from portal.extensions import db
from search import services as search_services
from tests.browser.conftest import Watch, watched_context
from widgets import registry
from widgets.models import Mairie, MairieOrigin

COMMUNE = "72181"  # Le Mans
QUERY = "vol de papiers"
PROCEDURE = "vol-papiers-identite"
PROCEDURE_TITLE = "Déclarer le vol de ses papiers d'identité"
# What the loader builds, one div each: the widget's name and its options as data- attributes.
WIDGETS = {
    "recherche": 'data-resultats="widget"',
    "situations": "",
    "unites": 'data-carte="1"',
    "demarche": 'data-demarches="plainte-en-ligne"',
    "urgences": "",
}
# What the iframes' titles must say (what a screen reader announces for the frame), in French.
TITLES = {
    "recherche": re.compile(r"^Rechercher une démarche .*Portail citoyen"),
    "situations": re.compile(r"^Démarches .* selon votre situation .*Portail citoyen"),
    "unites": re.compile(r"^Commissariats et brigades .*les plus proches .*Portail citoyen"),
    "demarche": re.compile(r"^Démarches? .*Portail citoyen"),
    "urgences": re.compile(r"^Numéros d'urgence .*Portail citoyen"),
}
PROCEDURE_CARD = "Porter plainte en ligne"
# The plain snippet (as the builder page /mairies gives it), for sites that do not run the loader.
PLAIN_WIDGET = "urgences"
REFUSAL = "Widget non autorisé"
# A height message the loader must ignore; 9999 would be clamped to 4000.
FORGED_HEIGHT = 9999

HOST_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Mairie de test — {label}</title>
<link rel="icon" href="data:,">
<script>
  // Each iframe's height when the loader inserts it (a mutation callback runs before any message).
  window.__startHeights = {{}};
  new MutationObserver((mutations) => {{
    for (const mutation of mutations) {{
      for (const node of mutation.addedNodes) {{
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        for (const frame of node.tagName === "IFRAME" ? [node] : node.querySelectorAll("iframe")) {{
          window.__startHeights[frame.src] = frame.clientHeight;
        }}
      }}
    }}
  }}).observe(document.documentElement, {{childList: true, subtree: true}});
</script>
<script src="{portal}/widgets/loader.js" defer></script>
</head>
<body>
<h1>Mairie de test ({label})</h1>
{widgets}
<h2>Urgences (code à copier)</h2>
<iframe id="plain" src="{portal}/widgets/{plain}?commune={commune}"
        title="Numéros d'urgence et unités les plus proches (Portail citoyen)"
        width="100%" height="560" loading="lazy"
        sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"
        referrerpolicy="strict-origin"></iframe>
</body>
</html>
"""


def _host_page(portal: str, label: str) -> bytes:
    widgets = "\n".join(
        f'<div data-portail-widget="{name}" data-commune="{COMMUNE}" data-theme="clair" {options}></div>'
        for name, options in WIDGETS.items()
    )
    return HOST_PAGE.format(portal=portal, label=label, widgets=widgets, plain=PLAIN_WIDGET,
                            commune=COMMUNE).encode("utf-8")


class _HostHandler(BaseHTTPRequestHandler):
    def __init__(self, body: bytes, *args, **kwargs) -> None:
        self.body = body
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if urlsplit(self.path).path != "/":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass


@dataclass
class HostSite:
    """A mairie's site: one page, on a loopback origin of its own."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def url(self) -> str:
        return self.origin + "/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def _host_site(portal: str, label: str) -> Iterator[HostSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_HostHandler, _host_page(portal, label)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site = HostSite(server, thread)
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def registered_site(app, live_server) -> Iterator[HostSite]:
    """A site registered for Le Mans in the live portal's database, withdrawn afterwards."""
    with _host_site(live_server.url, "site enregistré") as site:
        origin = registry.normalize_origin(site.origin, allow_loopback=True)
        with app.app_context():
            mairie = db.session.execute(select(Mairie).where(Mairie.code_insee == COMMUNE)).scalar_one_or_none()
            created = mairie is None
            if created:
                now = datetime.now(UTC)
                mairie = Mairie(code_insee=COMMUNE, name="Mairie du Mans", contact="", active=True,
                                created_at=now, updated_at=now)
                db.session.add(mairie)
            was_active = mairie.active
            mairie.active = True
            mairie.origins.append(MairieOrigin(origin=origin))
            db.session.commit()
            mairie_id = mairie.id
            db.session.remove()
            registry.invalidate()
        try:
            yield site
        finally:
            with app.app_context():
                mairie = db.session.get(Mairie, mairie_id)
                if created:
                    db.session.delete(mairie)
                else:
                    mairie.origins = [o for o in mairie.origins if o.origin != origin]
                    mairie.active = was_active
                db.session.commit()
                db.session.remove()
                registry.invalidate()


@pytest.fixture(scope="module")
def unregistered_site(live_server) -> Iterator[HostSite]:
    with _host_site(live_server.url, "site non enregistré") as site:
        yield site


@dataclass
class Traffic:
    """Every request of a browser context, and every response of the portal."""

    requests: list[str] = field(default_factory=list)
    portal_responses: list[Response] = field(default_factory=list)

    def origins(self) -> set[str]:
        return {f"{p.scheme}://{p.netloc}" for p in map(urlsplit, self.requests) if p.scheme not in ("data", "blob")}


@contextmanager
def host_context(browser, portal: str, site: HostSite, csp_report_log) -> Iterator[tuple[BrowserContext, Watch,
                                                                                         Traffic]]:
    """A watched context where the host site's origin is let through; on leaving, the portal has set no cookie
    and nothing but the portal and the site was contacted."""
    with watched_context(browser, portal, csp_report_log) as (ctx, watch):
        watch.allow(site.origin, "pass")
        traffic = Traffic()
        ctx.on("request", lambda request: traffic.requests.append(request.url))
        ctx.on("response", lambda response: traffic.portal_responses.append(response)
               if response.url.startswith(portal + "/") else None)
        yield ctx, watch, traffic
        assert traffic.origins() <= {portal, site.origin}, f"requests elsewhere: {sorted(traffic.origins())}"
        assert ctx.cookies() == [], "a cookie was set"
        set_cookies = [r.url for r in traffic.portal_responses if r.header_value("set-cookie")]
        assert set_cookies == [], f"the portal set a cookie: {set_cookies}"
        assert any("/widgets/" in url for url in traffic.requests), "no widget was requested"


def _selector(portal: str, name: str) -> str:
    """The iframe the loader made for widget ``name`` (not the plain snippet's)."""
    return f'iframe[src^="{portal}/widgets/{name}?"]:not(#plain)'


def _widget_frame(page: Page, portal: str, name: str) -> FrameLocator:
    return page.frame_locator(_selector(portal, name))


def _iframe(page: Page, portal: str, name: str):
    return page.locator(_selector(portal, name))


def _frame_of(page: Page, portal: str, name: str):
    """The widget's live frame (for reading its document)."""
    handle = _iframe(page, portal, name).element_handle()
    frame = handle.content_frame()
    assert frame is not None
    return frame


def _content_height(frame) -> float:
    """The height the frame's document needs: its content, not the iframe's viewport (so an iframe too short
    or too tall for its content both differ from it)."""
    return frame.evaluate("() => document.documentElement.getBoundingClientRect().height")


def _expect_sized_to_content(page: Page, portal: str, name: str) -> float:
    """The loader resized the iframe to its document's height (within a few px); returns that height."""
    iframe = _iframe(page, portal, name)
    frame = _frame_of(page, portal, name)
    src = iframe.get_attribute("src")
    start = page.evaluate("(src) => window.__startHeights[src]", src)
    assert start, f"{name}: the loader's iframe was not seen when inserted"
    # The fonts change the text's height: wait for them, so that the height measured is the final one.
    frame.evaluate("() => document.fonts.ready.then(() => true)")

    def sized() -> bool:
        height = iframe.evaluate("(f) => f.clientHeight")
        return height != start and abs(height - _content_height(frame)) <= 4

    _wait_for(page, sized, f"{name}: iframe not resized to its content")
    return iframe.evaluate("(f) => f.clientHeight")


def _wait_for(page: Page, condition, message: str, timeout_ms: int = 5000) -> None:
    waited = 0
    while not condition():
        assert waited < timeout_ms, message
        page.wait_for_timeout(50)
        waited += 50


def _open(ctx: BrowserContext, site: HostSite, portal: str) -> Page:
    page = ctx.new_page()
    page.goto(site.url)
    iframes = page.locator(f'iframe[src^="{portal}/widgets/"]')
    expect(iframes).to_have_count(len(WIDGETS) + 1)
    # Every widget in view once, so that none stays lazily unloaded.
    for iframe in iframes.all():
        iframe.scroll_into_view_if_needed()
    return page


def test_the_catalogue_answers_the_query_with_the_procedure(app):
    """The search below relies on it: the first result of the citizen's phrase is the procedure."""
    with app.app_context():
        first = search_services.search(QUERY, limit=1).hits[0]
    assert (first.kind, first.slug, first.title) == ("procedure", PROCEDURE, PROCEDURE_TITLE)


def test_a_registered_site_shows_every_widget_sized_to_its_content(browser, live_server, registered_site,
                                                                   csp_report_log):
    portal = live_server.url
    with host_context(browser, portal, registered_site, csp_report_log) as (ctx, _, _traffic):
        page = _open(ctx, registered_site, portal)
        for name, title in TITLES.items():
            expect(_iframe(page, portal, name)).to_have_attribute("title", title)
            frame = _widget_frame(page, portal, name)
            expect(frame.locator("html")).to_have_attribute("lang", "fr")
            expect(frame.get_by_role("heading", name=REFUSAL)).to_have_count(0)
        expect(_widget_frame(page, portal, "recherche").get_by_role("searchbox")).to_be_visible()
        situations = _widget_frame(page, portal, "situations")
        expect(situations.get_by_role("heading", level=2).first).to_be_visible()
        unites = _widget_frame(page, portal, "unites")
        expect(unites.get_by_role("img", name="Plan des unités les plus proches")).to_be_visible()
        expect(unites.locator("ol > li").first.get_by_role("link").first).to_be_visible()
        card = _widget_frame(page, portal, "demarche")
        expect(card.get_by_role("heading", level=2, name=PROCEDURE_CARD)).to_be_visible()
        for frame in (_widget_frame(page, portal, "urgences"), page.frame_locator("#plain")):
            for number in ("17", "112", "114"):
                expect(frame.get_by_role("link", name=number, exact=True).first).to_be_visible()

        heights = {name: _expect_sized_to_content(page, portal, name) for name in WIDGETS}

        # A height message from anyone but the widget's own frame is ignored: from the host page itself
        # (another origin), and from a frame of the portal's origin that is not the widget's (the plain snippet).
        page.evaluate("""() => {
            window.__markers = new Set();
            window.addEventListener("message", (event) => {
                if (typeof event.data === "string") window.__markers.add(event.data);
            });
        }""")
        forge = """([height, marker]) => {
            window.parent.postMessage({type: "portail-widget:hauteur", height}, "*");
            window.parent.postMessage({type: "portail-widget:hauteur", height: String(height)}, "*");
            window.parent.postMessage(marker, "*");
        }"""
        page.evaluate(forge.replace("window.parent", "window"), [FORGED_HEIGHT, "from-host"])
        page.frame_locator("#plain").locator("html").evaluate(
            f"(_, args) => ({forge})(args)", [FORGED_HEIGHT, "from-portal-frame"])
        page.wait_for_function("window.__markers.has('from-host') && window.__markers.has('from-portal-frame')")
        assert {name: _iframe(page, portal, name).evaluate("(f) => f.clientHeight") for name in WIDGETS} == heights


def test_a_search_in_the_widget_shows_results_and_opens_the_procedure(browser, live_server, registered_site,
                                                                      csp_report_log):
    portal = live_server.url
    with host_context(browser, portal, registered_site, csp_report_log) as (ctx, _, _traffic):
        page = _open(ctx, registered_site, portal)
        search = _widget_frame(page, portal, "recherche")
        box = search.get_by_role("searchbox")
        expect(box).to_be_visible()
        before = _expect_sized_to_content(page, portal, "recherche")
        box.fill(QUERY)
        box.press("Enter")
        first = search.locator("ol > li").first.get_by_role("link")
        expect(first).to_have_text(re.compile("^" + re.escape(PROCEDURE_TITLE)))
        after = _expect_sized_to_content(page, portal, "recherche")
        assert after > before

        with ctx.expect_page() as opened:
            first.click()
        procedure = opened.value
        procedure.wait_for_load_state()
        assert procedure.url == f"{portal}/demarches/{PROCEDURE}"
        expect(procedure.get_by_role("heading", level=1)).to_have_text(PROCEDURE_TITLE)
        # The host page stayed where it was.
        assert page.url == registered_site.url


FETCH = """async (url) => {
    try {
        const response = await fetch(url);
        return {ok: response.ok, type: response.headers.get("content-type"), body: await response.json()};
    } catch (error) {
        return {error: String(error)};
    }
}"""


def test_a_registered_site_reads_the_api(browser, live_server, registered_site, csp_report_log):
    portal = live_server.url
    with host_context(browser, portal, registered_site, csp_report_log) as (ctx, _, _traffic):
        page = ctx.new_page()
        page.goto(registered_site.url)
        answer = page.evaluate(FETCH, f"{portal}/api/v1/search?q=vol")
        assert answer.get("ok") is True, answer
        assert answer["type"].startswith("application/json")
        assert answer["body"]["results"], answer


def test_an_unregistered_site_gets_the_refusal_page_and_no_api(browser, live_server, unregistered_site,
                                                               registered_site, csp_report_log):
    """Le Mans is registered (for another site): the refusal is about this site, not a commune without any."""
    portal = live_server.url
    with host_context(browser, portal, unregistered_site, csp_report_log) as (ctx, watch, _traffic):
        page = _open(ctx, unregistered_site, portal)
        frames = [_widget_frame(page, portal, name) for name in WIDGETS] + [page.frame_locator("#plain")]
        for frame in frames:
            # The refusal page alone: its heading, no widget's heading, no search box, no list of units.
            expect(frame.get_by_role("heading")).to_have_text([REFUSAL])
            expect(frame.get_by_role("searchbox")).to_have_count(0)
            expect(frame.locator("ol, ul, svg, form")).to_have_count(0)

        answer = page.evaluate(FETCH, f"{portal}/api/v1/search?q=vol")
        assert "error" in answer, f"the API answered an unregistered site: {answer}"
        # What Chromium says in the console: blocked by CORS (expected here, and only this).
        blocked = [e for e in watch.errors if "blocked by CORS policy" in e]
        assert blocked, watch.errors
        for error in blocked:
            watch.errors.remove(error)
