"""Accessibility in a real browser: axe-core on every page type, keyboard only, screen-reader cues."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import run_axe

PAGE_TYPES = {
    "accueil": "/",
    "situation": "/situations/vol-cambriolage",
    "situation sensible": "/situations/violences",
    "démarche": "/demarches/plainte-en-ligne",
    "démarche sensible": "/demarches/violences-conjugales",
    "numéros d'urgence": "/demarches/appels-urgence",
    "fiche": "/fiches/F1344",
    "fiche remplacée": "/fiches/R19620",
    "toutes les démarches": "/demarches/",
    "recherche vide": "/recherche",
    "résultats": "/recherche?q=vol+de+papiers",
    "résultats page 2": "/recherche?q=carte&page=2",
    "aucun résultat": "/recherche?q=xqzwkj",
    "trouver un commissariat": "/commissariats",
    "unités proches (carte)": "/commissariats?q=72000",
    "commune inconnue": "/commissariats?q=Lemanss",
    "communes proposées": "/commissariats/communes?q=le+ma",
    "unité avec horaires": "/commissariats/gendarmerie-01281-01",
    "unités d'un département": "/commissariats/departement/72",
    "sources": "/sources",
    "déclaration d'accessibilité": "/accessibilite",
    "mentions légales": "/mentions-legales",
    "données personnelles": "/donnees-personnelles",
    "gestion des cookies": "/gestion-des-cookies",
    "faux messages et arnaques": "/demarches/reconnaitre-message-officiel",
    "connexion": "/connexion",
    "résultats sensibles": "/recherche?q=violences+conjugales",
    "erreur 404": "/n-existe-pas",
    "API publique": "/developpeurs/api",
    "widget recherche": "/widgets/recherche?commune=72181&resultats=widget&q=vol+de+papiers",
    "widget situations": "/widgets/situations?commune=72181",
    "widget unités (plan, sombre)": "/widgets/unites?commune=72181&carte=1&theme=sombre",
    "widget démarche": "/widgets/demarche?commune=72181&demarches=plainte-en-ligne,visio-plainte",
    "widget urgences (compact)": "/widgets/urgences?commune=72181&compact=1",
    "widget non autorisé": "/widgets/non-autorise",
}


@pytest.mark.parametrize("url", PAGE_TYPES.values(), ids=PAGE_TYPES.keys())
def test_no_wcag_violation(page, watch, url):
    watch.allow("https://tile.openstreetmap.org", "tiles")  # the map pages' one other origin
    page.goto(url)
    assert run_axe(page) == []


def test_no_wcag_violation_with_a_popup_and_suggestions_open(page, watch):
    watch.allow("https://tile.openstreetmap.org", "tiles")
    page.goto("/commissariats/commissariat_police-72181-01")
    page.get_by_role("button", name="Commissariat de police du Mans").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup-content a")).to_be_visible()
    assert run_axe(page) == []
    page.goto("/commissariats")
    page.get_by_label("Code postal, commune ou position").press_sequentially("le ma", delay=30)
    expect(page.locator("#commune-suggestions a").first).to_be_visible()
    assert run_axe(page) == []


def test_no_wcag_violation_in_live_results(page):
    page.goto("/")
    page.get_by_label("Que vous arrive-t-il ?").press_sequentially("arnaque", delay=30)
    expect(page.locator("#live-results li").first).to_be_visible()
    assert run_axe(page) == []


def test_no_wcag_violation_on_a_phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for url in ("/", "/demarches/thesee", "/recherche?q=vol"):
            page.goto(url)
            assert run_axe(page) == [], url
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("navigation", name="Menu principal")).to_be_visible()
        assert run_axe(page) == []
    finally:
        context.close()


def _focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {tag: el.tagName, id: el.id, text: (el.textContent || "").trim().slice(0, 80),
                    href: el.getAttribute("href"),
                    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0};
        }"""
    )


def test_keyboard_only_from_skip_link_to_a_result(page):
    page.goto("/")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["text"] == "Contenu" and first["outline"], "the skip link comes first, with a visible focus"
    expect(page.get_by_role("link", name="Contenu", exact=True)).to_be_visible()

    page.keyboard.press("Enter")  # skip to the content
    for _ in range(10):
        page.keyboard.press("Tab")
        if _focused(page)["id"] == "search-input":
            break
    assert _focused(page)["id"] == "search-input" and _focused(page)["outline"]
    page.keyboard.type("vol de papiers", delay=30)
    expect(page.locator("#live-results li").first).to_be_visible()

    page.keyboard.press("Tab")  # the submit button
    page.keyboard.press("Tab")  # the first live result
    focused = _focused(page)
    assert focused["href"] == "/demarches/vol-papiers-identite" and focused["outline"]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/demarches/vol-papiers-identite$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclarer le vol de ses papiers d'identité")


def test_the_number_of_live_results_is_announced(page):
    page.goto("/recherche")
    status = page.locator("#search-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_attribute("role", "status")
    handle = status.element_handle()
    page.get_by_label("Rechercher une démarche").press_sequentially("cambriolage", delay=30)
    expect(status).to_have_text(re.compile(r"\d+ résultats pour « cambriolage »"))
    # The same element was updated, so screen readers announce the change.
    assert page.evaluate("(el) => el.isConnected", handle)


def test_pages_declare_french_and_label_every_search_field(page):
    for url in ("/", "/recherche?q=vol", "/demarches/thesee"):
        page.goto(url)
        assert page.get_attribute("html", "lang") == "fr"
        for field in page.locator("input[type=search]").all():
            field_id = field.get_attribute("id")
            assert page.locator(f"label[for='{field_id}']").count() == 1
