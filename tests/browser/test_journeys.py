"""What a citizen does, in a real browser, with and without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import render_template_string
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer, make_app

FIRST_RESULT = "#search-results ol.portal-results > li h2 a, #live-results ol.portal-results > li h2 a"


def _life_event_to_procedure(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="J'ai été victime d'un vol ou d'un cambriolage").click()
    expect(page).to_have_url(re.compile(r"/situations/vol-cambriolage$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("J'ai été victime d'un vol ou d'un cambriolage")
    page.get_by_role("link", name="Porter plainte en ligne", exact=True).click()
    expect(page).to_have_url(re.compile(r"/demarches/plainte-en-ligne$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Porter plainte en ligne")
    expect(page.get_by_role("link", name="Porter plainte en ligne sur Ma Sécurité")).to_be_visible()


def test_home_to_life_event_to_procedure(page):
    _life_event_to_procedure(page)


def test_home_to_life_event_to_procedure_without_javascript(page_without_js):
    _life_event_to_procedure(page_without_js)


def test_live_search_then_enter_then_back(page):
    page.goto("/")
    page.evaluate("window.__sameDocument = true")
    box = page.get_by_label("Que vous arrive-t-il ?")
    box.press_sequentially("vol de papiers", delay=40)
    first = page.locator("#live-results ol.portal-results > li h2 a").first
    expect(first).to_have_text("Déclarer le vol de ses papiers d'identité")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"\d+ résultats pour « vol de papiers »"))
    # Results came without loading a page: the document is the same one.
    assert page.evaluate("window.__sameDocument") is True
    assert urlsplit(page.url).path == "/"

    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/recherche\?q=vol\+de\+papiers$"))
    expect(page.locator(FIRST_RESULT).first).to_have_text("Déclarer le vol de ses papiers d'identité")
    expect(page).to_have_title("Recherche : vol de papiers — Portail citoyen")
    shared = page.url

    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    # The shareable address gives the same results to someone else.
    page.goto(shared)
    expect(page.locator(FIRST_RESULT).first).to_have_text("Déclarer le vol de ses papiers d'identité")


def test_results_page_follows_typing_and_keeps_a_shareable_address(page):
    page.goto("/recherche")
    page.evaluate("window.__sameDocument = true")
    box = page.get_by_label("Rechercher une démarche")
    box.press_sequentially("arnaque leboncoin", delay=40)
    expect(page.locator(FIRST_RESULT).first).to_have_text(re.compile("THESEE"))
    expect(page).to_have_url(re.compile(r"/recherche\?q=arnaque(\+|%20)leboncoin$"))
    assert page.evaluate("window.__sameDocument") is True
    page.reload()
    expect(page.locator(FIRST_RESULT).first).to_have_text(re.compile("THESEE"))


def test_search_without_javascript(page_without_js):
    page = page_without_js
    page.goto("/")
    box = page.get_by_label("Que vous arrive-t-il ?")
    box.fill("jai perdu ma cni")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/recherche\?q=jai\+perdu\+ma\+cni$"))
    expect(page.locator(FIRST_RESULT).first).to_have_text("Papiers d'identité perdus : que faire ?")
    page.get_by_role("link", name="Page suivante").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/recherche\?q=jai\+perdu\+ma\+cni$"))


def test_no_result_shows_suggestions(page):
    page.goto("/recherche?q=xqzwkj+vbnrt")
    expect(page.locator("#search-status")).to_have_text("Aucun résultat pour « xqzwkj vbnrt »")
    expect(page.get_by_role("link", name="Je subis des violences")).to_be_visible()
    expect(page.get_by_role("link", name="échangez par écrit avec un policier ou un gendarme")).to_be_visible()
    expect(page.get_by_role("link", name="17")).to_have_attribute("href", "tel:17")
    page.goto("/recherche?q=cambriolaeg")
    page.get_by_role("link", name="cambriolage").first.click()
    expect(page).to_have_url(re.compile(r"q=cambriolage$"))


def test_quick_exit_leaves_at_once_and_is_not_in_history(page, watch, app):
    neutral = app.config["QUICK_EXIT_URL"]
    watch.allow(f"{urlsplit(neutral).scheme}://{urlsplit(neutral).netloc}")
    page.goto("/")
    page.get_by_role("link", name="Je subis des violences").click()
    expect(page).to_have_url(re.compile(r"/situations/violences$"))
    page.wait_for_load_state()  # before its script runs, the exit is a plain link, kept in the history
    page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    page.go_back()
    # The violence page was replaced in the history: Back returns to the page before it.
    expect(page).to_have_url(re.compile(r"/$"))


def test_quick_exit_works_before_the_other_scripts_have_arrived(context, app):
    """On a slow connection the deferred scripts may still be loading: the exit is already there."""
    ctx, watch = context
    neutral = app.config["QUICK_EXIT_URL"]
    watch.allow(f"{urlsplit(neutral).scheme}://{urlsplit(neutral).netloc}")
    ctx.route(re.compile(r"/assets/(js/portal|vendor/htmx/htmx|vendor/dsfr/dsfr\.module)"), lambda route: route.abort())
    page = ctx.new_page()
    page.goto("/")
    page.goto("/situations/violences")
    page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))


def test_quick_exit_by_pressing_shift_three_times(page, watch, app):
    neutral = app.config["QUICK_EXIT_URL"]
    watch.allow(f"{urlsplit(neutral).scheme}://{urlsplit(neutral).netloc}")
    page.goto("/demarches/violences-conjugales")
    expect(page.get_by_text("ou appuyez 3 fois sur la touche Maj")).to_be_visible()
    for _ in range(3):
        page.keyboard.press("Shift")
    expect(page).to_have_url(neutral)


def test_quick_exit_without_javascript_is_a_plain_link(page_without_js, app):
    page_without_js.goto("/situations/violences")
    link = page_without_js.get_by_role("link", name="Quitter rapidement ce site")
    expect(link).to_have_attribute("href", app.config["QUICK_EXIT_URL"])
    expect(link).to_have_attribute("rel", re.compile("noreferrer"))
    # The keyboard shortcut needs JavaScript, so its hint stays hidden.
    expect(page_without_js.get_by_text("ou appuyez 3 fois sur la touche Maj")).to_be_hidden()


def test_unsafe_htmx_requests_carry_the_csrf_token(browser, tmp_path, csp_report_log):
    """A page declaring its token: an htmx POST goes through; without it, it is refused."""
    application = make_app(tmp_path)

    @application.get("/_form")
    def form():
        return render_template_string(
            '{% extends "base.html" %}{% block title %}Essai{% endblock %}'
            '{% block csrf_meta %}<meta name="csrf-token" content="{{ csrf_token() }}">{% endblock %}'
            '{% block content %}<button id="go" hx-post="/_change" hx-target="#out">Envoyer</button>'
            '<p id="out"></p>{% endblock %}'
        )

    @application.post("/_change")
    def change():
        return "modifié"

    server = LiveServer(application)
    try:
        page = browser.new_page(base_url=server.url)
        page.goto("/_form")
        page.click("#go")
        expect(page.locator("#out")).to_have_text("modifié")
        page.evaluate("document.querySelector('meta[name=csrf-token]').remove()")
        page.evaluate("document.querySelector('#out').textContent = ''")
        with page.expect_response("**/_change") as response:
            page.click("#go")
        assert response.value.status == 400
        page.close()
    finally:
        server.stop()
