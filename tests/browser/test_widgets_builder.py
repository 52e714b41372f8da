"""The builder page for mairies in Chromium: axe finds no violation, the copy buttons copy and say so, htmx
updates the preview and announces it, and without JavaScript the snippets stay plain selectable text; the
console's mairies pages, in an administrator's hands, pass axe too."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agents.services import create_agent
from portal.extensions import db
from tests.agents.helpers import DEFAULT_PASSWORD
from tests.browser.conftest import AXE_SOURCE, run_axe, sign_in_agent, watched_context
from widgets import registry
from widgets.models import Mairie

BUILDER_PAGES = {
    "vide": "/mairies",
    "widget et code": "/mairies?q=72181&widget=unites&carte=1",
    "démarches choisies": "/mairies?q=72181&widget=demarche&demarches=plainte-en-ligne",
    "communes à choisir": "/mairies?q=Saint-Denis",
    "commune inconnue": "/mairies?q=Lemanss",
    "widget sans démarche": "/mairies?q=72181&widget=demarche",
}


def _axe(page) -> list[dict]:
    """axe on the page, the preview's frame included (axe must run inside a frame to report on it)."""
    preview = page.locator("#builder-preview")
    if preview.count():
        preview.scroll_into_view_if_needed()
        page.wait_for_load_state("load")
        for frame in page.frames[1:]:
            frame.wait_for_load_state("load")
            frame.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return run_axe(page)


@pytest.mark.parametrize("url", BUILDER_PAGES.values(), ids=BUILDER_PAGES.keys())
def test_the_builder_has_no_wcag_violation(page, url):
    page.goto(url)
    assert _axe(page) == []


def test_the_copy_button_copies_the_snippet_and_says_so(context, live_server):
    ctx, _ = context
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = ctx.new_page()
    page.goto("/mairies?q=72181&widget=recherche")
    button = page.get_by_role("button", name="Copier").first
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#snippet-loader-status")).to_have_text("Code copié dans le presse-papiers.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#snippet-loader").text_content()
    assert copied.startswith("<script src=") and 'data-portail-widget="recherche"' in copied
    assert 'data-commune="72181"' in copied


def test_a_change_updates_the_preview_and_is_announced(page):
    page.goto("/mairies?q=72181&widget=recherche")
    page.locator('label[for="widget-urgences"]').click()  # DSFR draws the radio on its label
    expect(page.locator("#builder-preview")).to_have_attribute("src", "/widgets/urgences?commune=72181")
    expect(page.locator("#builder-status")).to_have_text("Aperçu et code mis à jour : widget Urgences, Le Mans (72).")
    assert "widget=urgences" in page.url
    expect(page.get_by_role("button", name="Copier").first).to_be_visible()  # the new snippets' buttons work too


def test_without_javascript_the_snippets_are_text_to_select(page_without_js):
    page = page_without_js
    page.goto("/mairies")
    page.locator("#builder-q").fill("Le Mans")
    page.locator('label[for="widget-unites"]').click()
    page.get_by_role("button", name="Afficher le widget et son code").click()
    expect(page.locator("#builder-preview")).to_have_attribute("src", "/widgets/unites?commune=72181")
    expect(page.locator("#snippet-iframe")).to_contain_text('<iframe src="')
    expect(page.get_by_role("button", name="Copier")).to_have_count(0)


@pytest.fixture
def no_mairie_left(app):
    """The registration the console test makes is deleted afterwards (the live portal's database is shared)."""
    yield
    with app.app_context():
        for mairie in db.session.scalars(select(Mairie).where(Mairie.code_insee == "72181")):
            db.session.delete(mairie)  # its origins with it (the relationship's cascade)
        db.session.commit()
        registry.invalidate()
        db.session.remove()


def test_an_administrator_registers_a_mairie_in_the_console(browser, live_server, csp_report_log, app, no_mairie_left):
    email = f"admin-mairies-{secrets.token_hex(4)}@interieur.gouv.fr"
    with app.app_context():
        _, secret = create_agent(db.session, email, roles=["admin"], password=DEFAULT_PASSWORD,
                                 display_name="Alix Administratrice")
        db.session.commit()
        db.session.remove()
    with watched_context(browser, live_server.url, csp_report_log) as (ctx, _):
        page = sign_in_agent(ctx, email, DEFAULT_PASSWORD, secret)
        page.get_by_role("link", name="Mairies et widgets").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mairies et widgets")
        assert run_axe(page) == []
        page.get_by_role("link", name="Inscrire une mairie").click()
        page.get_by_label("Code INSEE de la commune").fill("72181")
        page.get_by_label("Adresse électronique de la mairie").fill("accueil@lemans.fr")
        page.get_by_label("Origines des sites").fill("https://www.lemans.fr\nhttps://www.lemans.fr/widgets")
        page.get_by_role("button", name="Inscrire la mairie").click()
        expect(page.locator("#error-summary")).to_contain_text("Ligne 2")
        assert run_axe(page) == []
        page.get_by_label("Origines des sites").fill("https://www.lemans.fr\nHTTPS://LeMans.fr/")
        page.get_by_role("button", name="Inscrire la mairie").click()
        expect(page.locator("#notice")).to_contain_text("La mairie est inscrite")
        expect(page.get_by_label("Origines des sites")).to_have_value("https://lemans.fr\nhttps://www.lemans.fr")
        assert run_axe(page) == []
        page.goto("/mairies?q=72181")
        expect(page.locator("#registration-status")).to_contain_text("est inscrite")
