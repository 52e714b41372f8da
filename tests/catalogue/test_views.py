"""Procedure and fiche pages, and the procedures API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from catalogue.models import Procedure


def test_procedure_page_shows_its_sections_sources_and_service(client):
    page = client.get("/demarches/plainte-en-ligne")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Porter plainte en ligne</h1>" in html
    for heading in ("Pour qui ?", "Dans quels cas ?", "Comment faire ?", "Ce qu&#39;il faut préparer"):
        assert f"<h2>{heading}</h2>" in html
    assert 'href="https://www.masecurite.interieur.gouv.fr/fr/demarches-en-ligne/plainte-en-ligne"' in html
    assert "Avec FranceConnect" in html
    # The fiche it cites is shown with its publisher and date.
    assert "Porter plainte</a>, Service-Public.fr / DILA, mise à jour le 16 octobre 2024" in html
    assert "Contenu vérifié le" in html


def test_emergency_numbers_are_tappable(client):
    html = client.get("/demarches/appels-urgence").get_data(as_text=True)
    for number in ("17", "112", "114", "15", "18"):
        assert f'href="tel:{number}"' in html


def test_violence_pages_offer_a_quick_exit_and_send_no_referrer(client):
    for url in ("/demarches/violences-conjugales", "/situations/violences"):
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert 'id="quick-exit"' in html and "Quitter rapidement ce site" in html
        assert page.headers["Referrer-Policy"] == "no-referrer"
    ordinary = client.get("/demarches/plainte-en-ligne")
    assert 'id="quick-exit"' not in ordinary.get_data(as_text=True)
    assert ordinary.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_fiche_page_cites_its_source_and_warns_it_may_be_dated(client):
    html = client.get("/fiches/F1344").get_data(as_text=True)
    assert "Carte d&#39;identité d&#39;un majeur : en cas de perte" in html
    assert "Service-Public.fr / DILA, fiche F1344, mise à jour le 26 août 2020" in html
    assert 'href="https://www.service-public.fr/particuliers/vosdroits/F1344"' in html
    assert "Elle peut avoir changé depuis" in html
    assert "commissariat_police" not in html


def test_a_replaced_service_points_to_its_replacement(client):
    html = client.get("/fiches/R19620").get_data(as_text=True)
    assert "Ce service a été remplacé" in html
    assert 'href="/demarches/plainte-en-ligne"' in html
    html = client.get("/fiches/F21138").get_data(as_text=True)
    assert "remplacé le 15 octobre 2024 par la plainte en ligne" in html


def test_entries_answer_at_their_own_address_only(client):
    assert client.get("/demarches/F1344").headers["Location"].endswith("/fiches/F1344")
    assert client.get("/fiches/plainte-en-ligne").headers["Location"].endswith("/demarches/plainte-en-ligne")
    missing = client.get("/demarches/n-existe-pas")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.get_data(as_text=True)


def test_draft_entries_are_not_shown(client, db_session):
    db_session.add(Procedure(slug="brouillon", kind="procedure", status="draft", title="Brouillon",
                             summary="Pas encore publié.", updated_at=datetime.now(UTC)))
    db_session.commit()
    assert client.get("/demarches/brouillon").status_code == 404


def test_editor_text_is_escaped_everywhere_it_is_shown(client, db_session):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    db_session.add(Procedure(
        slug="demarche-piegee", kind="procedure", status="published", title=f"Titre {payload}",
        summary=f"Résumé {payload}", conditions=f"- {payload}\n\n{payload}",
        alert=payload, contacts=[{"number": payload, "label": payload}],
        links=[{"title": payload, "url": "https://example.org"}],
        sources=[{"title": payload, "url": "https://example.org"}],
        updated_at=datetime.now(UTC),
    ))
    db_session.commit()
    html = client.get("/demarches/demarche-piegee").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_catalogue_index_lists_the_portals_procedures(client):
    html = client.get("/demarches/").get_data(as_text=True)
    assert html.count('class="fr-card ') >= 20
    assert "4\u202f819 fiches" in html


def test_procedures_api_pages_through_every_published_entry(client, db_session):
    seen = []
    url = "/api/v1/procedures"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        body = page.get_json()
        seen += body["items"]
        url = body["next"]
    published = db_session.scalar(
        select(func.count()).select_from(Procedure).where(Procedure.status == "published"))
    assert len(seen) == published == len({i["slug"] for i in seen})
    first = seen[0]
    assert set(first) == {"slug", "title", "summary", "text", "keywords", "kind", "url"}
    assert first["kind"] == "procedure"
    assert first["url"].startswith("http://localhost/demarches/")
    fiche = next(i for i in seen if i["slug"] == "F1344")
    assert fiche["kind"] == "fiche" and "mairie" in fiche["text"]


def test_procedures_api_explains_bad_pages_in_french(client):
    for bad in ("0", "-1", "abc", "1.5", "99999999", "²", "١"):
        page = client.get(f"/api/v1/procedures?page={bad}")
        assert page.status_code == 400
        assert "page" in page.get_json()["detail"]
    beyond = client.get("/api/v1/procedures?page=999").get_json()
    assert beyond == {"items": [], "next": None}
