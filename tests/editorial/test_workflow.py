"""The revision workflow on the real catalogue: states, refusals, the second pair of eyes, conflicts,
scheduling, history, retirement, hidden fiches and the outbox."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.models import AuditEvent
from catalogue import services as catalogue
from catalogue.models import LifeEvent, Procedure
from editorial import entities, workflow
from editorial.models import Revision
from editorial.workflow import InvalidData
from portal import outbox
from portal.errors import Refused
from search.models import SearchRule
from tests.editorial.back_office import page_nonce


def _procedure(session, slug: str) -> Procedure:
    return session.scalars(select(Procedure).where(Procedure.slug == slug)).one()


def _edit(session, agent, slug: str, changes: dict, name: str = "procedure", note: str = "Mise à jour") -> Revision:
    rev = workflow.start_edit(session, agent, name, slug)
    try:
        return workflow.save_draft(session, agent, rev.id, rev.lock_version, changes, note)
    except InvalidData as invalid:
        raise AssertionError(invalid.errors) from invalid


def _submitted(session, agent, slug: str, changes: dict, name: str = "procedure") -> Revision:
    rev = _edit(session, agent, slug, changes, name)
    return workflow.submit(session, agent, rev.id, rev.lock_version)


def _refused(call, status: int, words: str = "") -> Refused:
    with pytest.raises(Refused) as refusal:
        call()
    assert refusal.value.status == status, refusal.value.message
    assert words in refusal.value.message
    return refusal.value


def _actions(session, slug: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == slug)
                                .order_by(AuditEvent.id)))


# --- the path of an edit ------------------------------------------------------------------------------------

def test_an_edit_is_drafted_submitted_approved_by_another_agent_and_published(ctx, people, client):
    before = catalogue.fingerprint(ctx)
    rev = workflow.start_edit(ctx, people.editor, "procedure", "cambriolage")
    assert (rev.state, rev.number, rev.base_number) == ("draft", 2, 1)
    assert workflow.start_edit(ctx, people.editor2, "procedure", "cambriolage").id == rev.id  # one open revision

    # The history starts with what citizens saw: revision 1, no author.
    baseline = workflow.history(ctx, "procedure", "cambriolage")[-1]
    assert (baseline.number, baseline.state, baseline.change_note, baseline.authors) == (
        1, "published", "Contenu initial", [])
    assert baseline.data["title"] == "Victime d'un cambriolage : les démarches"

    rev = workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version,
                              {"summary": "Appelez le 17, portez plainte, prévenez votre assureur."}, "Plus court")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    assert rev.state == "submitted" and people.editor.id in rev.authors
    assert _procedure(ctx, "cambriolage").summary.startswith("Votre logement a été cambriolé")  # not yet

    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    assert (rev.state, rev.published_by_id, rev.reviewed_by_id) == ("published", people.reviewer.id,
                                                                    people.reviewer.id)
    assert rev.open_key is None
    assert _procedure(ctx, "cambriolage").summary == "Appelez le 17, portez plainte, prévenez votre assureur."
    assert [r.state for r in workflow.history(ctx, "procedure", "cambriolage")] == ["published", "superseded"]
    # The search index's fingerprint of the catalogue changes with the content.
    assert catalogue.fingerprint(ctx) != before
    assert _actions(ctx, "cambriolage") == ["content.draft", "content.draft", "content.submit", "content.approve",
                                            "content.publish"]
    ctx.commit()

    page = client.get("/demarches/cambriolage").get_data(as_text=True)
    assert "Appelez le 17, portez plainte, prévenez votre assureur." in page


def test_a_new_procedure_is_created_attached_to_a_life_event_and_published(ctx, people, client):
    data = {
        "slug": "vol-de-velo", "title": "Vol de vélo", "summary": "Votre vélo a été volé : portez plainte.",
        "steps": "1. Portez plainte.\n2. Prévenez votre assureur.", "channels": ["en_ligne", "sur_place"],
        "institution": "police-gendarmerie", "related": ["plainte-en-ligne", "F1435"],
        "life_events": ["vol-cambriolage"], "keywords": ["bicyclette"],
        "contacts": [{"number": "17", "label": "Police secours", "detail": ""}],
        "sources": [{"fiche": "F1435"}], "verified_on": "2026-11-23",
    }
    rev = workflow.start_edit(ctx, people.editor, "procedure", None, data)
    assert (rev.entity_key, rev.number, rev.base_number, rev.state) == ("vol-de-velo", 1, None, "draft")
    assert workflow.history(ctx, "procedure", "vol-de-velo") == [rev]  # no baseline: nothing was published
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    workflow.approve(ctx, people.admin, rev.id, rev.lock_version)
    ctx.commit()

    entry = _procedure(ctx, "vol-de-velo")
    assert (entry.status, entry.kind, entry.institution.slug) == ("published", "procedure", "police-gendarmerie")
    assert [r.slug for r in entry.related] == ["plainte-en-ligne", "F1435"]
    page = client.get("/demarches/vol-de-velo").get_data(as_text=True)
    assert "<ol>\n<li>Portez plainte.</li>\n<li>Prévenez votre assureur.</li>\n</ol>" in page
    assert 'href="/situations/vol-cambriolage"' in page
    assert 'href="/demarches/vol-de-velo"' in client.get("/situations/vol-cambriolage").get_data(as_text=True)

    # The address is taken now.
    with pytest.raises(InvalidData) as invalid:
        workflow.start_edit(ctx, people.editor, "procedure", None, {**data, "title": "Autre"})
    assert "slug" in invalid.value.errors


def test_a_fiche_attached_to_a_life_event_is_listed_there(ctx, people, client):
    rev = workflow.start_edit(ctx, people.editor, "life_event", "vol-cambriolage")
    procedures = [*rev.data["procedures"], "F1344"]
    rev = workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version, {"procedures": procedures}, "")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    ctx.commit()
    assert 'href="/fiches/F1344"' in client.get("/situations/vol-cambriolage").get_data(as_text=True)


# --- refusals -----------------------------------------------------------------------------------------------

def test_only_editors_reviewers_and_admins_edit(ctx, people):
    _refused(lambda: workflow.start_edit(ctx, people.officer, "procedure", "cambriolage"), 403, "réservée")
    _refused(lambda: workflow.set_fiche_hidden(ctx, people.officer, "F1344", True), 403)
    _refused(lambda: workflow.start_edit(ctx, people.editor, "procedure", "n-existe-pas"), 404)
    _refused(lambda: workflow.start_edit(ctx, people.editor, "procedure", "F1344"), 404)  # a fiche is DILA's
    with pytest.raises(KeyError):
        workflow.start_edit(ctx, people.editor, "page", "cambriolage")


def test_the_author_never_approves_nor_publishes_their_own_version(ctx, people):
    rev = _submitted(ctx, people.reviewer2, "main-courante", {"summary": "Signaler des faits sans porter plainte."})
    for action in (lambda: workflow.approve(ctx, people.reviewer2, rev.id, rev.lock_version),
                   lambda: workflow.reject(ctx, people.reviewer2, rev.id, rev.lock_version, "Non")):
        _refused(action, 403, "une autre personne doit la relire")
    assert not workflow.can_review(people.reviewer2, rev)
    assert "rédigé" in workflow.review_refusal(people.reviewer2, rev)
    # An editor who is not a reviewer cannot approve either.
    _refused(lambda: workflow.approve(ctx, people.editor2, rev.id, rev.lock_version), 403, "relecteurs")
    assert workflow.can_review(people.reviewer, rev)

    # Whoever edits the version becomes one of its authors, the one who submits it too.
    rev = workflow.save_draft(ctx, people.reviewer, rev.id, rev.lock_version,
                              {"summary": "Signaler des faits à la police sans porter plainte."}, "")
    assert rev.state == "draft" and set(rev.authors) == {people.reviewer2.id, people.reviewer.id}
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    for agent in (people.reviewer, people.reviewer2):
        _refused(lambda agent=agent: workflow.approve(ctx, agent, rev.id, rev.lock_version), 403)
    rev = workflow.approve(ctx, people.admin, rev.id, rev.lock_version)
    assert rev.state == "published"


def test_each_state_allows_only_its_own_steps(ctx, people):
    rev = workflow.start_edit(ctx, people.editor, "procedure", "thesee")
    _refused(lambda: workflow.submit(ctx, people.editor, rev.id, rev.lock_version), 409, "ne change rien")
    _refused(lambda: workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version), 409, "envoyée en relecture")
    _refused(lambda: workflow.publish(ctx, people.reviewer, rev.id, rev.lock_version), 409, "approuvée")
    _refused(lambda: workflow.unschedule(ctx, people.reviewer, rev.id, rev.lock_version), 409, "programmée")
    _refused(lambda: workflow.schedule(ctx, people.reviewer, rev.id, rev.lock_version,
                                       datetime.now(UTC) + timedelta(days=1)), 409)

    rev = workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version,
                              {"alert": "Urgence : appelez le 17."}, "Alerte ajoutée")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    _refused(lambda: workflow.submit(ctx, people.editor, rev.id, rev.lock_version), 409, "brouillon")
    _refused(lambda: workflow.publish(ctx, people.reviewer, rev.id, rev.lock_version), 409, "approuvée")
    refusal = _refused(lambda: workflow.reject(ctx, people.reviewer, rev.id, rev.lock_version, "  "), 400)
    assert refusal.field == "note"
    refusal = _refused(lambda: workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                                                datetime.now(UTC) - timedelta(minutes=1)), 400, "futur")
    assert refusal.field == "publish_at"

    rev = workflow.reject(ctx, people.reviewer, rev.id, rev.lock_version, "Citez le 112 aussi.")
    assert (rev.state, rev.review_note) == ("rejected", "Citez le 112 aussi.")
    assert workflow.open_revision(ctx, "procedure", "thesee").id == rev.id
    _refused(lambda: workflow.submit(ctx, people.editor, rev.id, rev.lock_version), 409, "modifiez-la")
    rev = workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version,
                              {"alert": "Urgence : appelez le 17 ou le 112."}, "112 ajouté")
    assert rev.state == "draft" and rev.review_note == "Citez le 112 aussi."
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)

    # A published version is closed: no action on it.
    for action in (lambda: workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version, {}, ""),
                   lambda: workflow.submit(ctx, people.editor, rev.id, rev.lock_version),
                   lambda: workflow.abandon(ctx, people.editor, rev.id, rev.lock_version),
                   lambda: workflow.reject(ctx, people.reviewer2, rev.id, rev.lock_version, "Non")):
        _refused(action, 409)
    _refused(lambda: workflow.save_draft(ctx, people.editor, 10 ** 9, 1, {}, ""), 404)


def test_an_edit_that_would_break_the_page_is_refused_field_by_field(ctx, people):
    rev = workflow.start_edit(ctx, people.editor, "procedure", "pharos")
    with pytest.raises(InvalidData) as invalid:
        workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version, {
            "title": "", "external_url": "http://internet-signalement.gouv.fr", "service_path": "//evil.example",
            "related": ["n-existe-pas"], "life_events": ["inconnue"], "channels": ["pigeon"],
            "contacts": [{"number": "appelez", "label": "", "detail": ""}],
            "links": [{"title": "Lien", "url": "javascript:alert(1)"}], "sources": [{"title": "", "url": ""}],
            "verified_on": "23/11/2026", "steps": "[piège](javascript:alert(1))", "institution": "inconnue",
        }, "")
    assert invalid.value.status == 400
    assert set(invalid.value.errors) == {"title", "external_url", "service_path", "related", "life_events",
                                         "channels", "contacts", "links", "sources", "verified_on", "steps",
                                         "institution"}
    assert "https://" in invalid.value.errors["external_url"]
    assert "n-existe-pas" in invalid.value.errors["related"]
    assert "Lien refusé" in invalid.value.errors["steps"]
    ctx.refresh(rev)
    assert rev.data == entities.live_data(ctx, "procedure", "pharos")  # nothing saved


# --- concurrent edits ---------------------------------------------------------------------------------------

def test_two_editors_saving_the_same_draft_the_second_is_refused_and_the_first_text_kept(ctx, people):
    rev = workflow.start_edit(ctx, people.editor, "procedure", "tchat-police")
    ctx.commit()
    # The second editor opened the same draft before the first one saved.
    other = Session(bind=ctx.get_bind(), join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        seen_by_second = other.get(Revision, rev.id)
        lock_seen = seen_by_second.lock_version
        other.commit()

        workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version, {"summary": "Le texte de Camille."}, "")
        ctx.commit()

        # Its page still shows the version it loaded: the save passes the form's check and meets the
        # database's (the version counter in the UPDATE's WHERE clause).
        assert other.get(Revision, rev.id).lock_version == lock_seen
        refusal = _refused(lambda: workflow.save_draft(other, people.editor2, rev.id, lock_seen,
                                                       {"summary": "Le texte de Dominique."}, ""), 409)
        assert refusal.message.startswith("Une autre personne a modifié ce brouillon")
        other.rollback()
    finally:
        other.close()

    # A form sent from the page as it was before the first save: refused by the version it carries.
    _refused(lambda: workflow.save_draft(ctx, people.editor2, rev.id, lock_seen,
                                         {"summary": "Le texte de Dominique."}, ""), 409, "Une autre personne")
    ctx.expire_all()
    kept = ctx.get(Revision, rev.id)
    assert kept.data["summary"] == "Le texte de Camille."
    assert kept.authors == [people.editor.id]


# --- scheduling ---------------------------------------------------------------------------------------------

def test_a_scheduled_version_is_published_by_the_periodic_task_when_its_time_comes(ctx, people):
    now = datetime.now(UTC)
    rev = _submitted(ctx, people.editor, "visio-plainte", {"summary": "Déposez plainte en visioconférence."})
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version, publish_at=now + timedelta(hours=2))
    assert rev.state == "scheduled"
    rev_id = rev.id
    ctx.commit()

    assert workflow.publish_due(ctx, now=now + timedelta(hours=1)) == []
    assert _procedure(ctx, "visio-plainte").summary != "Déposez plainte en visioconférence."
    published = workflow.publish_due(ctx, now=now + timedelta(hours=3))
    assert [r.id for r in published] == [rev_id]
    # Another host running the task at the same moment finds nothing left to claim.
    assert workflow.publish_due(ctx, now=now + timedelta(hours=3)) == []
    ctx.expire_all()
    rev = ctx.get(Revision, rev_id)
    assert (rev.state, rev.published_by_id) == ("published", people.reviewer.id)
    assert _procedure(ctx, "visio-plainte").summary == "Déposez plainte en visioconférence."
    assert "content.schedule" in _actions(ctx, "visio-plainte")
    assert ctx.scalar(select(AuditEvent).where(AuditEvent.action == "content.publish",
                                               AuditEvent.target_id == "visio-plainte")).agent_id is None


def test_a_schedule_can_be_cancelled_set_again_or_replaced_by_publishing_now(ctx, people):
    later = datetime.now(UTC) + timedelta(days=3)
    rev = _submitted(ctx, people.editor, "17cyber", {"summary": "Le service d'assistance aux victimes en ligne."})
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version, publish_at=later)
    _refused(lambda: workflow.unschedule(ctx, people.editor, rev.id, rev.lock_version), 403)
    rev = workflow.unschedule(ctx, people.reviewer, rev.id, rev.lock_version)
    assert (rev.state, rev.publish_at) == ("approved", None)
    rev = workflow.schedule(ctx, people.reviewer2, rev.id, rev.lock_version, later)
    assert rev.state == "scheduled"
    rev = workflow.publish(ctx, people.reviewer2, rev.id, rev.lock_version)
    assert rev.state == "published"
    assert workflow.publish_due(ctx, now=later + timedelta(days=1)) == []

    # Editing an approved or scheduled version withdraws the approval.
    rev = _submitted(ctx, people.editor, "17cyber", {"summary": "Assistance aux victimes de cybermalveillance."})
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version, publish_at=later)
    rev = workflow.save_draft(ctx, people.editor, rev.id, rev.lock_version, {"keywords": ["cyber"]}, "")
    assert (rev.state, rev.publish_at, rev.reviewed_by_id) == ("draft", None, None)


def test_an_abandoned_version_frees_the_entity(ctx, people):
    rev = _edit(ctx, people.editor, "discrimination", {"summary": "Victime de discrimination : vos recours."})
    workflow.abandon(ctx, people.editor2, rev.id, rev.lock_version)
    assert rev.state == "abandoned" and workflow.open_revision(ctx, "procedure", "discrimination") is None
    again = workflow.start_edit(ctx, people.editor, "procedure", "discrimination")
    assert again.id != rev.id and again.number == rev.number + 1
    assert again.data == entities.live_data(ctx, "procedure", "discrimination")


# --- history ------------------------------------------------------------------------------------------------

def test_an_old_version_is_restored_as_a_new_draft_and_published(ctx, people):
    original = entities.live_data(ctx, "procedure", "operation-tranquillite-vacances")
    rev = _submitted(ctx, people.editor, "operation-tranquillite-vacances", {"title": "Partir l'esprit tranquille"})
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    assert _procedure(ctx, "operation-tranquillite-vacances").title == "Partir l'esprit tranquille"

    open_one = workflow.start_edit(ctx, people.editor, "procedure", "operation-tranquillite-vacances")
    _refused(lambda: workflow.restore(ctx, people.editor, "procedure", "operation-tranquillite-vacances", 1), 409)
    workflow.abandon(ctx, people.editor, open_one.id, open_one.lock_version)
    _refused(lambda: workflow.restore(ctx, people.editor, "procedure", "operation-tranquillite-vacances", 99), 404)

    restored = workflow.restore(ctx, people.editor2, "procedure", "operation-tranquillite-vacances", 1)
    assert (restored.state, restored.change_note, restored.authors) == ("draft", "Version 1 restaurée",
                                                                        [people.editor2.id])
    assert restored.data == original
    restored = workflow.submit(ctx, people.editor2, restored.id, restored.lock_version)
    workflow.approve(ctx, people.reviewer, restored.id, restored.lock_version)
    assert entities.live_data(ctx, "procedure", "operation-tranquillite-vacances") == original
    history = workflow.history(ctx, "procedure", "operation-tranquillite-vacances")
    assert [(r.number, r.state) for r in history] == [(4, "published"), (3, "abandoned"), (2, "superseded"),
                                                      (1, "superseded")]


def test_an_entity_never_edited_shows_its_live_content_as_version_one(ctx):
    (baseline,) = workflow.history(ctx, "procedure", "appels-urgence")
    assert (baseline.id, baseline.number, baseline.change_note) == (None, 1, "Contenu initial")
    assert ctx.scalar(select(Revision).where(Revision.entity_key == "appels-urgence")) is None  # nothing written
    assert workflow.history(ctx, "procedure", "n-existe-pas") == []


# --- retirement and fiches ----------------------------------------------------------------------------------

def test_a_retired_procedure_with_a_replacement_redirects_there(ctx, people, client):
    rev = workflow.retire(ctx, people.editor, "pre-plainte-en-ligne", "plainte-en-ligne",
                          "La pré-plainte est remplacée par la plainte en ligne.")
    assert rev.data["retired"] and rev.data["replacement"] == "plainte-en-ligne" and rev.state == "draft"
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    ctx.commit()
    entry = _procedure(ctx, "pre-plainte-en-ligne")
    assert (entry.status, entry.superseded_by) == ("retired", "plainte-en-ligne")
    assert catalogue.published(ctx, "pre-plainte-en-ligne") is None  # out of the lists and of the index
    response = client.get("/demarches/pre-plainte-en-ligne")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/demarches/plainte-en-ligne")
    _refused(lambda: workflow.retire(ctx, people.editor, "pre-plainte-en-ligne", None, "Encore"), 409, "déjà")


def test_a_retired_procedure_without_replacement_answers_410_with_its_note(ctx, people, client):
    with pytest.raises(InvalidData) as invalid:
        workflow.retire(ctx, people.editor, "main-courante", None, "  ")
    assert "retired_note" in invalid.value.errors
    with pytest.raises(InvalidData) as invalid:
        workflow.retire(ctx, people.editor, "main-courante", "main-courante", "Elle-même")
    assert "replacement" in invalid.value.errors

    rev = workflow.retire(ctx, people.editor, "main-courante", None,
                          "La main courante se dépose désormais au commissariat, sur rendez-vous.")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    ctx.commit()
    response = client.get("/demarches/main-courante")
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "Cette démarche n&#39;existe plus" in page
    assert "La main courante se dépose désormais au commissariat, sur rendez-vous." in page
    assert 'href="/recherche' in page and 'href="/#situations"' in page
    assert "main-courante" not in [p.slug for p in catalogue.own_procedures(ctx)]

    # Restoring the version before the retirement brings the page back.
    restored = workflow.restore(ctx, people.editor, "procedure", "main-courante", 1)
    restored = workflow.submit(ctx, people.editor, restored.id, restored.lock_version)
    workflow.approve(ctx, people.reviewer, restored.id, restored.lock_version)
    ctx.commit()
    assert client.get("/demarches/main-courante").status_code == 200


def test_a_retired_life_event_answers_410_and_leaves_the_home_page(ctx, people, client):
    rev = workflow.retire(ctx, people.editor, "depart-vacances", None, "Saison terminée", name="life_event")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    ctx.commit()
    assert ctx.scalar(select(LifeEvent.status).where(LifeEvent.slug == "depart-vacances")) == "retired"
    response = client.get("/situations/depart-vacances")
    assert response.status_code == 410
    assert "Cette situation n&#39;est plus proposée" in response.get_data(as_text=True)
    assert 'href="/situations/depart-vacances"' not in client.get("/").get_data(as_text=True)
    assert "Je pars en vacances" not in client.get("/demarches/operation-tranquillite-vacances").get_data(
        as_text=True)


def test_a_hidden_fiche_is_not_found_and_can_be_shown_again(ctx, people, client):
    events = outbox.latest_id(ctx)
    workflow.set_fiche_hidden(ctx, people.editor, "F1344", True)
    ctx.commit()
    assert client.get("/fiches/F1344").status_code == 404
    assert catalogue.published(ctx, "F1344") is None
    assert [(e.topic, e.key) for e in outbox.events_after(ctx, events)] == [(outbox.ENTRY, "F1344")]
    workflow.set_fiche_hidden(ctx, people.editor, "F1344", False)
    ctx.commit()
    assert client.get("/fiches/F1344").status_code == 200
    assert _actions(ctx, "F1344") == ["fiche.hide", "fiche.show"]
    _refused(lambda: workflow.set_fiche_hidden(ctx, people.editor, "cambriolage", True), 404)


# --- the outbox ---------------------------------------------------------------------------------------------

def test_publishing_writes_its_outbox_event_in_the_same_transaction(ctx, people):
    rev = _submitted(ctx, people.editor, "fraude-carte-bancaire", {"keywords": ["carte bleue piratée"]})
    ctx.commit()
    before = outbox.latest_id(ctx)

    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    assert [(e.topic, e.key) for e in outbox.events_after(ctx, before)] == [(outbox.ENTRY, "fraude-carte-bancaire")]
    assert _procedure(ctx, "fraude-carte-bancaire").keywords == ["carte bleue piratée"]

    ctx.rollback()  # the publication fails before its commit: neither the content nor the event remain
    assert outbox.events_after(ctx, before) == []
    assert _procedure(ctx, "fraude-carte-bancaire").keywords != ["carte bleue piratée"]
    assert ctx.get(Revision, rev.id).state == "submitted"


# --- search rules -------------------------------------------------------------------------------------------

def test_a_search_rule_is_created_reviewed_published_and_retired(ctx, people):
    rev = workflow.start_edit(ctx, people.editor, "search_rule", None,
                              {"kind": "synonym", "terms": ["trottinette", "engin de déplacement personnel"],
                               "slugs": [], "note": "Vu dans les recherches sans résultat."})
    assert rev.entity_key == "synonym-trottinette" and rev.number == 1
    assert entities.title_of("search_rule", rev.entity_key, rev.data).startswith("Synonymes : trottinette")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    before = outbox.latest_id(ctx)
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    rule = ctx.scalar(select(SearchRule).where(SearchRule.key == "synonym-trottinette"))
    assert (rule.status, rule.terms) == ("published", ["trottinette", "engin de déplacement personnel"])
    assert (outbox.TUNING, "synonym-trottinette") in [(e.topic, e.key) for e in outbox.events_after(ctx, before)]

    retirement = workflow.retire(ctx, people.editor, "synonym-trottinette", None, "Inutile", name="search_rule")
    retirement = workflow.submit(ctx, people.editor, retirement.id, retirement.lock_version)
    workflow.approve(ctx, people.reviewer, retirement.id, retirement.lock_version)
    ctx.refresh(rule)
    assert rule.status == "retired"

    with pytest.raises(InvalidData) as invalid:
        workflow.start_edit(ctx, people.editor, "search_rule", None, {"kind": "synonym", "terms": ["seul"]})
    assert "terms" in invalid.value.errors


# --- nothing an editor types runs in a citizen's browser ---------------------------------------------------

PAYLOAD = ('<script>alert(1)</script><img src=x onerror=alert(1)>"><svg onload=alert(1)>'
           '[x](javascript:alert(1))<a href="JaVaScRiPt:alert(1)">y</a><iframe src=x></iframe><style>*{}</style>'
           '<script nonce=x>alert(1)</script>')


class _Active(HTMLParser):
    """What would run: a script without the page's nonce, an on* attribute, a javascript:/data: address,
    an iframe, object, embed, svg or style element."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src", "action") and value and re.match(r"\s*(javascript|vbscript|data):", value,
                                                                        re.IGNORECASE):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "script" and (self.nonce is None or values.get("nonce") != self.nonce):
            self.found.append("<script> without nonce")
        if tag in ("iframe", "object", "embed", "svg", "style"):
            self.found.append(f"<{tag}>")

    handle_startendtag = handle_starttag


def test_payloads_in_every_field_stay_text_on_the_public_pages(ctx, people, client):
    text_fields = [spec.name for spec in entities.kind("procedure").fields
                   if spec.kind in ("text", "markdown") and spec.name not in ("slug", "service_path", "external_url",
                                                                              "verified_on")]
    # Markdown links to javascript: are refused when saved (see above): the rest goes through.
    markdown_payload = PAYLOAD.replace("[x](javascript:alert(1))", "[x](/démarches)")
    # A text field takes what its column holds (service_label: 200 characters): the payload's start, its scripts.
    limits = {name: getattr(Procedure.__table__.columns.get(name), "type", None) for name in text_fields}
    limits = {name: getattr(column_type, "length", None) for name, column_type in limits.items()}
    changes = {name: f"{name} {PAYLOAD if spec.kind == 'text' else markdown_payload}"[: limits[name]]
               for name, spec in ((n, entities.kind("procedure").field(n)) for n in text_fields)}
    changes.update(contacts=[{"number": "17", "label": PAYLOAD, "detail": PAYLOAD}],
                   links=[{"title": PAYLOAD, "url": "https://example.org/?q=<script>"}],
                   sources=[{"title": PAYLOAD, "url": "https://example.org"}], keywords=[PAYLOAD[:100]],
                   life_events=["vol-cambriolage"])
    rev = _submitted(ctx, people.editor, "cambriolage", changes)
    workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version)
    event = workflow.start_edit(ctx, people.editor, "life_event", "vol-cambriolage")
    event = workflow.save_draft(ctx, people.editor, event.id, event.lock_version,
                                {"title": f"Vol {PAYLOAD}"[:200], "summary": PAYLOAD}, PAYLOAD)
    event = workflow.submit(ctx, people.editor, event.id, event.lock_version)
    workflow.approve(ctx, people.reviewer, event.id, event.lock_version)
    ctx.commit()

    for url in ("/demarches/cambriolage", "/situations/vol-cambriolage", "/", "/demarches/"):
        response = client.get(url)
        parser = _Active(page_nonce(response))
        parser.feed(response.get_data(as_text=True))
        assert parser.found == [], (url, parser.found)
    page = client.get("/demarches/cambriolage").get_data(as_text=True)
    assert "steps &lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_flask_editorial_publish_due_publishes_what_is_due(app, ctx, people):
    rev = _submitted(ctx, people.editor, "vol-vehicule", {"summary": "Votre véhicule a été volé : appelez le 17."})
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                           publish_at=datetime.now(UTC) + timedelta(minutes=5))
    # Five minutes later.
    ctx.execute(update(Revision).where(Revision.id == rev.id)
                .values(publish_at=datetime.now(UTC) - timedelta(seconds=1)))
    ctx.commit()
    result = app.test_cli_runner().invoke(args=["editorial", "publish-due"])
    assert result.exit_code == 0, result.output
    assert "Publication(s) programmée(s) effectuée(s) : 1" in result.output
    assert "procedure vol-vehicule (version 2)" in result.output
    assert _procedure(ctx, "vol-vehicule").summary == "Votre véhicule a été volé : appelez le 17."


# --- procedure ↔ life event links, written from both sides -----------------------------------------------------

def _published(session, author, reviewer, rev: Revision) -> Revision:
    rev = workflow.submit(session, author, rev.id, rev.lock_version)
    return workflow.approve(session, reviewer, rev.id, rev.lock_version)


def _entries(session, slug: str) -> list[str]:
    session.expire_all()
    event = session.scalars(select(LifeEvent).where(LifeEvent.slug == slug)).one()
    return [link.procedure.slug for link in event.procedure_links]


def _events_of(session, slug: str) -> set[str]:
    session.expire_all()
    return {link.life_event.slug for link in _procedure(session, slug).life_event_links}


def test_publishing_a_life_event_keeps_the_links_procedures_changed_meanwhile(ctx, people):
    before = _entries(ctx, "vol-cambriolage")
    assert "main-courante" not in before and "vol-vehicule" in before
    # The life event's draft is opened (and reordered) first…
    event = _edit(ctx, people.editor, "vol-cambriolage", {"procedures": list(reversed(before))}, "life_event")
    # …then two procedures publish from their own pages: one joins the life event, one leaves it.
    joined = _submitted(ctx, people.editor2, "main-courante",
                        {"life_events": [*entities.live_data(ctx, "procedure", "main-courante")["life_events"],
                                         "vol-cambriolage"]})
    workflow.approve(ctx, people.reviewer, joined.id, joined.lock_version)
    left = _submitted(ctx, people.editor2, "vol-vehicule", {"life_events": [
        s for s in entities.live_data(ctx, "procedure", "vol-vehicule")["life_events"] if s != "vol-cambriolage"]})
    workflow.approve(ctx, people.reviewer, left.id, left.lock_version)
    assert "main-courante" in _entries(ctx, "vol-cambriolage")
    # The reviewer of the life event's draft is told the live list moved since it was opened.
    drift = workflow.link_drift(ctx, event)
    assert (drift.added, drift.removed) == (["main-courante"], ["vol-vehicule"])

    event = workflow.submit(ctx, people.editor, event.id, event.lock_version)
    workflow.approve(ctx, people.reviewer, event.id, event.lock_version)
    # The draft's own order for what it lists, the procedure that joined meanwhile at the end, and the one
    # that left stays gone (the draft did not ask for it: it only listed what was there when it was opened).
    expected = [s for s in reversed(before) if s != "vol-vehicule"] + ["main-courante"]
    assert _entries(ctx, "vol-cambriolage") == expected
    assert "vol-cambriolage" in _events_of(ctx, "main-courante")
    assert "vol-cambriolage" not in _events_of(ctx, "vol-vehicule")


def test_publishing_a_procedure_keeps_the_links_life_events_changed_meanwhile(ctx, people):
    assert "vol-cambriolage" not in _events_of(ctx, "main-courante")
    procedure = _edit(ctx, people.editor, "main-courante", {"summary": "Signaler des faits sans porter plainte."})
    # Meanwhile a life event's page lists the procedure, another drops it.
    joined = _submitted(ctx, people.editor2, "vol-cambriolage",
                        {"procedures": [*_entries(ctx, "vol-cambriolage"), "main-courante"]}, "life_event")
    workflow.approve(ctx, people.reviewer, joined.id, joined.lock_version)
    dropping = sorted(_events_of(ctx, "main-courante") - {"vol-cambriolage"})[0]
    left = _submitted(ctx, people.editor2, dropping,
                      {"procedures": [s for s in _entries(ctx, dropping) if s != "main-courante"]}, "life_event")
    workflow.approve(ctx, people.reviewer, left.id, left.lock_version)
    drift = workflow.link_drift(ctx, procedure)
    assert (drift.added, drift.removed) == (["vol-cambriolage"], [dropping])

    procedure = workflow.submit(ctx, people.editor, procedure.id, procedure.lock_version)
    workflow.approve(ctx, people.reviewer, procedure.id, procedure.lock_version)
    assert "main-courante" in _entries(ctx, "vol-cambriolage")  # not silently removed
    assert "main-courante" not in _entries(ctx, dropping)  # not put back either
    assert _procedure(ctx, "main-courante").summary == "Signaler des faits sans porter plainte."

    # What the draft itself adds or removes still applies, at the end of the life event's list.
    again = _submitted(ctx, people.editor, "main-courante", {"life_events": [dropping]})
    workflow.approve(ctx, people.reviewer, again.id, again.lock_version)
    assert "main-courante" not in _entries(ctx, "vol-cambriolage")
    assert _entries(ctx, dropping)[-1] == "main-courante"


def test_a_fiche_attached_to_a_life_event_and_a_procedure_joining_it_meanwhile_both_stay(ctx, people):
    before = _entries(ctx, "vol-cambriolage")
    event = workflow.attach_fiche(ctx, people.editor, "life_event", "vol-cambriolage", "F1344")
    assert (event.state, event.data["procedures"], event.change_note) == ("draft", [*before, "F1344"],
                                                                          "Fiche F1344 rattachée.")
    joined = _submitted(ctx, people.editor2, "main-courante",
                        {"life_events": [*entities.live_data(ctx, "procedure", "main-courante")["life_events"],
                                         "vol-cambriolage"]})
    workflow.approve(ctx, people.reviewer, joined.id, joined.lock_version)
    event = workflow.submit(ctx, people.editor, event.id, event.lock_version)
    workflow.approve(ctx, people.reviewer, event.id, event.lock_version)
    assert _entries(ctx, "vol-cambriolage") == [*before, "F1344", "main-courante"]


def test_a_link_added_from_the_other_side_can_be_removed_by_a_later_draft(ctx, people):
    """The entity's history catches up with the links the other side changed before a new draft starts from it:
    removing the procedure in that draft removes it (its base is what citizens saw, not an older version)."""
    first = _submitted(ctx, people.editor, "vol-cambriolage", {"summary": "Vol, cambriolage."}, "life_event")
    workflow.approve(ctx, people.reviewer, first.id, first.lock_version)
    joined = _submitted(ctx, people.editor2, "main-courante",
                        {"life_events": [*entities.live_data(ctx, "procedure", "main-courante")["life_events"],
                                         "vol-cambriolage"]})
    workflow.approve(ctx, people.reviewer, joined.id, joined.lock_version)

    draft = workflow.start_edit(ctx, people.editor, "life_event", "vol-cambriolage")
    history = workflow.history(ctx, "life_event", "vol-cambriolage")
    caught_up = history[1]
    assert (caught_up.state, caught_up.authors, draft.base_number) == ("published", [], caught_up.number)
    assert "main-courante" in caught_up.data["procedures"] and "autre page" in caught_up.change_note
    assert caught_up.data["summary"] == "Vol, cambriolage."
    assert workflow.link_drift(ctx, draft) is None

    draft = workflow.save_draft(ctx, people.editor, draft.id, draft.lock_version, {"procedures": [
        s for s in draft.data["procedures"] if s != "main-courante"]}, "Hors sujet")
    draft = workflow.submit(ctx, people.editor, draft.id, draft.lock_version)
    workflow.approve(ctx, people.reviewer, draft.id, draft.lock_version)
    assert "main-courante" not in _entries(ctx, "vol-cambriolage")


# --- review decisions are not thrown away ----------------------------------------------------------------------

def test_an_approved_or_scheduled_version_is_abandoned_by_a_reviewer_only(ctx, people):
    rev = _submitted(ctx, people.editor, "thesee", {"alert": "Urgence : appelez le 17."})
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                           publish_at=datetime.now(UTC) + timedelta(days=1))
    assert rev.state == "scheduled"
    assert workflow.abandon_refusal(people.editor2, rev) == workflow.REVIEWED_ABANDON
    _refused(lambda: workflow.abandon(ctx, people.editor2, rev.id, rev.lock_version), 403, "relecteurs")
    rev = workflow.unschedule(ctx, people.reviewer, rev.id, rev.lock_version)
    _refused(lambda: workflow.abandon(ctx, people.editor, rev.id, rev.lock_version), 403, "relecteurs")
    assert rev.state == "approved" and workflow.open_revision(ctx, "procedure", "thesee").id == rev.id
    workflow.abandon(ctx, people.reviewer2, rev.id, rev.lock_version)
    assert rev.state == "abandoned"

    # A draft, a submitted or a sent back version: any editor.
    rev = _submitted(ctx, people.editor, "thesee", {"alert": "Urgence : appelez le 112."})
    assert workflow.abandon_refusal(people.editor2, rev) is None
    workflow.abandon(ctx, people.editor2, rev.id, rev.lock_version)
    assert rev.state == "abandoned"


def test_attaching_a_fiche_never_sends_a_version_in_review_back_to_draft(ctx, people):
    rev = _submitted(ctx, people.editor, "vol-cambriolage", {"summary": "Vol, cambriolage."}, "life_event")
    for step in ("submitted", "approved", "scheduled"):
        if step == "approved":
            rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                                   publish_at=datetime.now(UTC) + timedelta(days=1))
            rev = workflow.unschedule(ctx, people.reviewer, rev.id, rev.lock_version)
        if step == "scheduled":
            rev = workflow.schedule(ctx, people.reviewer, rev.id, rev.lock_version,
                                    datetime.now(UTC) + timedelta(days=1))
        assert rev.state == step
        _refused(lambda: workflow.attach_fiche(ctx, people.editor2, "life_event", "vol-cambriolage", "F1344"),
                 409, "relecture serait perdue")
        ctx.refresh(rev)
        assert rev.state == step and "F1344" not in rev.data["procedures"]
    # Sent back to its author: the fiche joins the draft.
    rev = workflow.reject(ctx, people.reviewer, rev.id, rev.lock_version, "Ajoutez la fiche F1344.")
    rev = workflow.attach_fiche(ctx, people.editor, "life_event", "vol-cambriolage", "F1344")
    assert rev.state == "draft" and rev.data["procedures"][-1] == "F1344"


def test_start_edit_saves_the_change_note_with_the_data_in_one_audited_save(ctx, people):
    before = len(_actions(ctx, "appels-urgence"))
    rev = workflow.start_edit(ctx, people.editor, "procedure", "appels-urgence",
                              {"summary": "Les numéros d'urgence, gratuits."}, change_note="Résumé plus court")
    assert (rev.change_note, rev.data["summary"]) == ("Résumé plus court", "Les numéros d'urgence, gratuits.")
    assert _actions(ctx, "appels-urgence")[before:] == ["content.draft"]
    again = workflow.start_edit(ctx, people.editor2, "procedure", "appels-urgence", {"alert": "Appelez le 112."})
    assert again.id == rev.id and again.change_note == "Résumé plus court"  # None: the note stays
    created = workflow.start_edit(ctx, people.editor, "search_rule", None,
                                  {"kind": "synonym", "terms": ["trottinette", "edpm"]}, change_note="Vu en stats")
    assert created.change_note == "Vu en stats"


# --- scheduled publications that can no longer go out --------------------------------------------------------

class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_a_scheduled_version_that_no_longer_passes_the_checks_is_sent_back_once(ctx, people):
    now = datetime.now(UTC)
    rev = workflow.retire(ctx, people.editor, "pre-plainte-en-ligne", "main-courante",
                          "La pré-plainte est remplacée par la main courante.")
    rev = workflow.submit(ctx, people.editor, rev.id, rev.lock_version)
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version, publish_at=now + timedelta(hours=1))
    rev_id = rev.id
    # Before the time comes, the replacement is retired in turn.
    other = workflow.retire(ctx, people.editor2, "main-courante", None, "La main courante se dépose au commissariat.")
    other = workflow.submit(ctx, people.editor2, other.id, other.lock_version)
    workflow.approve(ctx, people.reviewer2, other.id, other.lock_version)
    ctx.commit()

    records = _Records()
    logger = logging.getLogger("editorial.workflow")
    logger.addHandler(records)
    try:
        assert workflow.publish_due(ctx, now=now + timedelta(hours=2)) == []
        assert workflow.publish_due(ctx, now=now + timedelta(hours=3)) == []  # not tried again
    finally:
        logger.removeHandler(records)
    ctx.expire_all()
    rev = ctx.get(Revision, rev_id)
    assert rev.state == "rejected" and rev.publish_at is None
    assert rev.review_note.startswith("La publication programmée a échoué : Remplacée par : Aucune démarche")
    assert workflow.open_revision(ctx, "procedure", "pre-plainte-en-ligne").id == rev_id  # the authors fix it
    assert _procedure(ctx, "pre-plainte-en-ligne").status == "published"  # nothing half published
    event = ctx.scalars(select(AuditEvent).where(AuditEvent.target_id == "pre-plainte-en-ligne")
                        .order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.agent_id) == ("content.reject", None)
    # The log names the revision and the kind of failure, never the content.
    assert records.messages == [f"scheduled publication of revision {rev_id} refused: InvalidData"]


def test_a_schedule_beyond_five_years_or_out_of_range_is_refused(ctx, people):
    rev = _submitted(ctx, people.editor, "pharos", {"alert": "Signalez les contenus illicites."})
    refusal = _refused(lambda: workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                                                datetime.now(UTC) + timedelta(days=6 * 366)), 400, "5 ans")
    assert refusal.field == "publish_at"
    refusal = _refused(lambda: workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                                                datetime.max), 400)
    assert refusal.field == "publish_at"
    rev = workflow.approve(ctx, people.reviewer, rev.id, rev.lock_version,
                           datetime.now(UTC) + timedelta(days=4 * 365))
    assert rev.state == "scheduled"


def test_a_replaced_procedure_keeps_a_note_for_when_its_replacement_goes(ctx, people, client):
    title = _procedure(ctx, "main-courante").title
    rev = workflow.retire(ctx, people.editor, "pre-plainte-en-ligne", "main-courante", "")
    assert rev.data["retired_note"] == f"Cette démarche a été remplacée par « {title} »."
    _published(ctx, people.editor, people.reviewer, rev)
    other = workflow.retire(ctx, people.editor2, "main-courante", None, "La main courante se dépose au commissariat.")
    _published(ctx, people.editor2, people.reviewer, other)
    ctx.commit()
    assert _procedure(ctx, "pre-plainte-en-ligne").retired_note == f"Cette démarche a été remplacée par « {title} »."
    response = client.get("/demarches/pre-plainte-en-ligne")
    assert response.status_code == 410
    assert f"Cette démarche a été remplacée par « {title} »." in unescape(response.get_data(as_text=True))

    # Retired before notes were kept: the page still says what happened.
    _procedure(ctx, "pre-plainte-en-ligne").retired_note = None
    ctx.commit()
    page = unescape(client.get("/demarches/pre-plainte-en-ligne").get_data(as_text=True))
    assert "avait été remplacée par une autre, qui n'est plus proposée non plus" in page
