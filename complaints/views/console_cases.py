"""The officers' cases under /agents/dossiers: the unit's queue, a case, and the actions on it.

Every route needs an officer (``require_role("officer")``) and reaches a case
through ``complaints.console.case_for_agent`` only: another unit's case is a
404, exactly like an unknown reference. Each read of a case page and each
action goes to the audit log, by reference, never with the case's text.

On SQLite a transaction that read, then writes after another connection
wrote, fails at once instead of waiting: the views let their reads go
(``portal.extensions.end_reads``) before an action, so that its first statement is the write,
which waits for the lock (busy timeout). PostgreSQL does not care.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import abort, current_app, redirect, request, url_for

from agents import audit
from agents.access import require_role
from agents.services import current_agent
from complaints import console as services
from complaints.cases import identity_of, notify_citizen
from complaints.models import KINDS, STATUSES
from complaints.views import console
from maps.services import station_names
from portal.extensions import db, end_reads
from portal.htmx import render
from portal.security import no_store

log = logging.getLogger(__name__)

# ?fait=… after an action: which notice the case page shows (codes only, nothing personal in the URL).
NOTICES = {
    "prise": "Vous avez pris ce dossier en charge.",
    "complement": "Votre demande de complément a été envoyée au plaignant. Il a été prévenu par courriel "
                  "qu'un message l'attend dans Mon espace.",
    "complement-sans-courriel": "Votre demande de complément est enregistrée dans Mon espace du plaignant, mais "
                                "le courriel qui l'en prévient n'a pas pu partir.",
    "cloture": "Le dossier est clôturé. Le plaignant en a été prévenu par courriel.",
    "cloture-sans-courriel": "Le dossier est clôturé, mais le courriel qui en prévient le plaignant n'a pas pu "
                             "partir.",
    "cloture-rdv": "Le dossier est clôturé et son rendez-vous de visio-plainte annulé : le créneau est de nouveau "
                   "libre. Le plaignant en a été prévenu par courriel.",
    "cloture-rdv-sans-courriel": "Le dossier est clôturé et son rendez-vous de visio-plainte annulé (le créneau est "
                                 "de nouveau libre), mais le courriel qui en prévient le plaignant n'a pas pu partir.",
}


def _unit_name(unit_id: str | None) -> str:
    return station_names(db.session, [unit_id]).get(unit_id, unit_id) if unit_id else ""


def _endpoint_url(endpoint: str, **values) -> str | None:
    """The URL of another part's route when it exists (the console's parts are built side by side)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def _load(reference: str):
    agent = current_agent()
    case = services.case_for_agent(db.session, agent, reference)
    if case is None:
        abort(404)
    return agent, case


@console.get("/dossiers")
@require_role("officer")
def list_cases():
    agent = current_agent()
    filters = services.parse_filters(request.args)
    queue = services.unit_queue(db.session, agent.unit_id, filters)
    response = render(
        "console/cases.html", "console/_cases_results.html",
        agent=agent, filters=filters, queue=queue, choices=services.filter_choices(),
        unit_name=_unit_name(agent.unit_id), kinds=KINDS, statuses=STATUSES, offence_label=services.offences.label,
    )
    return no_store(response)


def _render_case(agent, case, status: int = 200, errors: dict | None = None, values: dict | None = None,
                 notice: str | None = None, refusal: str | None = None):
    """The case page; every display of it is a read written to the audit log."""
    # Loaded before the reads are let go: the audit entry must be the next transaction's first statement.
    reference, unit_id = case.reference, case.unit_id
    _ = (agent.id, agent.email, agent.unit_id)
    end_reads(db.session)
    audit.record(db.session, agent, "case.read", "case", reference, unit_id)
    db.session.commit()
    booking = services.booking_of(db.session, case)
    join_url = services.join_link(case, booking, datetime.now(UTC)) if booking is not None else None
    cancelled = services.cancelled_hearing(case)
    response = render(
        "console/case.html", "console/_case_actions.html", status=status,
        agent=agent, case=case, identity=identity_of(case), details=services.case_details(case),
        unit_name=_unit_name(case.unit_id), officers=services.officer_names(db.session, case),
        booking=booking, join_url=join_url,
        cancelled_start=datetime.fromisoformat(cancelled["starts_at"]) if cancelled else None,
        statement_url=_endpoint_url("console.write_statement", reference=case.reference),
        errors=errors or {}, values=values or {}, notice=notice, refusal=refusal,
        kinds=KINDS, statuses=STATUSES, offence_label=services.offences.label, reasons=services.CLOSING_REASONS,
        message_max=services.MESSAGE_MAX_LENGTH, note_max=services.NOTE_MAX_LENGTH,
        can_take=case.status in services.TAKE_FROM and (case.assigned_agent_id != agent.id
                                                         or case.status == "deposee"),
        can_request=case.status in services.REQUEST_FROM and case.assigned_agent_id == agent.id,
        can_close=case.status in services.CLOSE_FROM and case.assigned_agent_id == agent.id,
    )
    return no_store(response)


@console.get("/dossiers/<reference>")
@require_role("officer")
def show_case(reference: str):
    agent, case = _load(reference)
    return _render_case(agent, case, notice=NOTICES.get(request.args.get("fait", "")))


def _act(reference: str, action: str, run, form_fields: tuple[str, ...] = ()):
    """Run one action; returns (the page again with the French reason, or None on success; the case)."""
    agent, case = _load(reference)
    seen = request.form.get("statut") or None
    values = {name: request.form.get(name, "") for name in form_fields}
    end_reads(db.session)
    try:
        run(agent, case, seen, values)
    except services.ActionRefused as refused:
        db.session.rollback()
        errors = {refused.field: refused.message} if refused.field else {}
        return _render_case(agent, case, status=refused.status, errors=errors, values=values,
                            refusal=None if refused.field else refused.message), case
    audit.record(db.session, agent, action, "case", case.reference, case.unit_id)
    db.session.commit()
    log.info("console %s on case %s by agent %s", action, reference, agent.id)
    return None, case


def _notify(case, action: str) -> bool:
    """Tell the citizen by e-mail that something waits in Mon espace; False if it could not leave."""
    space = current_app.config["PUBLIC_URL"] + (_endpoint_url("accounts.space") or "/")
    cancelled = services.cancelled_hearing(case) if action == "close" else None
    return notify_citizen(case, *services.citizen_notice(case.reference, action, space, cancelled))


@console.post("/dossiers/<reference>/prendre")
@require_role("officer")
def take_case(reference: str):
    refused, _ = _act(reference, "case.take",
                      lambda agent, case, seen, _: services.take_case(db.session, agent, case, seen))
    if refused is not None:
        return refused
    return redirect(url_for("console.show_case", reference=reference, fait="prise"), 303)


@console.post("/dossiers/<reference>/complement")
@require_role("officer")
def request_information(reference: str):
    def run(agent, case, seen, values):
        services.request_information(db.session, agent, case, values["message"], seen)

    refused, case = _act(reference, "case.request_info", run, ("message",))
    if refused is not None:
        return refused
    sent = _notify(case, "request_info")
    return redirect(url_for("console.show_case", reference=reference,
                            fait="complement" if sent else "complement-sans-courriel"), 303)


@console.post("/dossiers/<reference>/cloturer")
@require_role("officer")
def close_case(reference: str):
    def run(agent, case, seen, values):
        services.close_case(db.session, agent, case, values["reason"], values["note"], seen)

    refused, case = _act(reference, "case.close", run, ("reason", "note"))
    if refused is not None:
        return refused
    notice = "cloture-rdv" if services.cancelled_hearing(case) else "cloture"
    sent = _notify(case, "close")
    return redirect(url_for("console.show_case", reference=reference,
                            fait=notice if sent else f"{notice}-sans-courriel"), 303)
