"""The editors' journey in Chromium: an editor changes a procedure and adds a synonym, a reviewer (another
agent) approves both, and a citizen's search and page show them, with the indexer running beside the portal
as `flask search worker` runs it.

The editor cannot approve their own change: the page says why and a forged request is refused. What the
journey commits (agents aside) is undone at its end: the procedure's content, its revisions, the rule, and
the index (the indexer applies the restoration like any other change).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from agents.services import create_agent
from catalogue.models import Procedure
from editorial import entities
from editorial.models import Revision
from portal import outbox
from portal.extensions import db
from search import services as search_services
from search.models import SearchRule
from search.worker import Worker
from tests.agents.helpers import DEFAULT_PASSWORD
from tests.browser.conftest import run_axe, sign_in_agent, watched_context

SLUG = "operation-tranquillite-vacances"
NEW_SUMMARY = ("Pendant votre absence, la police ou la gendarmerie peut passer surveiller votre domicile, toute "
               "l'année. Inscrivez-vous au moins deux jours avant votre départ.")
# Citizens who say "gardiennage" mean the surveillance of their home while they are away.
SYNONYM_WORD = "gardiennage"
SYNONYM_OF = "surveillance du domicile"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOCK_VERSION = re.compile(r'name="lock_version" value="(\d+)"')


@pytest.fixture
def indexer(app):
    """The indexer beside the portal: an outbox pass every 0.3 s, as the worker process does."""
    worker = Worker(app, interval=0.3)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            worker.index_pass()
            stop.wait(0.3)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield worker
    stop.set()
    thread.join(timeout=30)


@pytest.fixture
def restore_catalogue(app):
    """Put the procedure back as it was and forget the revisions and rules the journey made."""
    with app.app_context():
        before = entities.live_data(db.session, "procedure", SLUG)
        content_hash = db.session.scalar(select(Procedure.content_hash).where(Procedure.slug == SLUG))
        rules_before = set(db.session.scalars(select(SearchRule.key)))
        db.session.remove()
    yield
    with app.app_context():
        session = db.session
        entities.apply(session, "procedure", SLUG, before)
        session.flush()
        # The loaded content's own hash: the index's fingerprint matches the catalogue's again.
        session.get(Procedure, session.scalar(select(Procedure.id).where(Procedure.slug == SLUG))).content_hash = \
            content_hash
        new_rules = set(session.scalars(select(SearchRule.key))) - rules_before
        session.execute(delete(Revision).where(Revision.entity_type == "procedure", Revision.entity_key == SLUG))
        session.execute(delete(Revision).where(Revision.entity_type == "search_rule",
                                               Revision.entity_key.in_(new_rules)))
        session.execute(delete(SearchRule).where(SearchRule.key.in_(new_rules)))
        outbox.emit(session, outbox.TUNING)
        session.commit()
        Worker(app).index_pass()
        db.session.remove()


def _agent(app, roles: list[str], name: str) -> tuple[str, str]:
    email = f"{roles[0]}-{secrets.token_hex(4)}@interieur.gouv.fr"
    with app.app_context():
        _, secret = create_agent(db.session, email, roles=roles, password=DEFAULT_PASSWORD, display_name=name)
        db.session.commit()
        db.session.remove()
    return email, secret


def test_an_edit_and_a_synonym_reach_citizens_after_another_agents_review(
        browser, live_server, csp_report_log, app, indexer, restore_catalogue):
    # The editor may review too, but never their own change: the four-eyes rule, not the role, stops them.
    editor_email, editor_secret = _agent(app, ["editor", "reviewer"], "Claire Rédactrice")
    reviewer_email, reviewer_secret = _agent(app, ["reviewer"], "Marc Relecteur")

    with watched_context(browser, live_server.url, csp_report_log) as (citizen_context, _):
        citizen = citizen_context.new_page()
        # Before: the synonym does not lead to the procedure, the page has its old summary.
        citizen.goto(f"/demarches/{SLUG}")
        expect(citizen.get_by_text(NEW_SUMMARY)).to_have_count(0)
        citizen.goto(f"/recherche?q={SYNONYM_WORD}")
        expect(citizen.get_by_role("heading", level=1)).to_be_visible()
        first_before = citizen.locator("main a[href*='/recherche/resultat/']").first
        if first_before.count():
            assert "tranquillité vacances" not in first_before.inner_text()

        with watched_context(browser, live_server.url, csp_report_log) as (editor_context, _):
            editor = sign_in_agent(editor_context, editor_email, DEFAULT_PASSWORD, editor_secret)
            # The procedure, from the menu.
            editor.get_by_role("link", name="Contenus").first.click()
            editor.get_by_role("link", name="Démarches").first.click()
            editor.get_by_role("link", name=re.compile("tranquillité vacances")).first.click()
            editor.get_by_role("link", name=re.compile("^Modifier")).first.click()
            editor.get_by_label("Résumé").fill(NEW_SUMMARY)
            editor.get_by_label("Note de modification").fill("L'inscription est possible toute l'année.")
            editor.get_by_role("button", name="Enregistrer le brouillon").click()
            editor.wait_for_load_state()
            expect(editor.locator("main")).to_contain_text("toute l'année")
            run_axe(editor)
            editor.get_by_role("button", name="Envoyer en relecture").click()
            editor.wait_for_load_state()
            # Their own change: no approval button, and why.
            expect(editor.get_by_role("button", name="Approuver et publier maintenant")).to_have_count(0)
            expect(editor.locator("main")).to_contain_text("une autre personne doit la relire")
            procedure_revision = urlsplit(editor.url).path
            html = editor.content()
            forged = editor.request.post(procedure_revision + "/approuver", max_redirects=0, form={
                "csrf_token": CSRF.search(html).group(1), "lock_version": LOCK_VERSION.search(html).group(1)})
            assert forged.status == 403
            assert "une autre personne doit la relire" in forged.text()

            # The synonym, through the rules' pages.
            editor.goto("/agents/recherche/regles/nouvelle?kind=synonym")
            editor.get_by_label("Mots ou recherches").fill(f"{SYNONYM_WORD}\n{SYNONYM_OF}")
            editor.get_by_label("Note de modification").fill("Le mot que des citoyens emploient pour l'OTV.")
            editor.get_by_role("button", name="Enregistrer le brouillon").click()
            editor.wait_for_load_state()
            editor.get_by_role("button", name="Envoyer en relecture").click()
            editor.wait_for_load_state()
            expect(editor.get_by_role("button", name="Approuver et publier maintenant")).to_have_count(0)
            rule_revision = urlsplit(editor.url).path

        with watched_context(browser, live_server.url, csp_report_log) as (reviewer_context, _):
            reviewer = sign_in_agent(reviewer_context, reviewer_email, DEFAULT_PASSWORD, reviewer_secret)
            reviewer.get_by_role("link", name="Contenus").first.click()
            expect(reviewer.locator("main")).to_contain_text("À relire")
            reviewer.goto(procedure_revision)
            expect(reviewer.locator("main ins").first).to_be_visible()  # the diff shows what changed
            reviewer.get_by_role("button", name="Approuver et publier maintenant").click()
            reviewer.wait_for_load_state()
            expect(reviewer.locator("main")).to_contain_text("Publiée")
            # The rule: its effect on a query, before and after, then approval.
            reviewer.goto(rule_revision)
            expect(reviewer.locator("main")).to_contain_text("Avec cette modification")
            run_axe(reviewer)
            reviewer.get_by_role("button", name="Approuver et publier maintenant").click()
            reviewer.wait_for_load_state()
            expect(reviewer.locator("main")).to_contain_text("Publiée")

        # The citizen: the indexer applies the publications within seconds; the search and the page show them.
        deadline = time.monotonic() + 10
        while True:
            citizen.goto(f"/recherche?q={SYNONYM_WORD}")
            first = citizen.locator("main a[href*='/recherche/resultat/']").first
            if first.count() and "tranquillité vacances" in first.inner_text():
                break
            assert time.monotonic() < deadline, "the synonym did not reach the citizen's search within 10 s"
            time.sleep(0.5)
        expect(citizen.locator("main")).to_contain_text("toute l'année")
        first.click()
        expect(citizen.get_by_role("heading", level=1)).to_contain_text("tranquillité vacances")
        expect(citizen.get_by_text(NEW_SUMMARY)).to_be_visible()

    with app.app_context():
        hits = search_services.search(SYNONYM_WORD, limit=1).hits
        assert hits and hits[0].slug == SLUG
        db.session.remove()
