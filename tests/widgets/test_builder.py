"""The builder page for mairies (/mairies): without JavaScript, its fragment for htmx, and what it refuses."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.editorial.back_office import text_of
from widgets import admin, builder, registry

LE_MANS = "72181"
pytestmark = pytest.mark.usefixtures("fresh_registry")


def _code(html: str, snippet: str) -> str:
    """The text of one snippet, as the webmaster copies it."""
    return unescape(re.search(rf'<code id="snippet-{snippet}">(.*?)</code>', html, re.S).group(1))


def test_the_page_without_javascript_asks_for_a_commune(client):
    response = client.get("/mairies")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Intégrer le portail dans le site de votre mairie</h1>" in html
    assert '<form method="get" action="/mairies"' in html and 'type="submit"' in html
    for name in builder.WIDGETS:
        assert f'name="widget" value="{name}"' in html
    assert "Indiquez votre commune" in html and "builder-preview" not in html
    assert "HX-Request" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers
    assert 'href="/mairies">Mairies : intégrer le portail</a>' in html  # the footer's link


def test_the_snippets_of_the_chosen_widget_carry_the_right_escaped_url(client, app):
    public = app.config["PUBLIC_URL"]
    response = client.get("/mairies?q=72181&widget=unites&theme=sombre&carte=1&compact=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Le Mans (72)"' in html
    # The preview: an attribute, its & escaped once.
    assert 'src="/widgets/unites?commune=72181&amp;theme=sombre&amp;compact=1&amp;carte=1"' in html
    # The snippets are text: the page shows what to paste (the iframe's & written &amp; in its attribute).
    assert "&lt;iframe src=" in html and "<iframe src=\"http" not in html
    iframe = _code(html, "iframe")
    assert iframe.startswith(f'<iframe src="{public}/widgets/unites?commune=72181&amp;theme=sombre&amp;compact=1'
                             '&amp;carte=1"')
    assert 'title="Commissariats et brigades de gendarmerie les plus proches (Portail citoyen)"' in iframe
    assert ('sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"'
            in iframe) and 'referrerpolicy="strict-origin"' in iframe and 'loading="lazy"' in iframe
    loader = _code(html, "loader")
    assert loader == (f'<script src="{public}/widgets/loader.js" defer></script>\n'
                      '<div data-portail-widget="unites" data-commune="72181" data-theme="sombre" data-compact="1" '
                      'data-carte="1"></div>')
    assert 'data-copy="snippet-loader"' in html and 'id="snippet-loader-status"' in html


def test_each_widget_gets_only_its_own_parameters(client):
    search = client.get("/mairies?q=Le+Mans&widget=recherche&resultats=widget&carte=1").get_data(as_text=True)
    assert 'src="/widgets/recherche?commune=72181&amp;resultats=widget"' in search
    card = client.get("/mairies?q=72181&widget=demarche&demarches=plainte-en-ligne&demarches=appels-urgence")
    assert 'src="/widgets/demarche?commune=72181&amp;demarches=plainte-en-ligne,appels-urgence"' in card.get_data(
        as_text=True)
    emergencies = client.get("/mairies?q=72181&widget=urgences").get_data(as_text=True)
    assert 'src="/widgets/urgences?commune=72181"' in emergencies


def test_registration_status_both_ways(client, app, db_session):
    page = text_of(client.get("/mairies?q=72181&widget=urgences"))
    assert "La mairie du Mans n'est pas inscrite" in page
    assert "Widget non autorisé" in page and "72181" in page
    with app.app_context():
        admin.register(db_session, None, LE_MANS, "", "accueil@lemans.fr",
                       "https://www.lemans.fr\nhttps://demarches.lemans.fr", allow_loopback=False)
        db_session.commit()
        registry.invalidate()
    page = text_of(client.get("/mairies?q=72181&widget=urgences"))
    assert "La mairie du Mans est inscrite" in page
    assert "https://www.lemans.fr" in page and "https://demarches.lemans.fr" in page


def test_how_to_ask_never_invents_an_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIRIES_CONTACT", "")
    html = client.get("/mairies?q=72181").get_data(as_text=True)
    assert "l'éditeur du portail" in unescape(html) and 'href="/mentions-legales"' in html
    assert "mailto:" not in html
    monkeypatch.setitem(app.config, "MAIRIES_CONTACT", "widgets@portail.example.gouv.fr")
    html = client.get("/mairies?q=72181").get_data(as_text=True)
    assert '<a href="mailto:widgets@portail.example.gouv.fr">widgets@portail.example.gouv.fr</a>' in html
    assert "adresse électronique officielle de la mairie" in unescape(html)


def test_htmx_gets_the_result_alone(client):
    response = client.get("/mairies?q=72181&widget=situations", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<div id=\"builder-output\"") and "<html" not in html and "<form" not in html
    assert 'data-summary="Aperçu et code mis à jour : widget Situations, Le Mans (72)."' in html
    assert 'src="/widgets/situations?commune=72181"' in html
    full = client.get("/mairies?q=72181&widget=situations").get_data(as_text=True)
    assert html.strip() in full  # the same partial


def test_several_communes_are_offered_never_guessed(client):
    page = client.get("/mairies?q=Saint-Denis&widget=urgences").get_data(as_text=True)
    assert "Plusieurs communes correspondent" in page and "builder-preview" not in page
    assert "commune=93066" in page and "commune=97411" in page and "widget=urgences" in page
    # 72100 is Courcelles-la-Forêt's INSEE code and one of Le Mans's postcodes.
    page = text_of(client.get("/mairies?q=72100"))
    assert "Le Mans (72)</a> — code postal 72100" in page and "Courcelles-la-Forêt (72)</a> — code INSEE 72100" in page
    chosen = client.get("/mairies?commune=93066&widget=urgences").get_data(as_text=True)
    assert 'value="Saint-Denis (93)"' in chosen and 'src="/widgets/urgences?commune=93066"' in chosen
    # The choice is kept while the text is not edited, forgotten when it is.
    kept = client.get("/mairies?q=Saint-Denis+(93)&commune=93066").get_data(as_text=True)
    assert 'src="/widgets/recherche?commune=93066' in kept
    edited = client.get("/mairies?q=Le+Mans&commune=93066").get_data(as_text=True)
    assert 'src="/widgets/recherche?commune=72181' in edited


@pytest.mark.parametrize(("query", "words"), [
    ("q=Lemanss", "Aucune commune ne s'appelle « Lemanss »"),
    ("q=72", "est un département"),
    ("q=99999", "n'est ni un code postal ni un code INSEE connu"),
    ("q=45.76,4.83", "pas une position"),
    ("commune=ABCDE", "Ce code INSEE ne correspond à aucune commune"),
    ("q=72181&widget=carrousel", "Choisissez l'un des cinq widgets"),
    ("q=72181&widget=demarche", "Choisissez au moins une démarche"),
    ("q=72181&widget=demarche&demarches=n-existe-pas", "n'existe pas ou n'est plus publiée"),
    ("q=" + "x" * 5000, "Aucune commune"),
    ("q=%3Cscript%3Ealert(1)%3C/script%3E", "Aucune commune ne s'appelle « <script>alert(1)</script> »"),
])
def test_bad_input_gets_a_french_message_not_a_500(client, query, words):
    response = client.get(f"/mairies?{query}")
    assert response.status_code == 200
    assert words in text_of(response)
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert "builder-preview" not in response.get_data(as_text=True)


def test_more_than_six_procedures_are_refused(client, app, db_session):
    from catalogue import services as catalogue

    with app.app_context():
        own = [p.slug for p in catalogue.own_procedures(db_session)][:7]
    assert len(own) == 7
    page = client.get("/mairies?q=72181&widget=demarche&" + "&".join(f"demarches={s}" for s in own))
    assert page.status_code == 200
    assert "Choisissez 6 démarches au plus" in text_of(page)
    assert "builder-preview" not in page.get_data(as_text=True)
