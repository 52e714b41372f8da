"""The station finder in Chromium: the map renders under the CSP, markers work by keyboard, nothing injected runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from maps.models import Commune, Postcode, Station
from portal.extensions import db
from tests.browser.conftest import watched_context
from tests.conftest import LiveServer, make_app

TILE_ORIGIN = "https://tile.openstreetmap.org"
HOSTILE = {
    "hostile-1": "${alert(1)}",
    "hostile-2": "`);alert(1);//",
    "hostile-3": "</script><script>alert(1)</script>",
}
# Records any call a payload would make; dialogs are caught too.
TRAP = "window.__xss = []; window.alert = function (v) { window.__xss.push(String(v)); };"


@pytest.fixture
def map_page(context) -> Page:
    ctx, watch = context
    watch.allow(TILE_ORIGIN, "tiles")
    return ctx.new_page()


def _expect_map(page: Page) -> None:
    expect(page.locator(".folium-map.leaflet-container")).to_be_visible()
    expect(page.locator(".leaflet-tile-loaded").first).to_be_attached()


def test_the_finder_shows_the_map_with_the_list(map_page, watch):
    map_page.goto("/commissariats?q=72000")
    _expect_map(map_page)
    expect(map_page.get_by_role("heading", level=2)).to_have_text("Les 10 unités les plus proches de 72000 Le Mans")
    # Ten units: single markers or clusters that count them.
    markers = map_page.locator(".leaflet-marker-icon:not(.portal-origin)")
    expect(markers.first).to_be_visible()
    counts = [int(t) if t.strip().isdigit() else 1 for t in markers.all_inner_texts()]
    assert sum(counts) == 10
    # Every tile came from the configured server (stubbed here); nothing else left the portal.
    assert watch.tiles and all(url.startswith(TILE_ORIGIN + "/") for url in watch.tiles)


def test_a_marker_opens_its_popup_by_keyboard(map_page):
    map_page.goto("/commissariats/commissariat_police-72181-01")
    _expect_map(map_page)
    marker = map_page.get_by_role("button", name="Commissariat de police du Mans")
    marker.focus()
    map_page.keyboard.press("Enter")
    popup = map_page.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name="Commissariat de police du Mans")).to_have_attribute(
        "href", "/commissariats/commissariat_police-72181-01")
    expect(popup).to_contain_text("19 Boulevard Paixhans")
    expect(popup).to_contain_text("02 55 46 20 00")


def test_the_map_zooms_out_of_a_cluster(map_page):
    map_page.goto("/commissariats/departement/72")
    _expect_map(map_page)
    cluster = map_page.locator(".marker-cluster").first
    expect(cluster).to_be_visible()
    before = map_page.locator(".leaflet-marker-icon").count()
    cluster.click()
    expect(map_page.locator(".leaflet-marker-icon")).not_to_have_count(before)


def test_suggestions_by_keyboard(map_page):
    page = map_page
    page.goto("/commissariats")
    box = page.get_by_label("Code postal, commune ou position")
    box.press_sequentially("st eti", delay=40)
    first = page.locator("#commune-suggestions a").first
    expect(first).to_have_text("Saint-Étienne (42)")
    expect(page.locator("#commune-status")).to_have_text(re.compile(r"\d+ communes? proposées?"))
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/commissariats\?q=Saint-%C3%89tienne\+42$"))
    expect(page.get_by_role("heading", level=2)).to_contain_text("Saint-Étienne (42)")


def test_around_me_asks_only_on_click(browser, live_server, csp_report_log):
    options = {"geolocation": {"latitude": 48.0074, "longitude": 0.1968}, "permissions": ["geolocation"]}
    with watched_context(browser, live_server.url, csp_report_log, **options) as (ctx, watch):
        watch.allow(TILE_ORIGIN, "tiles")
        page = ctx.new_page()
        page.add_init_script("window.__asked = 0; const get = navigator.geolocation.getCurrentPosition;"
                             "navigator.geolocation.getCurrentPosition = function () {"
                             " window.__asked++; return get.apply(this, arguments); };")
        page.goto("/commissariats")
        assert page.evaluate("window.__asked") == 0
        page.get_by_role("button", name="Autour de moi").click()
        expect(page).to_have_url(re.compile(r"/commissariats\?q=48\.00740%2C0\.19680"))
        expect(page.get_by_role("heading", level=2)).to_have_text("Les 10 unités les plus proches de votre position")
        expect(page.locator(".portal-station h3").first).to_have_text("Commissariat de police du Mans")


def test_the_finder_without_javascript(page_without_js):
    page = page_without_js
    page.goto("/commissariats")
    expect(page.get_by_role("button", name="Autour de moi")).to_be_hidden()
    page.get_by_label("Code postal, commune ou position").fill("le mans")
    page.locator("label[for=type-gendarmerie]").click()  # the DSFR radio is drawn by its label
    page.get_by_role("button", name="Trouver les unités proches").click()
    expect(page).to_have_url(re.compile(r"/commissariats\?q=le\+mans&type=gendarmerie$"))
    items = page.locator(".portal-station")
    expect(items).to_have_count(10)
    expect(items.first).to_contain_text("Gendarmerie")
    expect(page.get_by_text("Tout ce que montre la carte est aussi écrit dans la page.")).to_be_visible()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A portal whose data names a commune and three units with script-shaped names."""
    application = make_app(tmp_path_factory.mktemp("hostile"))
    with application.app_context():
        db.session.add(Commune(
            code_insee="72181", name="`);alert(1);//", search_name="le mans", kind="commune-actuelle",
            department_code="72", department_name="Sarthe", region_name="Pays de la Loire", population=1,
            latitude=48.0074, longitude=0.1968,
        ))
        db.session.add(Postcode(postcode="72000", code_insee="72181"))
        for i, (station_id, name) in enumerate(HOSTILE.items()):
            db.session.add(Station(
                id=station_id, kind="police", name=name, address=name, postcode="72000", commune=name,
                code_insee="72181", department_code="72", phone="02 00 00 00 00",
                latitude=48.0074 + 0.05 * (i + 1), longitude=0.1968, updated_at=datetime.now(UTC),
            ))
        db.session.commit()
    server = LiveServer(application)
    yield server
    server.stop()


def _hover_until_tooltip(page, marker, attempts: int = 3) -> None:
    """Hover a marker until Leaflet shows its tooltip: the map may still be fitting its bounds when the
    mouse first arrives, and the marker moves from under it (a mouseout that closes the tooltip)."""
    for _ in range(attempts):
        marker.hover()
        try:
            page.locator(".leaflet-tooltip").wait_for(state="visible", timeout=2000)
            return
        except PlaywrightTimeoutError:
            page.mouse.move(0, 0)
    raise AssertionError("Leaflet never showed the marker's tooltip")


@pytest.mark.parametrize("station_id", HOSTILE)
def test_hostile_names_are_shown_as_text_and_run_nothing(browser, hostile_server, csp_report_log, station_id):
    name = HOSTILE[station_id]
    with watched_context(browser, hostile_server.url, csp_report_log) as (ctx, watch):
        watch.allow(TILE_ORIGIN, "tiles")
        ctx.add_init_script(TRAP)
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        page.goto(f"/commissariats/{station_id}")
        _expect_map(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        page.get_by_role("button", name=name).focus()
        page.keyboard.press("Enter")
        popup = page.locator(".leaflet-popup-content")
        expect(popup.get_by_role("link")).to_have_text(name)

        page.goto("/commissariats?q=72000")
        _expect_map(page)
        expect(page.locator(".portal-station h3").filter(has_text=name)).to_have_count(1)
        _hover_until_tooltip(page, page.locator(".leaflet-marker-icon.portal-origin"))
        expect(page.locator(".leaflet-tooltip")).to_have_text("72000 `);alert(1);//")

        assert page.evaluate("window.__xss") == []
        assert dialogs == []
