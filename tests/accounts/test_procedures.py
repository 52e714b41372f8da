"""Procedures that need an identity: sign in, come back to exactly where you were."""

from __future__ import annotations

from urllib.parse import unquote


def test_starting_a_procedure_asks_to_sign_in_and_comes_back(browser):
    start = browser.portal.get("/demarches/visio-plainte/commencer")
    assert start.status_code == 302
    assert unquote(start.headers["Location"]) == "/connexion?next=/demarches/visio-plainte/commencer"
    login_page = browser.portal.get(start.headers["Location"]).get_data(as_text=True)
    assert "Connectez-vous pour continuer votre démarche" in login_page
    # FranceConnect first, then "ou", then the alternative.
    assert login_page.index("S’identifier avec") < login_page.index(">ou<") < login_page.index("Recevoir un code")
    assert 'title="Qu’est-ce que FranceConnect ? - nouvelle fenêtre"' in login_page
    back = browser.sign_in("test", "/demarches/visio-plainte/commencer")
    assert back.headers["Location"] == "/demarches/visio-plainte/commencer"
    html = browser.portal.get("/demarches/visio-plainte/commencer").get_data(as_text=True)
    assert "DUBOIS" in html and "Votre identité" in html


def test_the_procedure_page_offers_to_start_when_it_needs_franceconnect(browser):
    html = browser.portal.get("/demarches/thesee").get_data(as_text=True)
    assert 'href="/demarches/thesee/commencer"' in html
    # A procedure the portal runs itself opens it instead.
    html = browser.portal.get("/demarches/plainte-en-ligne").get_data(as_text=True)
    assert 'href="/plainte-en-ligne"' in html and "/commencer" not in html
    html = browser.portal.get("/demarches/main-courante").get_data(as_text=True)
    assert "/commencer" not in html
    browser.sign_in("test")
    assert browser.portal.get("/demarches/main-courante/commencer").status_code == 404


def test_pages_with_an_identity_are_never_cached(browser):
    browser.sign_in("test")
    for url in ("/mon-espace", "/demarches/thesee/commencer"):
        assert browser.portal.get(url).headers["Cache-Control"] == "no-store"


def test_pages_for_a_signed_in_citizen_are_private_and_vary_on_the_cookie(browser):
    anonymous = browser.portal.get("/demarches/thesee")
    assert "private" not in anonymous.headers.get("Cache-Control", "")
    browser.sign_in("test")
    for url in ("/", "/demarches/thesee", "/recherche?q=vol"):
        headers = browser.portal.get(url).headers
        assert "private" in headers["Cache-Control"] and "Cookie" in headers["Vary"], url


def test_violence_pages_are_never_kept_by_the_browser(browser):
    for signed_in in (False, True):
        if signed_in:
            browser.sign_in("test")
        for url in ("/demarches/violences-conjugales", "/situations/violences"):
            response = browser.portal.get(url)
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "no-store", url
            assert response.headers["Referrer-Policy"] == "no-referrer"
