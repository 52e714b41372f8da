"""Signing in with FranceConnect in a real browser, against the local FranceConnect."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import run_axe


def test_a_procedure_that_needs_login_round_trip_and_logout(page, watch, local_fc):
    fc_origin = "{0.scheme}://{0.netloc}".format(urlsplit(local_fc.issuer))
    watch.allow(fc_origin, "pass")
    local_fc.provider.faults.clear()

    page.goto("/")
    page.get_by_role("link", name="J'ai été victime d'un vol ou d'un cambriolage").click()
    page.get_by_role("link", name="Porter plainte en ligne", exact=True).click()
    page.get_by_role("link", name="Porter plainte en ligne sur le portail").click()

    expect(page).to_have_url(re.compile(r"/plainte-en-ligne$"))
    expect(page.get_by_role("heading", name="Connectez-vous pour commencer")).to_be_visible()
    assert run_axe(page) == []
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()

    expect(page).to_have_url(re.compile(re.escape(fc_origin) + r"/api/v2/interaction/"))
    page.get_by_role("button", name=re.compile("Angela Claire Louise DUBOIS")).click()

    # Back where the citizen was, the identity FranceConnect gave shown read-only.
    expect(page).to_have_url(re.compile(r"/plainte-en-ligne$"))
    expect(page.get_by_text("DUBOIS")).to_be_visible()
    expect(page.get_by_text("24 août 1962")).to_be_visible()
    assert run_axe(page) == []

    page.get_by_role("button", name="Se déconnecter").first.click()
    expect(page).to_have_url(re.compile(r"/deconnexion/terminee\?franceconnect=ok$"))
    expect(page.get_by_text("Vous êtes déconnecté du portail et de FranceConnect.")).to_be_visible()

    # Both sessions are over: the procedure asks to sign in again, and FranceConnect asks who you are.
    page.goto("/plainte-en-ligne/faits")
    expect(page).to_have_url(re.compile(r"/connexion\?next="))
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    expect(page).to_have_url(re.compile(r"/api/v2/interaction/"))


def test_the_sign_in_page_without_javascript(page_without_js):
    page_without_js.goto("/connexion")
    expect(page_without_js.get_by_role("button", name="S’identifier avec FranceConnect")).to_be_visible()
    expect(page_without_js.get_by_role("link", name="Qu’est-ce que FranceConnect ?")).to_have_attribute(
        "target", "_blank")
    expect(page_without_js.get_by_label("Adresse électronique")).to_be_visible()
