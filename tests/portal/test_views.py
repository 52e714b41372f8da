"""Home, life events, sources and health."""

from __future__ import annotations

import re

from tests.conftest import make_app

LIFE_EVENT_TITLES = [
    "J&#39;ai été victime d&#39;un vol ou d&#39;un cambriolage",
    "J&#39;ai perdu mes papiers ou on me les a volés",
    "J&#39;ai été victime d&#39;une arnaque ou d&#39;une escroquerie",
    "Je subis des violences",
    "Je suis harcelé en ligne",
    "J&#39;ai vu un contenu illégal sur internet",
    "Je pars en vacances",
    "C&#39;est une urgence",
    "Je cherche un commissariat ou une gendarmerie",
]


def test_home_offers_search_life_events_and_emergency_numbers(client):
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="fr"' in html
    assert '<form class="fr-mb-2w" action="/recherche" method="get" role="search"' in html
    for title in LIFE_EVENT_TITLES:
        assert title in html
    assert "appelez le 17 ou le 112" in html and 'href="sms:114"' in html
    assert 'href="/demarches/plainte-en-ligne"' in html


def test_life_event_lists_its_procedures_in_order(client):
    html = client.get("/situations/papiers-perdus-voles").get_data(as_text=True)
    links = re.findall(r'href="/demarches/([a-z0-9-]+)"', html.split("<main", 1)[1])
    assert links[:3] == ["perte-papiers-identite", "vol-papiers-identite", "plainte-en-ligne"]
    assert client.get("/situations/inconnue").status_code == 404


def test_every_page_title_is_unique_and_french(client):
    titles = set()
    for url in ("/", "/demarches/", "/situations/violences", "/demarches/thesee", "/fiches/F1344",
                "/recherche", "/recherche?q=vol", "/sources", "/accessibilite"):
        html = client.get(url).get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html).group(1)
        assert title.endswith("— Portail citoyen")
        titles.add(title)
    assert len(titles) == 9


def test_sources_page_cites_the_data_and_its_licence(client):
    html = client.get("/sources").get_data(as_text=True)
    assert "Service-Public.fr" in html and "DILA" in html and "Licence Ouverte" in html
    assert "4\u202f819 fiches" in html


def test_health_answers_when_database_and_index_answer(client):
    page = client.get("/healthz")
    assert page.status_code == 200
    assert page.get_json() == {"status": "ok"}


def test_health_reports_a_missing_index(tmp_path):
    broken = make_app(tmp_path, SEARCH_INDEX_DIR=str(tmp_path / "nothing-here"))
    page = broken.test_client().get("/healthz")
    assert page.status_code == 503
    assert page.get_json()["checks"]["search"] == "unavailable"


def test_errors_are_french_pages_never_stack_traces(client):
    page = client.post("/")
    assert page.status_code in (400, 405)
    html = page.get_data(as_text=True)
    assert "Traceback" not in html
    assert "Erreur" in html


def test_accessibility_statement_follows_the_rgaa_model(client):
    html = client.get("/accessibilite").get_data(as_text=True)
    for heading in ("État de conformité", "Résultats des tests", "Contenus non accessibles",
                    "Établissement de cette déclaration", "Retour d'information et contact",
                    "Voies de recours"):
        assert f"<h2>{heading}</h2>" in html
    assert "Le Portail citoyen est non conforme" in html
    assert "Défenseur des droits" in html
    footer = client.get("/").get_data(as_text=True).split('id="footer"', 1)[1]
    assert 'href="/accessibilite">Accessibilité : non conforme</a>' in footer
