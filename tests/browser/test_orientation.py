"""The orientation in Chromium: htmx swaps questions in place, pushes only fixed addresses, Back works,
the same journey works without JavaScript, and axe finds no WCAG A/AA violation on its pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.conftest import run_axe
from tests.orientation.test_orientation import JOURNEY_URLS


def _path(page: Page) -> str:
    parts = urlsplit(page.url)
    assert not parts.query, page.url
    return parts.path


def _settled(page: Page) -> None:
    """htmx has finished swapping and processing what it brought (a click before that is an ordinary one)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, "
                           ".htmx-added')")


def _choose_and_continue(page: Page, label: str) -> None:
    _settled(page)
    # DSFR draws its own radio: what the citizen clicks is the label.
    page.locator("label.fr-label", has_text=label).click()
    page.get_by_role("button", name="Continuer").click()


def test_htmx_journey_swaps_in_place_and_pushes_no_answer(page):
    page.goto("/porter-plainte")
    expect(page.locator("#quick-exit")).to_be_visible()
    page.get_by_role("link", name="Commencer").click()
    expect(page).to_have_url(re.compile(r"/porter-plainte/danger$"))
    page.wait_for_load_state()  # htmx starts on this page's load: from here on, one document
    page.evaluate("window.__sameDocument = true")
    _settled(page)

    # Nothing chosen: the error in place, with the page title.
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("#reponse-error")).to_have_text("Sélectionnez une réponse")
    expect(page).to_have_title(re.compile(r"^Erreur : Quelqu'un est-il en danger"))
    assert _path(page) == "/porter-plainte/danger"
    assert run_axe(page) == []

    visited = []
    _choose_and_continue(page, "Non, personne n'est en danger immédiat")
    expect(page).to_have_url(re.compile(r"/porter-plainte/faits$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Que s'est-il passé ?")
    visited.append(_path(page))
    _choose_and_continue(page, "Des violences sexuelles")
    expect(page).to_have_url(re.compile(r"/porter-plainte/recapitulatif$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos réponses")
    visited.append(_path(page))
    _settled(page)
    page.get_by_role("link", name="Voir où m'adresser").click()
    expect(page).to_have_url(re.compile(r"/porter-plainte/resultat$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Portez plainte en personne, au commissariat ou à la gendarmerie")
    visited.append(_path(page))
    # htmx did it all in one document, and the quick exit stayed.
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#quick-exit")).to_be_visible()
    assert page.locator("a[href*='visio']").count() == 0
    assert run_axe(page) == []
    assert set(visited) <= JOURNEY_URLS

    # Back: the previous address gives the whole page again, with the answers kept.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/porter-plainte/recapitulatif$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos réponses")
    page.get_by_role("link", name="Modifier : Ce qui s'est passé").click()
    expect(page).to_have_url(re.compile(r"/porter-plainte/faits$"))
    expect(page.get_by_label("Des violences sexuelles")).to_be_checked()


def test_the_journey_without_javascript(page_without_js):
    page = page_without_js
    page.goto("/")
    page.get_by_role("link", name="Je veux porter plainte ou signaler quelque chose").first.click()
    expect(page).to_have_url(re.compile(r"/porter-plainte$"))
    page.get_by_role("link", name="Commencer").click()
    _choose_and_continue(page, "Non, personne n'est en danger immédiat")
    _choose_and_continue(page, "Un vol, un cambriolage ou une dégradation")
    expect(page).to_have_url(re.compile(r"/porter-plainte/auteur$"))
    page.get_by_role("link", name="Retour").click()
    expect(page.get_by_label("Un vol, un cambriolage ou une dégradation")).to_be_checked()
    page.get_by_role("button", name="Continuer").click()
    _choose_and_continue(page, "Non, je ne sais pas qui c'est")
    expect(page).to_have_url(re.compile(r"/porter-plainte/recapitulatif$"))
    page.get_by_role("link", name="Voir où m'adresser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déposez plainte en ligne")
    assert _path(page) in JOURNEY_URLS
    page.get_by_role("button", name="Recommencer").click()
    expect(page).to_have_url(re.compile(r"/porter-plainte/danger$"))
    expect(page.get_by_label("Non, personne n'est en danger immédiat")).not_to_be_checked()


def test_the_quick_exit_leaves_no_answer_for_the_next_person(page, watch, app):
    """After answering "violences" and leaving by the quick exit, whoever opens the orientation again
    finds a blank start: the exit's beacon made the server forget the answers."""
    neutral = app.config["QUICK_EXIT_URL"]
    watch.allow(f"{urlsplit(neutral).scheme}://{urlsplit(neutral).netloc}")
    page.goto("/porter-plainte/danger")
    _choose_and_continue(page, "Non, personne n'est en danger immédiat")
    _choose_and_continue(page, "Des violences, des menaces, du harcèlement ou une discrimination")
    expect(page).to_have_url(re.compile(r"/porter-plainte/recapitulatif$"))
    with page.expect_request(lambda request: request.url.endswith("/sortie-rapide")) as beacon:
        page.get_by_role("link", name="Quitter rapidement ce site").click()
    expect(page).to_have_url(neutral)
    assert beacon.value.method == "POST"
    beacon.value.response()  # the server has answered: the answers are gone
    page.goto("/porter-plainte")
    expect(page.get_by_role("link", name="Commencer")).to_be_visible()
    expect(page.get_by_text("Reprendre")).to_have_count(0)
