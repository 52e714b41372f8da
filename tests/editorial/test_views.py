"""The back office's pages, through the test client with agents signed in through the real form.

An editor drafts and submits, another person reviews and publishes, and the citizen's page changes; two
editors saving the same draft get a conflict, never a silent overwrite; the preview shows the unpublished
text and nothing else does; whatever an editor types stays text on every page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from agents.models import AuditEvent
from catalogue.models import LifeEvent, Procedure
from editorial.models import Revision
from portal.dates import PARIS
from tests.editorial.back_office import (
    active_markup,
    editor_client,
    form_fields,
    own_procedure,
    page_nonce,
    post_form,
    text_of,
)

SLUG = "cambriolage"
EDIT = f"/agents/contenus/demarches/{SLUG}/modifier"
PUBLIC = f"/demarches/{SLUG}"


@pytest.fixture
def editor(app, db_session):
    return editor_client(app, db_session, roles=("editor",), name="Camille Rédactrice")


@pytest.fixture
def reviewer(app, db_session):
    return editor_client(app, db_session, roles=("reviewer",), name="Dominique Relectrice")


def revision_url(response) -> str:
    assert response.status_code == 303, (response.status_code, text_of(response)[:2000])
    location = response.headers["Location"]
    assert re.match(r"^/agents/contenus/revisions/\d+", location), location
    return location.split("?")[0]


def draft(client, changes: dict, url: str = EDIT) -> str:
    """Save the edit form with ``changes``; returns the revision page's path."""
    return revision_url(post_form(client, url, url, changes))


def act(client, revision: str, action: str, changes: dict | None = None):
    return post_form(client, revision, f"{revision}/{action}", changes)


def revision_of(db_session, path: str) -> Revision:
    db_session.expire_all()
    return db_session.get(Revision, int(path.rsplit("/", 1)[1]))


# --- The journey ---------------------------------------------------------------------------------------------

def test_an_editor_drafts_and_submits_and_a_reviewer_publishes_for_citizens(editor, reviewer, client, db_session):
    summary = "Votre logement a été cambriolé : appelez le 17 (sentinelle-relue-4417)."
    assert "sentinelle-relue-4417" not in text_of(client.get(PUBLIC))
    form = editor.get(EDIT)
    assert form.status_code == 200 and "Modifier « Victime d'un cambriolage" in text_of(form)
    revision = draft(editor, {"summary": summary, "change_note": "Résumé plus direct."})
    page = text_of(editor.get(revision + "?fait=brouillon"))
    assert "Le brouillon est enregistré." in page and "sentinelle-relue-4417" in page
    assert "<ins>" in editor.get(revision).get_data(as_text=True)  # the diff against the published version

    submitted = act(editor, revision, "soumettre")
    assert submitted.status_code == 303
    page = text_of(editor.get(revision))
    assert "À relire" in page and "/approuver" not in page  # an editor alone cannot review…
    assert "réservée aux relecteurs et aux administrateurs" in page  # …and the page says why
    assert "sentinelle-relue-4417" not in text_of(client.get(PUBLIC))  # not yet for citizens

    review = text_of(reviewer.get(revision))
    assert "Approuver et publier maintenant" in review
    published = act(reviewer, revision, "approuver")
    assert published.status_code == 303 and "fait=publiee" in published.headers["Location"]
    assert "sentinelle-relue-4417" in text_of(client.get(PUBLIC))
    rev = revision_of(db_session, revision)
    assert rev.state == "published" and rev.number == 2 and rev.change_note == "Résumé plus direct."

    history = text_of(editor.get(f"/agents/contenus/demarches/{SLUG}"))
    assert "Contenu initial" in history and "Résumé plus direct." in history and "Version précédente" in history
    actions = set(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == SLUG)))
    assert {"content.draft", "content.submit", "content.approve", "content.publish"} <= actions


def test_the_author_cannot_approve_their_own_version(app, db_session):
    both = editor_client(app, db_session, roles=("editor", "reviewer"), name="Claude Rédacteur-Relecteur")
    revision = draft(both, {"summary": "Un résumé que personne n'a relu (sentinelle-auteur-2290)."})
    assert act(both, revision, "soumettre").status_code == 303
    page = both.get(revision)
    html = page.get_data(as_text=True)
    assert "/approuver" not in html and "/renvoyer" not in html  # no button…
    assert "une autre personne doit la relire" in text_of(page)  # …and the reason
    token = form_fields(html, f"{revision}/abandonner")
    forged = both.post(f"{revision}/approuver", data=token)
    assert forged.status_code == 403
    assert "une autre personne doit la relire" in text_of(forged)
    assert revision_of(db_session, revision).state == "submitted"
    assert "sentinelle-auteur-2290" not in text_of(app.test_client().get(PUBLIC))


def test_a_reviewer_sends_back_with_a_note_and_the_editor_reads_it(editor, reviewer, db_session):
    revision = draft(editor, {"summary": "Résumé à revoir (sentinelle-renvoi-5120)."})
    act(editor, revision, "soumettre")
    empty = act(reviewer, revision, "renvoyer", {"review_note": ""})
    assert empty.status_code == 400 and "fr-input-group--error" in empty.get_data(as_text=True)
    assert revision_of(db_session, revision).state == "submitted"
    sent_back = act(reviewer, revision, "renvoyer", {"review_note": "Citez le délai de 2 jours ouvrés."})
    assert sent_back.status_code == 303
    page = text_of(editor.get(revision))
    assert "Renvoyée au rédacteur" in page and "Citez le délai de 2 jours ouvrés." in page
    assert "/soumettre" not in editor.get(revision).get_data(as_text=True)  # edit it first, as the page says
    assert "Citez le délai de 2 jours ouvrés." in text_of(editor.get(EDIT))  # shown above the form
    draft(editor, {"summary": "Résumé revu, avec le délai de 2 jours ouvrés (sentinelle-renvoi-5120)."})
    assert revision_of(db_session, revision).state == "draft"


def test_a_reviewer_schedules_a_publication_in_paris_time_then_unschedules_it(editor, reviewer, db_session):
    revision = draft(editor, {"summary": "Résumé programmé (sentinelle-programme-8812)."})
    act(editor, revision, "soumettre")
    past = act(reviewer, revision, "programmer", {"publish_day": "2020-01-01", "publish_time": "08:00"})
    assert past.status_code == 400 and "futur" in text_of(past)
    malformed = act(reviewer, revision, "programmer", {"publish_day": "demain", "publish_time": ""})
    assert malformed.status_code == 400 and "fr-input-group--error" in malformed.get_data(as_text=True)
    day = (datetime.now(PARIS) + timedelta(days=2)).date()
    scheduled = act(reviewer, revision, "programmer", {"publish_day": day.isoformat(), "publish_time": "08:30"})
    assert scheduled.status_code == 303
    rev = revision_of(db_session, revision)
    expected = datetime(day.year, day.month, day.day, 8, 30, tzinfo=PARIS).astimezone(UTC)
    assert rev.state == "scheduled" and rev.publish_at.replace(tzinfo=UTC) == expected
    assert "8 h 30" in text_of(reviewer.get(revision))
    assert act(reviewer, revision, "deprogrammer").status_code == 303
    assert revision_of(db_session, revision).state == "approved"
    assert act(reviewer, revision, "publier").status_code == 303
    assert revision_of(db_session, revision).state == "published"


# --- Two editors, one draft ------------------------------------------------------------------------------------

CONFLICT_TEXT = "Une autre personne a enregistré ce brouillon pendant que vous le modifiiez"


def test_two_editors_opening_the_published_version_the_second_gets_a_conflict(app, db_session, editor):
    other = editor_client(app, db_session, roles=("editor",), name="Alex Second")
    first_form = form_fields(editor.get(EDIT).get_data(as_text=True), EDIT)
    second_form = form_fields(other.get(EDIT).get_data(as_text=True), EDIT)
    first_form["summary"] = ["Le texte de la première personne (sentinelle-premier-1001)."]
    second_form["summary"] = ["Le texte de la seconde personne (sentinelle-second-2002)."]
    revision = revision_url(editor.post(EDIT, data=first_form))
    refused = other.post(EDIT, data=second_form)
    assert refused.status_code == 409
    page = text_of(refused)
    assert CONFLICT_TEXT in page
    assert "sentinelle-second-2002" in page  # the second person's text is kept in the form…
    assert revision in refused.get_data(as_text=True)  # …with a link to the latest version
    assert "sentinelle-premier-1001" in revision_of(db_session, revision).data["summary"]  # nothing overwritten


def test_two_editors_saving_the_same_draft_the_second_gets_a_conflict_then_may_save_deliberately(
        app, db_session, editor):
    revision = draft(editor, {"summary": "Premier brouillon (sentinelle-brouillon-3003)."})
    other = editor_client(app, db_session, roles=("editor",), name="Alex Second")
    first_form = form_fields(editor.get(EDIT).get_data(as_text=True), EDIT)
    second_form = form_fields(other.get(EDIT).get_data(as_text=True), EDIT)
    assert first_form["lock_version"] == second_form["lock_version"] != [""]
    first_form["summary"] = ["Correction de la première personne (sentinelle-premier-4004)."]
    second_form["summary"] = ["Correction de la seconde personne (sentinelle-second-5005)."]
    assert editor.post(EDIT, data=first_form).status_code == 303
    refused = other.post(EDIT, data=second_form)
    assert refused.status_code == 409
    assert CONFLICT_TEXT in text_of(refused) and "sentinelle-second-5005" in text_of(refused)
    assert "sentinelle-premier-4004" in revision_of(db_session, revision).data["summary"]
    # The page warned them; saving this form again is a deliberate choice.
    again = form_fields(refused.get_data(as_text=True), EDIT)
    assert again["summary"] == ["Correction de la seconde personne (sentinelle-second-5005)."]
    assert other.post(EDIT, data=again).status_code == 303
    assert "sentinelle-second-5005" in revision_of(db_session, revision).data["summary"]


def test_invalid_data_gives_the_form_again_with_the_errors_and_the_values(editor, db_session):
    response = post_form(editor, EDIT, EDIT, {"title": "", "external_url": "http://exemple.fr/service",
                                              "summary": "Gardé (sentinelle-invalide-6006)."})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "fr-input-group--error" in html and 'href="#field-external_url"' in html
    assert "https://" in text_of(response) and "sentinelle-invalide-6006" in text_of(response)
    assert db_session.scalar(select(func.count(Revision.id)).where(Revision.entity_key == SLUG,
                                                                   Revision.state == "draft")) == 0


def test_a_text_longer_than_the_page_holds_is_a_field_error_never_a_crash(editor, db_session):
    """The button's label is a String(200) column: PostgreSQL refuses more, so the form says it first."""
    response = post_form(editor, EDIT, EDIT, {"external_label": "Aller au service " + "x" * 200})
    assert response.status_code == 400
    assert "trop long : 200 caractères au plus" in text_of(response)
    assert 'href="#field-external_label"' in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Revision.id)).where(Revision.entity_key == SLUG,
                                                                   Revision.state == "draft")) == 0


# --- Preview -------------------------------------------------------------------------------------------------

BANNER = "Aperçu — cette version n'est pas publiée"


def test_the_preview_shows_the_unpublished_version_and_the_public_page_does_not(editor, client, db_session):
    revision = draft(editor, {"summary": "Résumé en préparation (sentinelle-apercu-7007).",
                              "steps": "## Avant tout\n\n1. Appelez le 17.\n2. Ne touchez à rien (sentinelle-etape)."})
    before = db_session.scalar(select(Procedure.summary).where(Procedure.slug == SLUG))
    preview = editor.get(f"{revision}/apercu")
    assert preview.status_code == 200
    page = text_of(preview)
    assert BANNER in page and "sentinelle-apercu-7007" in page and "sentinelle-etape" in page
    assert re.search(r"<h3[^>]*>Avant tout</h3>", preview.get_data(as_text=True))  # Markdown, as citizens see it
    assert preview.headers["Cache-Control"] == "no-store" and "noindex" in preview.headers["X-Robots-Tag"]
    public = text_of(client.get(PUBLIC))
    assert BANNER not in public and "sentinelle-apercu-7007" not in public
    db_session.expire_all()
    assert db_session.scalar(select(Procedure.summary).where(Procedure.slug == SLUG)) == before


def test_the_preview_of_a_life_event(editor, client):
    url = "/agents/contenus/situations/vol-cambriolage/modifier"
    revision = draft(editor, {"title": "On m'a volé quelque chose (sentinelle-situation-8008)"}, url)
    preview = text_of(editor.get(f"{revision}/apercu"))
    assert BANNER in preview and "sentinelle-situation-8008" in preview
    assert "sentinelle-situation-8008" not in text_of(client.get("/situations/vol-cambriolage"))


# --- History ---------------------------------------------------------------------------------------------------

def test_compare_two_versions_and_restore_an_old_one(editor, reviewer, db_session):
    original = own_procedure(db_session, SLUG).summary
    revision = draft(editor, {"summary": "Résumé remplacé (sentinelle-historique-9009)."})
    act(editor, revision, "soumettre")
    act(reviewer, revision, "approuver")
    entity = f"/agents/contenus/demarches/{SLUG}"
    history = editor.get(entity).get_data(as_text=True)
    assert 'name="de"' in history and 'name="a"' in history and "Restaurer cette version" in history
    compared = editor.get(f"{entity}/comparer?de=1&a=2")
    assert compared.status_code == 200
    html = compared.get_data(as_text=True)
    assert "<del>" in html and "<ins>" in html and "sentinelle-historique-9009" in html
    assert editor.get(f"{entity}/comparer?de=1&a=99").status_code == 404
    assert editor.get(f"{entity}/comparer?de=un&a=2").status_code == 400
    restored = post_form(editor, entity, f"{entity}/restaurer")
    restored_revision = revision_url(restored)
    rev = revision_of(db_session, restored_revision)
    assert rev.state == "draft" and rev.number == 3 and rev.data["summary"] == original
    assert "L'ancienne version est reprise" in text_of(editor.get(restored.headers["Location"]))


def test_retiring_a_procedure_sends_its_address_to_the_replacement_once_published(editor, reviewer, client):
    entity = "/agents/contenus/demarches/pre-plainte-en-ligne"
    assert "Retirer cette démarche" in text_of(editor.get(entity))
    retired = post_form(editor, f"{entity}/retirer", f"{entity}/retirer",
                        {"replacement": "plainte-en-ligne", "note": "Remplacée par la plainte en ligne."})
    revision = revision_url(retired)
    act(editor, revision, "soumettre")
    assert client.get("/demarches/pre-plainte-en-ligne").status_code == 200
    act(reviewer, revision, "approuver")
    moved = client.get("/demarches/pre-plainte-en-ligne")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/demarches/plainte-en-ligne")


# --- Lists and dashboard -------------------------------------------------------------------------------------

def test_the_dashboard_shows_what_waits_for_review_first(editor, reviewer):
    submitted = draft(editor, {"summary": "À relire (sentinelle-tableau-1111)."})
    act(editor, submitted, "soumettre")
    draft(editor, {"title": "Une situation en brouillon (sentinelle-tableau-2222)"},
          "/agents/contenus/situations/violences/modifier")
    page = text_of(reviewer.get("/agents/contenus"))
    assert page.index("À relire (1)") < page.index("Brouillon (1)")
    assert "Une situation en brouillon (sentinelle-tableau-2222)" in page


def test_the_lists_filter_by_title_with_or_without_htmx(editor):
    full = editor.get("/agents/contenus/demarches?q=cambrio")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert "Victime d'un cambriolage" in text_of(full) and "Plainte en ligne" not in text_of(full)
    fragment = editor.get("/agents/contenus/demarches?q=cambrio", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "Victime d'un cambriolage" in text_of(fragment)
    assert "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]
    events = text_of(editor.get("/agents/contenus/situations"))
    assert "J'ai été victime d'un vol ou d'un cambriolage" in events


def test_unknown_addresses_are_not_found(editor):
    assert editor.get("/agents/contenus/demarches/nexiste-pas").status_code == 404
    assert editor.get("/agents/contenus/demarches/nexiste-pas/modifier").status_code == 404
    assert editor.get("/agents/contenus/revisions/2147483647").status_code == 404
    assert editor.get("/agents/contenus/revisions/99999999999").status_code == 404
    assert editor.get("/agents/contenus/fiches/F0").status_code == 404
    assert editor.get("/agents/contenus/autres").status_code == 404
    assert editor.get("/agents/recherche/regles/nexiste-pas").status_code == 404


def test_creating_a_procedure(editor, reviewer, client):
    new = "/agents/contenus/demarches/nouveau"
    response = post_form(editor, new, new, {"slug": "demarche-de-test", "title": "Une démarche de test",
                                            "summary": "Créée dans l'espace agents (sentinelle-creation-3333).",
                                            "change_note": "Nouvelle démarche."})
    revision = revision_url(response)
    assert client.get("/demarches/demarche-de-test").status_code == 404
    assert "Une démarche de test" in text_of(editor.get("/agents/contenus/demarches"))
    act(editor, revision, "soumettre")
    act(reviewer, revision, "approuver")
    assert "sentinelle-creation-3333" in text_of(client.get("/demarches/demarche-de-test"))


# --- Fiches ----------------------------------------------------------------------------------------------------

def _free_fiche(db_session) -> Procedure:
    """A published fiche no procedure nor life event lists yet."""
    return db_session.scalar(select(Procedure).where(Procedure.kind == "fiche", Procedure.status == "published",
                                                     ~Procedure.life_event_links.any(), Procedure.sensitive.is_(False))
                             .order_by(Procedure.slug))


def test_fiches_are_found_hidden_shown_again_and_attached(editor, client, db_session):
    fiche = _free_fiche(db_session)
    slug, title = fiche.slug, fiche.title
    found = text_of(editor.get(f"/agents/contenus/fiches?q={slug}"))
    assert title in found and "1 fiche" in found
    by_title = text_of(editor.get("/agents/contenus/fiches", query_string={"q": title[:12]}))
    assert title in by_title
    page = f"/agents/contenus/fiches/{slug}"
    assert client.get(f"/fiches/{slug}").status_code == 200
    assert post_form(editor, page, f"{page}/masquer").status_code == 303
    assert client.get(f"/fiches/{slug}").status_code == 404
    assert "Afficher de nouveau" in text_of(editor.get(page))
    assert post_form(editor, page, f"{page}/afficher").status_code == 303
    assert client.get(f"/fiches/{slug}").status_code == 200
    actions = list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == slug)))
    assert actions.count("fiche.hide") == 1 and actions.count("fiche.show") == 1

    attached = post_form(editor, page, f"{page}/rattacher", {"cible": "life_event:vol-cambriolage"})
    assert attached.status_code == 303
    assert attached.headers["Location"].startswith("/agents/contenus/situations/vol-cambriolage/modifier")
    form = form_fields(editor.get(attached.headers["Location"]).get_data(as_text=True),
                       "/agents/contenus/situations/vol-cambriolage/modifier")
    assert slug in form["procedures"][0].split("\n")
    opened = db_session.scalar(select(Revision).where(Revision.open_key == "life_event:vol-cambriolage"))
    assert slug in opened.data["procedures"]
    assert db_session.scalar(select(LifeEvent.id).where(LifeEvent.slug == "vol-cambriolage")) is not None
    refused = post_form(editor, page, f"{page}/rattacher", {"cible": "life_event:nexiste-pas"})
    assert refused.status_code == 400


# --- Search rules ---------------------------------------------------------------------------------------------

def test_a_rule_prefilled_from_the_statistics_and_its_preview_before_and_after(editor, reviewer):
    form = editor.get("/agents/recherche/regles/nouvelle?kind=best_bet&terms=porte+fracturee")
    assert form.status_code == 200
    fields = form_fields(form.get_data(as_text=True), "/agents/recherche/regles/nouvelle")
    assert fields["kind"] == ["best_bet"] and fields["terms"] == ["porte fracturee"]
    created = post_form(editor, "/agents/recherche/regles/nouvelle?kind=best_bet&terms=porte+fracturee",
                        "/agents/recherche/regles/nouvelle",
                        {"slugs": "main-courante", "change_note": "Essai de meilleure réponse."})
    revision = revision_url(created)
    page = text_of(editor.get(revision))
    assert "Aujourd'hui" in page and "Avec cette modification" in page
    html = editor.get(revision, query_string={"requete": "porte fracturee"}).get_data(as_text=True)
    after = html[html.index("Avec cette modification"):]
    assert "main-courante" in after.split("</ol>")[0].split("<li>")[1]  # the best bet comes first
    rules = text_of(editor.get("/agents/recherche/regles?type=best_bet"))
    assert "porte fracturee" in rules


# --- Whatever an editor types stays text ---------------------------------------------------------------------

PAYLOADS = (
    '<script>alert("xss")</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg onload=alert(1)>',
    "[cliquez](javascript:alert(1))",
    '<a href="javascript:alert(1)">lien</a>',
    "'><iframe src=javascript:alert(1)></iframe>",
    "<script nonce=x>alert(1)</script>",
)
PAYLOAD = " ".join(PAYLOADS)


def _payload_for(field) -> str | None:
    """What to type in a field to try every payload, or None for the fields that only take a choice."""
    if field.kind in ("bool", "choice", "channels") or field.new_only:
        return None
    if field.kind == "contacts":
        return "\n".join(f"17 | {p} | {p}" for p in PAYLOADS)
    if field.kind in ("links", "sources"):
        return "\n".join(f"{p} | javascript:alert(1)" for p in PAYLOADS)
    if field.kind in ("list", "slugs"):
        return "\n".join(PAYLOADS)
    return PAYLOAD


def _column_limit(name: str, field) -> int | None:
    """The live row's column length for the field (PostgreSQL refuses longer text: so does the form)."""
    from catalogue.models import LifeEvent, Procedure

    column = {"procedure": Procedure, "life_event": LifeEvent}[name].__table__.columns.get(field.name)
    return getattr(column.type, "length", None) if column is not None else None


def _fitted(limit: int | None) -> str:
    """As many of the payloads as the field's length takes."""
    if limit is None:
        return PAYLOAD
    fitted = ""
    for payload in PAYLOADS:
        if len(candidate := f"{fitted} {payload}".strip()) <= limit:
            fitted = candidate
    return fitted


def _accepted_payload_for(name: str, field) -> str | None:
    """The payloads in what the rules accept (a link needs https://, a list of addresses real ones)."""
    if field.kind in ("bool", "choice", "channels", "slugs") or field.new_only:
        return None
    if field.name in ("external_url", "service_path", "verified_on", "icon", "position"):
        return None
    if field.kind == "contacts":
        return "\n".join(f"17 | {p} | {p}" for p in PAYLOADS)
    if field.kind in ("links", "sources"):
        return "\n".join(f'{p} | https://www.example.org/?q="><script>alert(1)</script>' for p in PAYLOADS)
    if field.kind == "list":
        return "\n".join(PAYLOADS)
    if field.kind == "markdown":  # a Markdown link to javascript: is refused by name (the first post)
        return " ".join(p for p in PAYLOADS if not p.startswith("[")) + " [lien](https://www.example.org/?a=<b>)"
    return _fitted(_column_limit(name, field))


def assert_inert(response, where: str):
    found = active_markup(response)
    assert not found, f"{where}: {found}"


@pytest.mark.parametrize("name, edit, public", [
    ("procedure", EDIT, PUBLIC),
    ("life_event", "/agents/contenus/situations/vol-cambriolage/modifier", "/situations/vol-cambriolage"),
])
def test_markup_typed_in_every_field_never_becomes_active(editor, reviewer, client, name, edit, public):
    from editorial import entities

    kind = entities.kind(name)
    assert_inert(client.get(public), "the public page before")  # the check itself holds on a real page
    everything = {f.name: v for f in kind.fields if (v := _payload_for(f)) is not None}
    refused = post_form(editor, edit, edit, {**everything, "change_note": PAYLOAD})
    assert refused.status_code == 400  # javascript: addresses are refused by name
    assert_inert(refused, "the form again")
    accepted = {f.name: v for f in kind.fields if (v := _accepted_payload_for(name, f)) is not None}
    saved = post_form(editor, edit, edit, {**accepted, "change_note": PAYLOAD})
    revision = revision_url(saved)
    assert_inert(editor.get(edit), "the edit form")
    page = editor.get(revision)
    assert "alert(1)" in page.get_data(as_text=True)  # the text is there, as text
    assert_inert(page, "the revision page and its diff")
    assert_inert(editor.get(f"{revision}/apercu"), "the preview")
    act(editor, revision, "soumettre")
    assert act(reviewer, revision, "approuver").status_code == 303
    assert_inert(client.get(public), "the public page")
    entity = edit.rsplit("/", 1)[0]
    assert_inert(editor.get(entity), "the history")
    assert_inert(editor.get(f"{entity}/comparer?de=1&a=2"), "the comparison")
    assert_inert(editor.get("/agents/contenus"), "the dashboard")


def test_markup_typed_in_a_search_rule_never_becomes_active(editor):
    new = "/agents/recherche/regles/nouvelle"
    created = post_form(editor, new + "?kind=synonym", new, {"terms": "\n".join(("vélo",) + PAYLOADS),
                                                              "note": PAYLOAD, "change_note": PAYLOAD})
    revision = revision_url(created)
    assert_inert(editor.get(new + "?kind=synonym&terms=" + PAYLOADS[0]), "the prefilled form")
    assert_inert(editor.get(revision), "the rule's revision page")
    assert_inert(editor.get(revision, query_string={"requete": PAYLOADS[0]}), "the rule's preview")
    assert_inert(editor.get("/agents/recherche/regles"), "the rules list")
    assert_inert(editor.get("/agents/contenus"), "the dashboard")


# --- Review findings ---------------------------------------------------------------------------------------------

def test_a_date_out_of_range_is_a_field_error_never_a_crash(editor, reviewer, db_session):
    revision = draft(editor, {"summary": "Résumé programmé (sentinelle-dates-1212)."})
    act(editor, revision, "soumettre")
    today = datetime.now(PARIS).date()
    for day, hour in (("0001-01-01", "00:00"), ("9999-12-31", "23:59"),
                      (today.replace(year=today.year + 6).isoformat() if (today.month, today.day) != (2, 29)
                       else f"{today.year + 6}-03-01", "08:00")):
        refused = act(reviewer, revision, "programmer", {"publish_day": day, "publish_time": hour})
        assert refused.status_code == 400, day
        html = refused.get_data(as_text=True)
        assert 'id="publish_day-error"' in html and "fr-input-group--error" in html
        assert "La date de publication doit être dans le futur" in text_of(refused)
        assert revision_of(db_session, revision).state == "submitted"
    last = (today.replace(year=today.year + 5) if (today.month, today.day) != (2, 29)
            else today.replace(year=today.year + 5, day=28))
    scheduled = act(reviewer, revision, "programmer", {"publish_day": last.isoformat(), "publish_time": "08:00"})
    assert scheduled.status_code == 303
    assert revision_of(db_session, revision).state == "scheduled"


def test_a_form_never_writes_onto_another_entitys_revision(editor, db_session):
    target = draft(editor, {"summary": "Le brouillon de cambriolage (sentinelle-cible-1313)."})
    rev = revision_of(db_session, target)
    data, lock = dict(rev.data), rev.lock_version
    other = "/agents/contenus/demarches/main-courante/modifier"
    forged = post_form(editor, other, other, {"revision": str(rev.id), "lock_version": str(lock),
                                              "summary": "Écrit depuis la main courante (sentinelle-forge-1414)."})
    assert forged.status_code == 409
    assert "elle appartient à un autre contenu" in text_of(forged)
    assert "sentinelle-forge-1414" in text_of(forged)  # the text typed is kept in the form
    # A search rule's form onto the same content revision.
    new = "/agents/recherche/regles/nouvelle"
    rule = revision_of(db_session, revision_url(post_form(editor, new + "?kind=synonym&terms=trottinette", new,
                                                          {"terms": "trottinette\nedpm"})))
    rule_form = f"/agents/recherche/regles/{rule.entity_key}/modifier"
    forged = post_form(editor, rule_form, rule_form, {"revision": str(rev.id), "lock_version": str(lock),
                                                      "terms": "vol\ncambriolage"})
    assert forged.status_code == 409
    forged = post_form(editor, new, new, {"revision": str(rev.id), "lock_version": str(lock),
                                          "kind": "synonym", "terms": "vol\ncambriolage"})
    assert forged.status_code == 409
    after = revision_of(db_session, target)
    assert (after.data, after.lock_version, after.entity_key) == (data, lock, SLUG)
    assert db_session.scalar(select(Revision).where(Revision.open_key == "procedure:main-courante")) is None


def test_an_editor_cannot_abandon_what_a_reviewer_approved_and_the_page_says_why(app, editor, reviewer, db_session):
    revision = draft(editor, {"summary": "Résumé approuvé (sentinelle-abandon-1515)."})
    act(editor, revision, "soumettre")
    assert "/abandonner" in editor.get(revision).get_data(as_text=True)  # submitted: the editor may still
    day = (datetime.now(PARIS) + timedelta(days=2)).date()
    assert act(reviewer, revision, "programmer", {"publish_day": day.isoformat(),
                                                  "publish_time": "08:30"}).status_code == 303
    page = editor.get(revision)
    assert "/abandonner" not in page.get_data(as_text=True)
    assert "seuls les relecteurs et les administrateurs peuvent l'abandonner" in text_of(page)
    token = form_fields(reviewer.get(revision).get_data(as_text=True), f"{revision}/abandonner")
    token["csrf_token"] = form_fields(page.get_data(as_text=True), None)["csrf_token"]
    forged = editor.post(f"{revision}/abandonner", data=token)
    assert forged.status_code == 403 and "peuvent l'abandonner" in text_of(forged)
    assert revision_of(db_session, revision).state == "scheduled"
    assert act(reviewer, revision, "abandonner").status_code == 303
    assert revision_of(db_session, revision).state == "abandoned"


def test_attaching_a_fiche_to_a_version_in_review_is_refused(editor, db_session):
    fiche = _free_fiche(db_session)
    url = "/agents/contenus/situations/vol-cambriolage/modifier"
    revision = draft(editor, {"title": "Vol ou cambriolage (sentinelle-rattache-1616)"}, url)
    act(editor, revision, "soumettre")
    page = f"/agents/contenus/fiches/{fiche.slug}"
    refused = post_form(editor, page, f"{page}/rattacher", {"cible": "life_event:vol-cambriolage"})
    assert refused.status_code == 409
    assert "est en relecture" in text_of(refused) and "relecture serait perdue" in text_of(refused)
    rev = revision_of(db_session, revision)
    assert rev.state == "submitted" and fiche.slug not in rev.data["procedures"]


def test_saving_from_the_published_version_with_a_note_is_one_audited_save(editor, db_session):
    count = len(list(db_session.scalars(select(AuditEvent.id).where(AuditEvent.target_id == SLUG))))
    revision = draft(editor, {"summary": "Une seule sauvegarde (sentinelle-audit-1717).",
                              "change_note": "Résumé revu."})
    assert revision_of(db_session, revision).change_note == "Résumé revu."
    actions = list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == SLUG)
                                      .order_by(AuditEvent.id)))
    assert actions[count:] == ["content.draft"]


def test_the_preview_of_a_retirement_shows_what_the_address_will_answer(editor, db_session):
    entity = "/agents/contenus/demarches/pre-plainte-en-ligne"
    summary = own_procedure(db_session, "pre-plainte-en-ligne").summary
    moved = revision_url(post_form(editor, f"{entity}/retirer", f"{entity}/retirer",
                                   {"replacement": "plainte-en-ligne", "note": ""}))
    preview = editor.get(f"{moved}/apercu")
    assert preview.status_code == 200 and "noindex" in preview.headers["X-Robots-Tag"]
    page = text_of(preview)
    title = own_procedure(db_session, "plainte-en-ligne").title
    assert BANNER in page and f"Cette adresse mènera à : {title}" in page
    assert 'href="/demarches/plainte-en-ligne"' in preview.get_data(as_text=True)
    assert summary not in page  # not the page that goes away
    act(editor, moved, "abandonner")

    gone = revision_url(post_form(editor, f"{entity}/retirer", f"{entity}/retirer",
                                  {"replacement": "", "note": "Déposez désormais une plainte en ligne "
                                                              "(sentinelle-retrait-1818)."}))
    page = text_of(editor.get(f"{gone}/apercu"))
    assert BANNER in page and "Cette démarche n'existe plus" in page and "sentinelle-retrait-1818" in page
    assert summary not in page

    event = "/agents/contenus/situations/depart-vacances"
    retired = revision_url(post_form(editor, f"{event}/retirer", f"{event}/retirer", {"note": "Saison finie."}))
    page = text_of(editor.get(f"{retired}/apercu"))
    assert BANNER in page and "Cette situation n'est plus proposée" in page


def test_the_revision_page_says_when_the_live_links_moved_since_the_draft_began(editor, reviewer, db_session):
    url = "/agents/contenus/situations/vol-cambriolage/modifier"
    revision = draft(editor, {"title": "Vol ou cambriolage (sentinelle-liens-1919)"}, url)
    assert "a changé en ligne" not in text_of(editor.get(revision))
    # A procedure's page adds it to the life event meanwhile.
    other = "/agents/contenus/demarches/main-courante/modifier"
    fields = form_fields(editor.get(other).get_data(as_text=True), other)
    joined = draft(editor, {"life_events": fields["life_events"][0] + "\nvol-cambriolage"}, other)
    act(editor, joined, "soumettre")
    act(reviewer, joined, "approuver")
    page = text_of(reviewer.get(revision))
    assert "« Démarches proposées » a changé en ligne depuis l'ouverture de cette version" in page
    assert "ajouté : main-courante" in page
    # The preview shows the page as publishing the draft will leave it: the procedure stays listed.
    preview = editor.get(f"{revision}/apercu").get_data(as_text=True)
    assert "sentinelle-liens-1919" in preview and 'href="/demarches/main-courante"' in preview
    act(editor, revision, "soumettre")
    act(reviewer, revision, "approuver")
    event = db_session.scalar(select(LifeEvent).where(LifeEvent.slug == "vol-cambriolage"))
    db_session.refresh(event)
    assert [link.procedure.slug for link in event.procedure_links][-1] == "main-courante"


def test_the_markup_check_knows_the_pages_own_nonce(client):
    from flask import Response

    page = client.get("/")
    assert page_nonce(page) and active_markup(page) == []
    typed = '<p>texte</p><script nonce="x">alert(1)</script>'
    forged = Response(typed, headers={"Content-Security-Policy": f"script-src 'self' 'nonce-{page_nonce(page)}'"})
    assert active_markup(forged) == ["<script nonce='x'> without the page's nonce"]
    assert active_markup(Response(typed)) != []  # no policy: no script runs
