"""The audit log is append-only in the database; only administrators read it."""

from __future__ import annotations

import re
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


def _written_audit_codes() -> tuple[set[str], set[str]]:
    """Every action code and object type the code writes to the audit log, read from the source (ast).

    The writers: ``audit.record(session, agent, action, target_type, …)``, ``agents.services._record(session,
    who, action, now, target_type)``, the console's ``_act(reference, action, …)`` (which records it on a
    "case"), and ``AuditEvent(action=…, target_type=…)`` built directly. A computed action is allowed only as a
    writer's own parameter passed on (``_act`` and ``_record`` pass theirs to the database).
    """
    import ast

    from portal.config import ROOT

    positions = {"record": (2, 3), "_record": (2, 4), "_act": (1, None)}
    defaults = {"_record": "agent", "_act": "case"}
    actions, targets = set(), set()
    for package in ("agents", "complaints", "orientation", "accounts", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                keywords = {k.arg: k.value for k in node.keywords}
                if name == "AuditEvent":
                    action, target = keywords.get("action"), keywords.get("target_type")
                elif name in positions:
                    if name == "record" and not (isinstance(node.func, ast.Attribute)
                                                 and getattr(node.func.value, "id", "") == "audit"):
                        continue
                    action_at, target_at = positions[name]
                    action = node.args[action_at] if len(node.args) > action_at else keywords.get("action")
                    target = (node.args[target_at] if target_at is not None and len(node.args) > target_at
                              else keywords.get("target_type"))
                    if target is None and name in defaults:
                        target = ast.Constant(defaults[name])
                else:
                    continue
                for value, found in ((action, actions), (target, targets)):
                    if value is None:
                        continue
                    while isinstance(value, ast.Subscript):  # target_type[:40]
                        value = value.value
                    if isinstance(value, ast.Constant):
                        found.add(value.value)
                    else:
                        assert isinstance(value, ast.Name) and value.id in {"action", "target_type"}, \
                            f"{path.name}:{node.lineno}: an audit entry with a computed code"
    return actions, targets


def test_every_action_and_object_written_to_the_audit_log_has_a_french_label():
    actions, targets = _written_audit_codes()
    assert {"case.read", "case.close", "slot.publish", "slot.remove", "login.ok", "logout"} <= actions
    assert not actions - set(audit.ACTION_LABELS), f"no French label: {sorted(actions - set(audit.ACTION_LABELS))}"
    assert {"case", "hearing_slot", "unit", "agent", "proconnect"} <= targets
    assert not targets - set(audit.TARGET_LABELS), f"no French label: {sorted(targets - set(audit.TARGET_LABELS))}"


def test_the_journal_reads_in_french_with_unit_names_and_paris_time(client, db_session, app):
    from datetime import UTC, datetime

    from tests.agents.helpers import le_mans_station_id

    unit = le_mans_station_id(db_session)
    admin, secret = make_agent(db_session, email="admin-fr@interieur.gouv.fr", roles=("admin",), unit_id=unit)
    at = datetime(2026, 3, 14, 17, 5, tzinfo=UTC)  # 18 h 05 in Paris
    with app.app_context():
        from maps.services import station_names

        name = station_names(db_session, [unit])[unit]
        for target_type, target_id, action in (("case", "PEL-2026-JOURNA", "case.read"),
                                               ("hearing_slot", "4242", "slot.remove"),
                                               ("unit", unit, "slot.publish"), ("agent", "77", "logout"),
                                               ("proconnect", "78", "login.refused")):
            audit.record(db_session, admin, action, target_type, target_id, now=at)
        db_session.commit()
    sign_in_agent(client, "admin-fr@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    response = client.get("/agents/journal")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Date (heure de Paris)" in html and "14 mars 2026 à 18 h 05" in html and "(UTC)" not in html
    for shown in ("Dossier PEL-2026-JOURNA", "Créneau n° 4242", "Agent n° 77", "Agent n° 78 (par ProConnect)",
                  "Créneau retiré de l'agenda", "Créneaux publiés"):
        assert shown in html, shown
    cells = re.findall(r"<td>(.*?)</td>", html, re.S)
    assert name in cells and unit not in cells  # the unit by its name, as the object or the agent's unit
    for code in ("case", "hearing_slot", "unit", "agent", "proconnect", "slot.remove"):
        assert code not in cells and not any(cell.startswith(f"{code} ") for cell in cells), code


def test_the_agents_bar_names_the_unit_not_its_code(client, db_session, app):
    from tests.agents.helpers import le_mans_station_id

    unit = le_mans_station_id(db_session)
    _, secret = make_agent(db_session, email="barre@interieur.gouv.fr", roles=("officer",), unit_id=unit)
    with app.app_context():
        from maps.services import station_names

        name = station_names(db_session, [unit])[unit]
    sign_in_agent(client, "barre@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    for url in ("/agents/", "/agents/dossiers", "/agents/agenda"):
        bar = unescape(client.get(url).get_data(as_text=True)).split('id="agents-bar"', 1)[1].split("</div>", 4)
        bar = "".join(bar)
        assert name in bar and unit not in bar and "unité commissariat" not in bar, url
