"""The officers' side of visio-plainte: the unit's agenda (publish, remove slots) and writing the PV.

Officers act on their own unit only: the agenda is always ``agent.unit_id``'s,
a slot of another unit is as unknown as a wrong id, and a case is reached
through ``complaints.cases.unit_case`` (another unit's reference: 404).
Every action goes to the audit log by id, never with the PV's text.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import abort, current_app, redirect, request, url_for

from agents import audit
from agents.access import require_role
from agents.services import current_agent
from complaints import offences, statements, visio
from complaints.cases import notify_citizen, unit_case
from complaints.models import KINDS, STATUSES
from complaints.views import console
from complaints.views.visio import hearing_of
from maps.models import Station
from portal.extensions import db, end_reads
from portal.htmx import render
from portal.security import no_store

log = logging.getLogger("complaints.console_agenda")

NOTICES = {
    "publie": "Les créneaux sont publiés : les plaignants peuvent les réserver.",
    "retire": "Le créneau est retiré de l'agenda.",
    "envoye": "Le procès-verbal est envoyé. Le plaignant a été prévenu par courriel qu'il l'attend dans Mon espace.",
    "envoye-sans-courriel": "Le procès-verbal est envoyé dans Mon espace du plaignant, mais le courriel qui l'en "
                            "prévient n'a pas pu partir.",
}
LENGTH_CHOICES = visio.SLOT_LENGTHS


def _now() -> datetime:
    return datetime.now(UTC)


def _agenda(agent, status: int = 200, errors: dict | None = None, values: dict | None = None,
            refusal: str | None = None):
    now = _now()
    unit = db.session.get(Station, agent.unit_id) if agent.unit_id else None
    slots = visio.unit_agenda(db.session, agent.unit_id, now) if unit else []
    references = visio.agenda_references(db.session, agent.unit_id, [s.id for s in slots if s.booked]) if unit else {}
    response = render("console/agenda.html", "console/_agenda.html", status=status, agent=agent, unit=unit,
                      days=visio.by_day(slots), references=references, errors=errors or {}, refusal=refusal,
                      values=values or {"length": "30", "capacity": "1"}, lengths=LENGTH_CHOICES,
                      max_capacity=visio.MAX_CAPACITY, notice=NOTICES.get(request.args.get("fait", "")))
    return no_store(response)


@console.get("/agenda")
@require_role("officer")
def agenda():
    return _agenda(current_agent())


@console.post("/agenda")
@require_role("officer")
def publish_slots():
    agent = current_agent()
    if not agent.unit_id:
        abort(404)
    now = _now()
    series, errors, values = visio.parse_series(request.form, now)
    if errors:
        return _agenda(agent, 400, errors, values)
    unit_id, agent_id = agent.unit_id, agent.id
    end_reads(db.session)
    try:
        slots = visio.publish_slots(db.session, unit_id, agent_id, series, now)
    except visio.VisioError as refusal:
        db.session.rollback()
        return _agenda(current_agent(), refusal.status, {refusal.field or "start": refusal.message}, values)
    audit.record(db.session, agent, "slot.publish", "unit", unit_id)
    db.session.commit()
    log.info("slots published: unit=%s count=%s", unit_id, len(slots))
    return redirect(url_for("console.agenda", fait="publie"), 303)


@console.post("/agenda/creneaux/<int(max=2147483647):slot_id>/retrait")  # bounded: a longer number is a 404
@require_role("officer")
def remove_slot(slot_id: int):
    agent = current_agent()
    if not agent.unit_id:
        abort(404)
    unit_id = agent.unit_id
    try:
        visio.remove_slot(db.session, unit_id, slot_id)
    except visio.VisioError as refusal:
        db.session.rollback()
        if refusal.status == 404:
            abort(404)
        return _agenda(current_agent(), refusal.status, refusal=refusal.message)
    audit.record(db.session, agent, "slot.remove", "hearing_slot", str(slot_id))
    db.session.commit()
    return redirect(url_for("console.agenda", fait="retire"), 303)


# --- The PV -----------------------------------------------------------------------------------------------------------


def _statement_page(agent, case, status: int = 200, errors: dict | None = None, text: str | None = None,
                    refusal: str | None = None):
    last = statements.latest(case)
    response = render(
        "console/statement.html", "console/_statement.html", status=status, agent=agent, case=case,
        hearing=hearing_of(case), errors=errors or {}, kinds=KINDS, statuses=STATUSES,
        offence_label=offences.label(case.offence), can_send=statements.can_send(case, agent.id),
        not_taken=case.status != "cloturee" and case.assigned_agent_id != agent.id,
        send_refusal=statements.send_refusal(case, agent.id),
        statement_validated=statements.is_validated(case),
        text=text if text is not None else (last.text if last else ""), max_length=statements.TEXT_MAX_LENGTH,
        responses=statements.RESPONSES, notice=NOTICES.get(request.args.get("fait", "")),
        refusal=refusal,
        case_url=url_for("console.show_case", reference=case.reference))
    return no_store(response)


def _unit_case_or_404(agent, reference: str):
    case = unit_case(db.session, agent.unit_id, reference[:20])
    if case is None:
        abort(404)
    return case


@console.route("/dossiers/<reference>/pv", methods=["GET", "POST"])
@require_role("officer")
def write_statement(reference: str):
    agent = current_agent()
    case = _unit_case_or_404(agent, reference)
    if request.method == "GET":
        case.statements  # noqa: B018  (loaded before the reads end: the audit entry is the next write)
        end_reads(db.session)
        audit.record(db.session, agent, "case.read", "case", case.reference)
        db.session.commit()
        return _statement_page(agent, case)
    text = request.form.get("text", "")
    case.statements  # noqa: B018
    end_reads(db.session)
    try:
        statements.send_statement(db.session, case, agent.id, text, _now())
    except statements.StatementRefused as refusal:
        db.session.rollback()
        case = _unit_case_or_404(current_agent(), reference)
        if refusal.field:  # the text itself: shown on the field
            return _statement_page(current_agent(), case, refusal.status, {refusal.field: refusal.message},
                                   text[:statements.TEXT_MAX_LENGTH])
        return _statement_page(current_agent(), case, refusal.status, text=text[:statements.TEXT_MAX_LENGTH],
                               refusal=refusal.message)
    audit.record(db.session, agent, "statement.send", "case", reference)
    db.session.commit()
    log.info("statement sent: reference=%s", reference)
    page = current_app.config["PUBLIC_URL"] + url_for("complaints.show_statement", reference=reference)
    subject, body = statements.notice_mail(case, page)
    mailed = notify_citizen(case, subject, body)
    return redirect(url_for("console.write_statement", reference=reference,
                            fait="envoye" if mailed else "envoye-sans-courriel"), 303)
