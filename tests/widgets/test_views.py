"""The widgets' pages on the real data (Le Mans, 72181): what a citizen sees in the frame, and what never happens."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from portal.config import ROOT
from portal.security import limiter
from tests.widgets.mairies import COMMUNE, ORIGIN, OTHER_COMMUNE, OTHER_ORIGIN, registered

LE_MANS = "72181"
PAGES = {
    "recherche": f"/widgets/recherche?commune={LE_MANS}",
    "recherche-widget": f"/widgets/recherche?commune={LE_MANS}&resultats=widget&q=plainte+en+ligne",
    "situations": f"/widgets/situations?commune={LE_MANS}",
    "unites": f"/widgets/unites?commune={LE_MANS}",
    "unites-carte": f"/widgets/unites?commune={LE_MANS}&carte=1",
    "demarche": f"/widgets/demarche?commune={LE_MANS}&demarches=plainte-en-ligne,pharos",
    "urgences": f"/widgets/urgences?commune={LE_MANS}",
}
IFRAME = {"Sec-Fetch-Dest": "iframe"}


def _get(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code)
    return response, response.get_data(as_text=True)


def _frame_ancestors(response) -> str:
    csp = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", csp).group(1)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# -- what a citizen sees ------------------------------------------------------------------------------------


def test_the_search_widget_opens_the_portal_search_in_a_new_window(client):
    response, html = _get(client, PAGES["recherche"])
    assert '<html lang="fr" data-fr-scheme="light" data-fr-theme="light"' in html
    form = re.search(r'<form action="/recherche" method="get" target="_blank" role="search">', html)
    assert form
    assert '<label class="fr-label" for="widget-q">' in html and 'name="q"' in html
    assert "nouvelle fenêtre" in html
    assert "<header" not in html and "fr-header" not in html  # not the portal's page


def test_the_search_widget_shows_results_inline_linking_to_the_portal(client):
    response, html = _get(client, PAGES["recherche-widget"])
    assert '<form action="/widgets/recherche" method="get" role="search">' in html
    assert '<input type="hidden" name="commune" value="72181">' in html
    assert '<input type="hidden" name="resultats" value="widget">' in html
    first = re.search(r'<ol class="widget__list">\s*<li>\s*<h2[^>]*><a href="([^"]+)"[^>]*target="_blank" '
                      r'rel="noopener"', html)
    assert first and first.group(1) == "/demarches/plainte-en-ligne"
    assert 'role="status"' in html
    assert 'href="/recherche?q=plainte+en+ligne"' in html


def test_a_search_about_violence_in_the_widget_is_not_kept(client):
    response, html = _get(client, f"/widgets/recherche?commune={LE_MANS}&resultats=widget&q=mon+mari+me+frappe")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "<title>Rechercher une démarche" in html  # no query in the title


def test_the_situations_widget_lists_each_situation_with_its_procedures(client):
    response, html = _get(client, PAGES["situations"])
    assert "Que vous arrive-t-il ?" in html
    assert re.search(r'<a href="/situations/[a-z0-9-]+" class="fr-link" target="_blank" rel="noopener" '
                     r'title="[^"]+ - nouvelle fenêtre">', html)
    assert 'href="/demarches/plainte-en-ligne"' in html
    assert html.count("/situations/") >= 5


def test_the_units_widget_lists_the_nearest_units_with_todays_hours(client):
    response, html = _get(client, PAGES["unites"])
    text = _text(html)
    assert "les plus proches de la mairie du Mans" in text
    units = re.findall(r'<a href="/commissariats/([^"]+)" class="fr-link" target="_blank"', html)
    assert len(units) == 5
    assert "Téléphone :" in text and 'href="tel:' in html
    assert re.search(r"Ouvert maintenant|Fermé|Horaires non communiqués", text)
    assert "à vol d'oiseau" in text
    assert "annuaire de l'administration" in text  # the data's source
    assert "<svg" not in html
    assert "compétent" not in text


def test_the_units_widget_draws_a_plan_with_a_text_alternative(client):
    response, html = _get(client, PAGES["unites-carte"])
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<circle") == 5
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_compact_shows_fewer_units_in_a_denser_layout(client):
    response, html = _get(client, f"/widgets/unites?commune={LE_MANS}&compact=1")
    assert '<body class="widget widget--compact">' in html
    assert len(re.findall(r'<a href="/commissariats/[^"]+" class="fr-link"', html)) == 3


def test_the_procedure_widget_shows_one_card_per_procedure(client):
    response, html = _get(client, PAGES["demarche"])
    titles = re.findall(r'<h2 class="fr-card__title">([^<]+)</h2>', html)
    assert len(titles) == 2
    assert re.search(r'<a class="fr-btn" href="/demarches/plainte-en-ligne" target="_blank" rel="noopener"', html)
    assert 'href="/demarches/pharos"' in html


@pytest.mark.parametrize("value", ["", "inconnue-xyz", "a,b,c,d,e,f,g", "PLAINTE EN LIGNE"])
def test_the_procedure_widget_refuses_wrong_procedures_in_french(client, value):
    response, html = _get(client, f"/widgets/demarche?commune={LE_MANS}&demarches={value}", 400)
    assert "Widget mal configuré" in html and "démarche" in html
    assert 'href="/mairies"' in html


def test_the_emergency_widget_gives_17_112_114_and_the_nearest_units(client):
    response, html = _get(client, PAGES["urgences"])
    text = _text(html)
    assert 'href="tel:17"' in html and 'href="tel:112"' in html and 'href="sms:114"' in html
    assert "sourdes, malentendantes" in text
    assert "Le commissariat et la brigade les plus proches" in text
    assert "Police nationale" in text and "Gendarmerie nationale" in text
    assert "compétent" not in text


def test_the_dark_theme_is_set_by_the_server(client):
    response, html = _get(client, f"/widgets/urgences?commune={LE_MANS}&theme=sombre")
    assert '<html lang="fr" data-fr-scheme="dark" data-fr-theme="dark"' in html
    # The DSFR's dark colours, which the main stylesheet lacks, come with it; a light widget does without.
    assert "/assets/vendor/dsfr/dsfr-dark." in html
    assert "dsfr-dark" not in _get(client, f"/widgets/urgences?commune={LE_MANS}")[1]


@pytest.mark.parametrize("query, says", [
    ("", "Le paramètre commune"),
    ("commune=99999", "Aucune commune n'a ce code INSEE"),
    ("commune=72000", "Aucune commune n'a ce code INSEE"),
    ("commune=Le+Mans", "code INSEE à cinq caractères"),
    (f"commune={LE_MANS}&theme=bleu", "« clair » ou « sombre »"),
    (f"commune={LE_MANS}&compact=oui", "Le paramètre compact"),
    # Which one was meant is a guess the widget does not make.
    (f"commune={LE_MANS}&commune=99999", "Le paramètre commune est donné plusieurs fois"),
    (f"commune={LE_MANS}&theme=sombre&theme=clair", "Le paramètre theme est donné plusieurs fois"),
])
def test_a_wrong_option_is_a_french_400_inside_the_frame(client, query, says):
    response, html = _get(client, f"/widgets/urgences?{query}", 400)
    assert says in unescape(html)
    assert "<header" not in html
    assert _frame_ancestors(response) == "'self'"
    assert "Set-Cookie" not in response.headers


def test_options_of_each_widget_are_checked(client):
    _get(client, f"/widgets/unites?commune={LE_MANS}&carte=2", 400)
    _get(client, f"/widgets/recherche?commune={LE_MANS}&resultats=ailleurs", 400)
    _get(client, f"/widgets/demarche?commune={LE_MANS}", 400)


def test_the_frame_script_is_loaded_with_its_nonce_and_integrity(client):
    response, html = _get(client, PAGES["situations"])
    script = re.search(r'<script src="(/assets/js/widget_frame\.[0-9a-f]+\.js)" integrity="sha384-[^"]+" '
                       r'nonce="([^"]+)" defer></script>', html)
    assert script
    assert f"'nonce-{script.group(2)}'" in response.headers["Content-Security-Policy"]
    assert re.search(r'<html [^>]*data-parent-origins="http://localhost"', html)


def test_the_loader_is_served_at_its_stable_address(client):
    response = client.get("/widgets/loader.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    body = response.get_data(as_text=True)
    assert body == (ROOT / "static" / "js" / "widget_loader.js").read_text(encoding="utf-8")
    assert "portail-widget:bonjour" in body and "event.source" in body and "event.origin !== portal" in body
    again = client.get("/widgets/loader.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_loader_builds_the_iframe_the_brief_describes():
    body = (ROOT / "static" / "js" / "widget_loader.js").read_text(encoding="utf-8")
    assert '"allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"' in body
    assert '"referrerpolicy", "strict-origin"' in body and '"loading", "lazy"' in body
    assert "Math.min(4000, Math.max(80" in body
    assert "innerHTML" not in body and "location" not in body  # never acts on HTML or URLs from a message
    frame = (ROOT / "static" / "js" / "widget_frame.js").read_text(encoding="utf-8")
    assert "event.source !== window.parent" in frame and "allowed.indexOf(event.origin)" in frame
    assert '"*"' not in frame  # never posts to any origin


# -- what must never happen ----------------------------------------------------------------------------------


def test_no_widget_response_sets_a_cookie_even_to_a_visitor_with_a_session(client):
    client.set_cookie("portail_session", "a" * 43)
    client.set_cookie("portail_jeton", "not-a-token")
    urls = [*PAGES.values(), "/widgets/non-autorise", "/widgets/loader.js", "/widgets/urgences",
            f"/widgets/urgences?commune={LE_MANS}&theme=bleu"]
    for url in urls:
        response = client.get(url, headers={"Referer": "https://ailleurs.example/", **IFRAME})
        assert "Set-Cookie" not in response.headers, url
        assert "Cookie" not in response.headers.get("Vary", ""), url


def test_a_citizen_signed_in_on_the_portal_is_neither_recognised_nor_touched_by_a_widget(browser):
    """The widget is stateless: the session cookie a signed-in citizen's browser sends is not read, renewed
    nor replaced, and nothing of the citizen appears in the frame."""
    browser.sign_in()
    assert "Se déconnecter" in browser.portal.get("/").get_data(as_text=True)  # signed in on the portal
    for url in PAGES.values():
        response = browser.portal.get(url, headers={"Referer": "http://localhost/mairies", **IFRAME})
        assert response.status_code == 200, url
        assert "Set-Cookie" not in response.headers, url
        html = response.get_data(as_text=True)
        assert "Se déconnecter" not in html and "Mon espace" not in html, url


def test_frame_ancestors_is_self_plus_the_mairies_origins_on_widgets_and_none_elsewhere(app, client):
    with registered(app, (COMMUNE, (ORIGIN, "https://mairie-test.fr"), True), (OTHER_COMMUNE, (OTHER_ORIGIN,), True)):
        for name in ("recherche", "situations", "unites", "urgences"):
            response, _ = _get(client, f"/widgets/{name}?commune={COMMUNE}")
            assert _frame_ancestors(response) == f"'self' https://mairie-test.fr {ORIGIN}", name
        response, _ = _get(client, f"/widgets/demarche?commune={COMMUNE}&demarches=pharos")
        assert _frame_ancestors(response) == f"'self' https://mairie-test.fr {ORIGIN}"
        response, html = _get(client, f"/widgets/urgences?commune={COMMUNE}")
        assert f'data-parent-origins="http://localhost https://mairie-test.fr {ORIGIN}"' in html
        response, _ = _get(client, PAGES["urgences"])
        assert _frame_ancestors(response) == "'self'"
    for url in ("/", "/recherche?q=vol", "/commissariats", "/mairies"):
        assert _frame_ancestors(client.get(url)) == "'none'", url


def test_an_inactive_registration_frames_nowhere(app, client):
    with registered(app, (COMMUNE, (ORIGIN,), False)):
        response, _ = _get(client, f"/widgets/urgences?commune={COMMUNE}")
        assert _frame_ancestors(response) == "'self'"
        response, html = _get(client, f"/widgets/urgences?commune={COMMUNE}", 403, Referer=f"{ORIGIN}/", **IFRAME)
        assert "Widget non autorisé" in html


def test_an_unregistered_embedder_gets_the_refusal_page(app, client):
    with registered(app, (COMMUNE, (ORIGIN,), True), (OTHER_COMMUNE, (OTHER_ORIGIN,), True)):
        cases = [
            (f"/widgets/urgences?commune={COMMUNE}", "https://pirate.example/page", 403),
            (f"/widgets/urgences?commune={COMMUNE}", f"{OTHER_ORIGIN}/", 403),  # another commune's site
            (f"/widgets/urgences?commune={LE_MANS}", f"{ORIGIN}/", 403),  # not its commune
            ("/widgets/urgences", "https://pirate.example/", 403),  # whatever the commune
            (f"/widgets/urgences?commune={COMMUNE}&theme=bleu", "https://pirate.example/", 403),
        ]
        for url, referer, status in cases:
            response, html = _get(client, url, status, Referer=referer, **IFRAME)
            assert "Widget non autorisé" in html, (url, referer)
            assert _frame_ancestors(response) == "*"
            assert 'href="/mairies" class="fr-link" target="_blank" rel="noopener"' in html
            assert "Le Mans" not in html and "Laval" not in html  # no data
        # Its registered site gets the widget; so does the portal (the builder's preview), and a plain visit.
        response, html = _get(client, f"/widgets/urgences?commune={COMMUNE}", Referer=f"{ORIGIN}/contact", **IFRAME)
        assert "Urgence" in html and _frame_ancestors(response) == f"'self' {ORIGIN}"
        _get(client, f"/widgets/urgences?commune={COMMUNE}", Referer="http://localhost/mairies", **IFRAME)
        _get(client, f"/widgets/urgences?commune={COMMUNE}", Referer="https://pirate.example/",
             **{"Sec-Fetch-Dest": "document"})
        # A registered site that got a parameter wrong sees why, in its frame.
        response, html = _get(client, f"/widgets/urgences?commune={LE_MANS}&theme=bleu", 400,
                              Referer=f"{ORIGIN}/", **IFRAME)
        assert "« clair » ou « sombre »" in html
        assert _frame_ancestors(response) == f"'self' {ORIGIN}"


def test_the_refusal_page_may_be_framed_by_anyone(client):
    response, html = _get(client, "/widgets/non-autorise")
    assert _frame_ancestors(response) == "*"
    assert "<h1" in html and "Widget non autorisé" in html
    assert 'href="/mairies"' in html and "nouvelle fenêtre" in html
    assert "widget_frame" not in html


def test_widget_answers_vary_with_who_frames_them(client):
    response, _ = _get(client, PAGES["urgences"])
    assert response.headers["Cache-Control"] == "private, max-age=60"
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert {"Referer", "Sec-Fetch-Dest"} <= vary


ALLOWED_LINK = re.compile(r"^(?:/(?!/)|#|tel:|sms:)")


def test_no_widget_page_names_an_address_outside_the_portal(app, client):
    """Only links the citizen clicks lead out of the frame, and they lead to the portal (relative addresses)."""
    with registered(app, (COMMUNE, (ORIGIN,), True)):
        urls = [*PAGES.values(), "/widgets/non-autorise", "/widgets/urgences?commune=99999",
                f"/widgets/unites?commune={COMMUNE}&carte=1&theme=sombre&compact=1"]
        for url in urls:
            html = client.get(url).get_data(as_text=True)
            for attribute, value in re.findall(r'\b(src|href|action|srcset|poster|data)="([^"]*)"', html):
                assert ALLOWED_LINK.match(value), (url, attribute, value)
            assert "url(" not in html and "@import" not in html, url


def test_no_widget_template_marks_text_safe():
    for path in Path(ROOT / "templates" / "widgets").glob("*.html"):
        if path.name.startswith("builder") or path.name.startswith("_builder"):
            continue
        assert "|safe" not in path.read_text(encoding="utf-8").replace(" ", ""), path.name


def test_too_many_requests_are_answered_inside_the_frame(app, client):
    app.config["WIDGET_RATE_LIMIT"] = "2 per minute"
    try:
        limiter.reset()
        for _ in range(2):
            _get(client, PAGES["urgences"])
        response, html = _get(client, PAGES["urgences"], 429)
        assert "Trop de demandes" in html and "<header" not in html
        assert _frame_ancestors(response) == "'self'"
        assert "Retry-After" in response.headers
    finally:
        app.config["WIDGET_RATE_LIMIT"] = "300 per minute"
        limiter.reset()


def test_the_loader_names_and_sizes_the_widgets_as_the_portal_does():
    """The iframe titles and starting heights in the loader are those of widgets.services.WIDGETS."""
    from widgets.services import WIDGETS

    body = (ROOT / "static" / "js" / "widget_loader.js").read_text(encoding="utf-8")
    found = dict((name, (title, int(height))) for name, title, height in
                 re.findall(r'(\w+): \["([^"]+)", (\d+)\]', body))
    assert found == {name: (kind.title, kind.height) for name, kind in WIDGETS.items()}


def test_a_search_index_down_is_said_inside_the_frame(client, monkeypatch):
    from search.engine import SearchUnavailable
    from widgets import views

    def down(*args, **kwargs):
        raise SearchUnavailable("index unreadable")

    monkeypatch.setattr(views.search_services, "search_and_sensitivity", down)
    response, html = _get(client, PAGES["recherche-widget"], 503)
    assert "momentanément indisponible" in html and 'href="tel:17"' in html
    assert "<header" not in html
