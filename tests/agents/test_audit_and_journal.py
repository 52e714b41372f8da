"""The audit log is append-only in the database; only administrators read it."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from agents import audit
from agents.models import AuditEvent
from tests.agents.helpers import DEFAULT_PASSWORD, make_agent, sign_in_agent


def test_the_audit_log_refuses_update_and_delete(ctx):
    agent, _ = make_agent(ctx, email="audit@interieur.gouv.fr")
    event = audit.record(ctx, agent, "case.read", "case", "PL-2026-TEST01")
    ctx.commit()
    event_id = event.id
    for statement in (f"UPDATE audit_event SET action = 'case.close' WHERE id = {event_id}",
                      f"DELETE FROM audit_event WHERE id = {event_id}"):
        savepoint = ctx.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            ctx.execute(text(statement))
        savepoint.rollback()
    assert ctx.scalar(select(AuditEvent.action).where(AuditEvent.id == event_id)) == "case.read"


def test_record_takes_short_codes_only(ctx):
    agent, _ = make_agent(ctx, email="codes@interieur.gouv.fr")
    with pytest.raises(ValueError):
        audit.record(ctx, agent, "Le dossier de Mme X a été lu")
    event = audit.record(ctx, agent, "statement.send", "case", "PL-2026-ABCDEF")
    assert (event.agent_email, event.unit_id) == ("codes@interieur.gouv.fr", agent.unit_id)


def test_the_journal_is_for_administrators_only(client, db_session):
    _, secret = make_agent(db_session, email="pas-admin@interieur.gouv.fr", roles=("officer",))
    sign_in_agent(client, "pas-admin@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    response = client.get("/agents/journal")
    assert response.status_code == 403
    assert "Accès réservé" in unescape(response.get_data(as_text=True))


def test_administrators_read_the_journal_newest_first_and_filter_it(client, db_session, app):
    admin, secret = make_agent(db_session, email="admin@interieur.gouv.fr", roles=("admin",), unit_id=None)
    with app.app_context():
        audit.record(db_session, admin, "case.read", "case", "PL-2026-AAAAAA")
        audit.record(db_session, admin, "case.close", "case", "PL-2026-BBBBBB")
        db_session.commit()
    sign_in_agent(client, "admin@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    response = client.get("/agents/journal")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Journal d'audit" in html
    assert response.headers["Cache-Control"] == "no-store"
    # Newest first: the sign-in, then the closing, then the reading.
    assert html.index("Connexion réussie") < html.index("PL-2026-BBBBBB") < html.index("PL-2026-AAAAAA")
    filtered = unescape(client.get("/agents/journal?action=case.read").get_data(as_text=True))
    assert "PL-2026-AAAAAA" in filtered and "PL-2026-BBBBBB" not in filtered
    by_target = unescape(client.get("/agents/journal?cible=PL-2026-BBBBBB").get_data(as_text=True))
    assert "PL-2026-BBBBBB" in by_target and "PL-2026-AAAAAA" not in by_target
    fragment = client.get("/agents/journal?action=case.close", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "PL-2026-BBBBBB" in fragment.get_data(as_text=True)


def test_the_journal_pages(ctx):
    agent, _ = make_agent(ctx, email="pages@interieur.gouv.fr")
    for i in range(audit.PAGE_SIZE + 5):
        audit.record(ctx, agent, "case.read", "case", f"PL-PAGE-{i:04d}")
    first = audit.events(ctx, target="", action="case.read", page=1)
    second = audit.events(ctx, action="case.read", page=2)
    assert first.total == second.total >= audit.PAGE_SIZE + 5
    assert len(first.events) == audit.PAGE_SIZE and first.has_next and not first.has_previous
    assert second.has_previous
    assert audit.events(ctx, action="case.read", page=999).number == second.pages  # clamped, not empty
