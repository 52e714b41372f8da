"""Public pages of what editors withdrew: a retired procedure (301 or 410), a retired life event (410), a hidden
fiche (404); and the procedure pages' sections in restricted Markdown, as the light text showed them."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from catalogue import services
from catalogue.markdown import render
from catalogue.models import LifeEvent, Procedure


def _set(db_session, slug: str, **values) -> None:
    db_session.execute(update(Procedure).where(Procedure.slug == slug).values(**values))
    db_session.commit()


def test_a_retired_procedure_redirects_to_its_replacement(client, db_session):
    _set(db_session, "pre-plainte-en-ligne", status="retired", superseded_by="plainte-en-ligne")
    response = client.get("/demarches/pre-plainte-en-ligne")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/demarches/plainte-en-ligne")
    # A fiche as the replacement: its own address.
    _set(db_session, "pre-plainte-en-ligne", superseded_by="F1435")
    assert client.get("/demarches/pre-plainte-en-ligne").headers["Location"].endswith("/fiches/F1435")
    # The fiche address of a retired procedure answers the same way.
    assert client.get("/fiches/pre-plainte-en-ligne").status_code == 301


def test_a_retired_procedure_without_a_published_replacement_says_so_with_a_410(client, db_session):
    _set(db_session, "thesee", status="retired", superseded_by=None,
         retired_note="THESEE est fermé : <b>portez plainte</b> au commissariat.")
    response = client.get("/demarches/thesee")
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "<h1>Cette démarche n&#39;existe plus</h1>" in page
    assert "THESEE est fermé : &lt;b&gt;portez plainte&lt;/b&gt; au commissariat." in page
    assert 'href="/recherche' in page and 'href="/#situations"' in page
    assert '<meta name="robots" content="noindex">' in page
    # Its replacement retired in turn: the 410 page, never a redirect to a page that is gone.
    _set(db_session, "pre-plainte-en-ligne", status="retired", superseded_by="thesee", retired_note=None)
    response = client.get("/demarches/pre-plainte-en-ligne")
    assert response.status_code == 410 and "Cette démarche n&#39;existe plus" in response.get_data(as_text=True)
    # Out of the public lists.
    assert "thesee" not in [p.slug for p in services.own_procedures(db_session)]
    assert 'href="/demarches/thesee"' not in client.get("/demarches/").get_data(as_text=True)
    assert 'href="/demarches/thesee"' not in client.get("/situations/arnaque-escroquerie").get_data(as_text=True)


def test_a_hidden_fiche_is_not_found(client, db_session):
    _set(db_session, "F1435", status="hidden")
    for url in ("/fiches/F1435", "/demarches/F1435"):
        response = client.get(url)
        assert response.status_code == 404 and "Page introuvable" in response.get_data(as_text=True)
    assert services.published(db_session, "F1435") is None
    # Where a procedure lists it in "Voir aussi" or a life event offers it, it is left out.
    related = db_session.scalar(select(Procedure).where(Procedure.slug == "plainte-en-ligne"))
    assert "F1435" not in [p.slug for p in related.related]


def test_a_retired_life_event_answers_410_and_is_offered_nowhere(client, db_session):
    db_session.execute(update(LifeEvent).where(LifeEvent.slug == "urgence").values(status="retired"))
    db_session.commit()
    response = client.get("/situations/urgence")
    assert response.status_code == 410
    assert "Cette situation n&#39;est plus proposée" in response.get_data(as_text=True)
    assert "urgence" not in [e.slug for e in services.life_events(db_session)]
    assert 'href="/situations/urgence"' not in client.get("/").get_data(as_text=True)
    assert 'href="/situations/urgence"' not in client.get("/demarches/appels-urgence").get_data(as_text=True)
    assert client.get("/situations/n-existe-pas").status_code == 404


def test_every_procedure_page_shows_its_sections_lists_and_headings(client, db_session):
    procedures = db_session.scalars(select(Procedure).where(Procedure.kind == "procedure",
                                                            Procedure.status == "published")).all()
    lists = headings = 0
    for entry in procedures:
        page = client.get(f"/demarches/{entry.slug}").get_data(as_text=True)
        for heading, text in services.sections(entry):
            if not text:
                continue
            assert f"<h2>{heading.replace(chr(39), '&#39;')}</h2>" in page, (entry.slug, heading)
            assert str(render(text)) in page, (entry.slug, heading)
            lists += len(re.findall(r"<[uo]l>", str(render(text))))
            headings += str(render(text)).count('<h3 class="fr-h6">')
    assert lists > 40 and headings >= 6
    page = client.get("/demarches/reconnaitre-message-officiel").get_data(as_text=True)
    assert '<h3 class="fr-h6">Les signes d\'un faux message</h3>' in page
    page = client.get("/demarches/cambriolage").get_data(as_text=True)
    assert "<li>Appelez le 17 si le cambriolage vient d'avoir lieu. Ne touchez à rien.</li>" in page
