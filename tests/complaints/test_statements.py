"""The procès-verbal: the officer sends versions, the citizen validates or asks for corrections; closing waits.

Services with an explicit clock; then the citizen's pages (Mon espace) and the
officer's (console), each refusing the other side's cases with a 404.
"""

from __future__ import annotations

import html
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import OutboxMessage
from agents.models import AuditEvent
from complaints import console, statements
from complaints.models import Case, Statement
from portal.extensions import utc
from portal.security import limiter
from tests.accounts.conftest import csrf_token
from tests.agents.helpers import make_agent, sign_in_agent
from tests.complaints.conftest import LE_MANS_UNIT, new_case

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
PV = "Le 3 décembre 2026, nous, officier de police judiciaire, recevons la plainte de Mme DUBOIS.\nSentinelle-pv-7731."
_counter = itertools.count(1)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def visio_case(db_session, account_id, unit_id=LE_MANS_UNIT, status="en_cours", assigned_to=None):
    case = new_case(db_session, account_id, unit_id=unit_id, kind="visio_plainte", status=status,
                    offence="violences", details={"description": "Violences de test"})
    case.assigned_agent_id = assigned_to
    db_session.flush()
    return case


def officer_id(db_session) -> int:
    agent, _ = make_agent(db_session, email=f"pv{next(_counter)}@interieur.gouv.fr", unit_id=LE_MANS_UNIT)
    return agent.id


def account_id(db_session):
    from accounts.models import Account

    acc = Account(issuer="https://fc.example", subject=f"pv-{next(_counter)}", identity_verified=True,
                  created_at=T0, last_login_at=T0)
    db_session.add(acc)
    db_session.flush()
    return acc.id


# --- Services -------------------------------------------------------------------------------------------------------


def test_versions_are_kept_and_time_stamped_until_the_citizen_validates(ctx, db_session):
    opj = officer_id(db_session)
    case = visio_case(db_session, account_id(db_session), assigned_to=opj)
    first = statements.send_statement(db_session, case, opj, PV, T0)
    assert (first.version, case.status, case.events[-1].kind) == (1, "pv_disponible", "pv_envoye")
    assert not statements.can_close(case)
    statements.respond(db_session, case, 1, "corrections", "Il manque l'heure des faits.", T0 + timedelta(hours=1))
    assert case.status == "en_cours" and case.events[-1].kind == "corrections_demandees"
    assert case.events[-1].message == "Il manque l'heure des faits."
    assert not statements.can_close(case)
    second = statements.send_statement(db_session, case, opj, PV + "\nLes faits ont eu lieu à 18 h.",
                                       T0 + timedelta(hours=2))
    statements.respond(db_session, case, 2, "validee", "", T0 + timedelta(hours=3))
    db_session.refresh(case)
    assert [(s.version, s.response) for s in case.statements] == [(1, "corrections"), (2, "validee")]
    assert statements.RESPONSES["validee"] == "Validé"
    assert utc(second.sent_at) == T0 + timedelta(hours=2) and utc(second.responded_at) == T0 + timedelta(hours=3)
    assert case.statements[0].response_comment == "Il manque l'heure des faits."
    assert case.events[-1].kind == "pv_valide" and statements.can_close(case)
    with pytest.raises(statements.StatementRefused, match="déjà validé"):
        statements.send_statement(db_session, case, opj, "Encore", T0)


def test_answers_are_checked(ctx, db_session):
    opj = officer_id(db_session)
    case = visio_case(db_session, account_id(db_session), assigned_to=opj)
    with pytest.raises(statements.StatementRefused, match="texte"):
        statements.send_statement(db_session, case, opj, "   ", T0)
    with pytest.raises(statements.StatementRefused, match="20000"):
        statements.send_statement(db_session, case, opj, "x" * 20001, T0)
    statements.send_statement(db_session, case, opj, PV, T0)
    with pytest.raises(statements.StatementRefused, match="corrections") as missing:
        statements.respond(db_session, case, 1, "corrections", "  ", T0)
    assert missing.value.field == "comment"
    with pytest.raises(statements.StatementRefused) as unknown:
        statements.respond(db_session, case, 1, "peut-etre", "", T0)
    assert unknown.value.field == "decision"
    statements.send_statement(db_session, case, opj, PV + " v2", T0)  # replaces v1, not answered yet
    with pytest.raises(statements.StatementRefused, match="plus récente") as stale:
        statements.respond(db_session, case, 1, "validee", "", T0)  # the old version cannot be validated
    assert stale.value.status == 409
    statements.respond(db_session, case, 2, "validee", "", T0)
    with pytest.raises(statements.StatementRefused, match="déjà répondu"):
        statements.respond(db_session, case, 2, "validee", "", T0)


def test_the_console_refuses_to_close_before_validation(ctx, db_session):
    agent, _ = make_agent(db_session, email=f"pv{next(_counter)}@interieur.gouv.fr", unit_id=LE_MANS_UNIT)
    case = visio_case(db_session, account_id(db_session))
    case.assigned_agent_id = agent.id
    statements.send_statement(db_session, case, agent.id, PV, T0)
    with pytest.raises(console.ActionRefused, match="validation"):
        console.close_case(db_session, agent, case, "plainte_enregistree")
    statements.respond(db_session, case, 1, "validee", "", T0)
    console.close_case(db_session, agent, case, "plainte_enregistree")
    assert case.status == "cloturee" and case.closed_at is not None
    assert not statements.can_close(case)


def test_a_case_without_statement_is_the_consoles_call(ctx, db_session):
    case = visio_case(db_session, account_id(db_session))
    assert statements.can_close(case)


# --- Pages ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def officer(app, db_session):
    email = f"opj-pv{next(_counter)}@interieur.gouv.fr"
    agent, secret = make_agent(db_session, email=email, unit_id=LE_MANS_UNIT, display_name="Lieutenant Martin")
    limiter.reset()
    client = app.test_client()
    client.agent_id = agent.id
    sign_in_agent(client, email, totp_secret=secret)
    return client


def committed_case(app, db_session, account, unit_id=LE_MANS_UNIT, assigned_to=None, status="en_cours") -> str:
    with app.app_context():  # leaving it removes the session: commit inside
        reference = visio_case(db_session, account, unit_id, status=status, assigned_to=assigned_to).reference
        db_session.commit()
    return reference


def test_officer_writes_the_pv_and_the_citizen_validates_it(app, db_session, officer, citizen):
    reference = committed_case(app, db_session, citizen.account_id, assigned_to=officer.agent_id)
    page = officer.get(f"/agents/dossiers/{reference}/pv")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Rédiger le procès-verbal" in page.get_data(as_text=True)
    officer_token = csrf_token(page.get_data(as_text=True))
    empty = officer.post(f"/agents/dossiers/{reference}/pv", data={"csrf_token": officer_token, "text": " "})
    assert empty.status_code == 400 and "<title>Erreur : " in empty.get_data(as_text=True)
    assert 'aria-describedby="statement-text-hint statement-text-error"' in empty.get_data(as_text=True)
    sent = officer.post(f"/agents/dossiers/{reference}/pv", data={"csrf_token": officer_token, "text": PV})
    assert sent.status_code == 303
    assert db_session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "statement.send",
                                                                     AuditEvent.target_id == reference)) == 1
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains(reference))
                              .order_by(OutboxMessage.id.desc())).first()
    assert "procès-verbal est à relire" in mail.subject and "Sentinelle-pv" not in mail.body
    assert f"/mon-espace/dossiers/{reference}/pv" in mail.body
    # The citizen reads it in Mon espace, on the case page and on the PV page.
    case_page = html.unescape(citizen.get(f"/mon-espace/dossiers/{reference}").get_data(as_text=True))
    assert "Sentinelle-pv-7731." in case_page and "Je valide ce procès-verbal" in case_page
    pv_page = citizen.get(f"/mon-espace/dossiers/{reference}/pv")
    assert pv_page.status_code == 200 and pv_page.headers["Cache-Control"] == "no-store"
    # A visio-plainte is about violence, threats or harassment: its PV page has the quick exit, no referrer.
    assert 'id="quick-exit"' in pv_page.get_data(as_text=True)
    assert pv_page.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_token(pv_page.get_data(as_text=True))
    missing = citizen.post(f"/mon-espace/dossiers/{reference}/pv",
                           data={"csrf_token": token, "version": "1", "decision": "corrections", "comment": ""})
    assert missing.status_code == 400 and 'id="statement-comment-error"' in missing.get_data(as_text=True)
    asked = citizen.post(f"/mon-espace/dossiers/{reference}/pv", data={
        "csrf_token": token, "version": "1", "decision": "corrections", "comment": "Il manque l'heure."})
    assert asked.status_code == 303
    assert db_session.scalar(select(Case.status).where(Case.reference == reference)) == "en_cours"
    # The officer sees the request and sends version 2, which the citizen validates.
    page = html.unescape(officer.get(f"/agents/dossiers/{reference}/pv").get_data(as_text=True))
    assert "Il manque l'heure." in page and "Envoyer une nouvelle version" in page
    second = officer.post(f"/agents/dossiers/{reference}/pv", data={"csrf_token": officer_token,
                                                                   "text": PV + "\nÀ 18 h."})
    assert second.status_code == 303
    done = citizen.post(f"/mon-espace/dossiers/{reference}/pv",
                        data={"csrf_token": token, "version": "2", "decision": "validee"})
    assert done.status_code == 303
    page = html.unescape(citizen.get(done.headers["Location"]).get_data(as_text=True))
    assert "Vous avez validé le procès-verbal" in page and "Version 1, envoyée le" in page
    versions = db_session.execute(select(Statement.version, Statement.response).join(Case)
                                  .where(Case.reference == reference).order_by(Statement.version)).all()
    assert [tuple(v) for v in versions] == [(1, "corrections"), (2, "validee")]
    assert "vous pouvez clôturer" in officer.get(f"/agents/dossiers/{reference}/pv").get_data(as_text=True)


def test_another_units_case_is_not_found_in_the_console(app, db_session, officer, other_citizen, other_unit_id):
    reference = committed_case(app, db_session, other_citizen.account_id, unit_id=other_unit_id)
    assert officer.get(f"/agents/dossiers/{reference}/pv").status_code == 404
    token = csrf_token(officer.get("/agents/agenda").get_data(as_text=True))
    assert officer.post(f"/agents/dossiers/{reference}/pv", data={"csrf_token": token, "text": PV}).status_code == 404
    assert db_session.scalar(select(func.count(Statement.id)).join(Case).where(Case.reference == reference)) == 0


def test_another_citizens_pv_is_not_found(app, db_session, citizen, other_citizen):
    reference = committed_case(app, db_session, other_citizen.account_id)
    assert citizen.get(f"/mon-espace/dossiers/{reference}/pv").status_code == 404
    token = csrf_token(citizen.get("/visio-plainte").get_data(as_text=True))
    answer = citizen.post(f"/mon-espace/dossiers/{reference}/pv",
                          data={"csrf_token": token, "version": "1", "decision": "validee"})
    assert answer.status_code == 404
    assert other_citizen.get(f"/mon-espace/dossiers/{reference}/pv").status_code == 200


def test_citizens_never_reach_the_pv_writing_page(app, db_session, citizen):
    reference = committed_case(app, db_session, citizen.account_id)
    response = citizen.get(f"/agents/dossiers/{reference}/pv")
    assert response.status_code in (302, 303) and "/agents/connexion" in response.headers["Location"]


# --- Who may write the PV, and when ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "assigned", "words"), [
    ("en_cours", None, "Prenez d'abord le dossier en charge"),
    ("en_cours", "other", "Prenez d'abord le dossier en charge"),
    ("deposee", None, "Prenez d'abord le dossier en charge"),
    ("deposee", "self", "statut « Déposée »"),
    ("complement_demande", "self", "répondre à votre demande de complément"),
    ("cloturee", "self", "clôturé"),
])
def test_only_the_officer_who_took_the_case_writes_its_pv_once_in_progress(ctx, db_session, status, assigned, words):
    opj, other = officer_id(db_session), officer_id(db_session)
    case = visio_case(db_session, account_id(db_session), status=status,
                      assigned_to={"self": opj, "other": other, None: None}[assigned])
    with pytest.raises(statements.StatementRefused, match=words) as refused:
        statements.send_statement(db_session, case, opj, PV, T0)
    assert refused.value.status == 409
    db_session.expire_all()
    assert case.status == status and case.statements == []
    assert not statements.can_send(case, opj)


def test_the_pv_page_asks_to_take_the_case_first(app, db_session, officer, citizen):
    reference = committed_case(app, db_session, citizen.account_id, status="deposee")
    page = officer.get(f"/agents/dossiers/{reference}/pv")
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "Prenez d'abord le dossier en charge" in text and f'href="/agents/dossiers/{reference}"' in text
    assert 'name="text"' not in text  # no form to send
    token = csrf_token(officer.get("/agents/agenda").get_data(as_text=True))
    refused = officer.post(f"/agents/dossiers/{reference}/pv", data={"csrf_token": token, "text": PV})
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 409 and "<title>Erreur : " in text and "Prenez d'abord le dossier en charge" in text
    assert db_session.scalar(select(func.count(Statement.id)).join(Case).where(Case.reference == reference)) == 0
    assert db_session.scalar(select(Case.status).where(Case.reference == reference)) == "deposee"
