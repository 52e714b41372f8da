"""Visio-plainte, the citizen's side: eligibility, unit, slot, booking and its management; the PV to validate.

Every page works without JavaScript (POST → 303 → GET). The questions are
about violence: those pages carry the quick exit and send no referrer; the
answers stay on the server, sealed in the citizen's draft, never in the URL.
Booking writes in a short transaction whose first statement is a write
(``portal.extensions.write_transaction``), and the seat is taken under the
database's UNIQUE(slot_id, seat): of parallel requests for the last seat,
one wins and the others read "Ce créneau vient d'être réservé" (409).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from accounts.services import current_identity
from complaints import offences, statements, visio
from complaints.cases import notify_citizen
from complaints.models import STATUSES, Case, HearingSlot
from complaints.views import account_key, bp, own_case, private_page
from maps import services as maps
from maps.models import Station
from maps.places import MalformedPlace, PlaceError
from portal.dates import paris_time
from portal.extensions import db, end_reads, write_transaction
from portal.params import page_number
from portal.security import limiter, mark_sensitive, no_store

log = logging.getLogger("complaints.visio")
NEAREST_UNITS = 8


def _now() -> datetime:
    return datetime.now(UTC)


def _needs_franceconnect():
    """None when a FranceConnect citizen is signed in; else the page that asks for it (or the sign-in)."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if not current_user.signed_in_with_franceconnect:
        mark_sensitive()
        return private_page("complaints/visio/franceconnect.html", status=403, next_url=request.path)
    return None


def _eligible_answers() -> dict | None:
    answers = visio.load_answers(db.session, current_user.id)
    return answers if answers.get("outcome") == visio.OUTCOME_ELIGIBLE else None


# --- Shared with the case page (templates/complaints/_statement.html) ----------------------------------------------


def hearing_of(case: Case, now: datetime | None = None) -> visio.HearingView | None:
    """The case's hearing as its pages show it (``visio.hearing_view``): when, where, the "Rejoindre" link."""
    if case is None or case.kind != visio.KIND:
        return None
    return visio.hearing_view(case, visio.booking_for_case(db.session, case), now or _now())


@bp.app_context_processor
def _statement_helpers() -> dict:
    return {"visio_hearing": hearing_of, "statement_responses": statements.RESPONSES,
            "statement_awaiting": statements.awaiting_citizen}


# --- The journey ----------------------------------------------------------------------------------------------------


@bp.get("/visio-plainte")
def start_visio():
    upcoming = None
    if current_user.is_authenticated:
        found = visio.upcoming_booking(db.session, current_user.id, _now())
        upcoming = found[1].reference if found else None
    if upcoming:  # the page names the citizen's case: kept nowhere
        return private_page("complaints/visio/start.html", upcoming=upcoming)
    return render_template("complaints/visio/start.html", upcoming=upcoming)


@bp.route("/visio-plainte/eligibilite", methods=["GET", "POST"])
@limiter.limit("30 per hour", key_func=account_key, methods=["POST"])
def answer_eligibility():
    mark_sensitive()
    refused = _needs_franceconnect()
    if refused is not None:
        return refused
    identity = current_identity()
    if request.method == "GET":
        answers = visio.load_answers(db.session, current_user.id)
        return private_page("complaints/visio/eligibility.html", answers=answers, errors={},
                            choices=visio.offence_choices(), roles=visio.ROLES, identity=identity,
                            max_length=visio.DESCRIPTION_MAX_LENGTH)
    result = visio.check_eligibility(request.form, identity, paris_time(_now()).date())
    if result.outcome == visio.OUTCOME_IN_PERSON:
        return redirect(url_for("complaints.show_in_person"), 303)
    if result.outcome == visio.OTHER_OFFENCE:
        return private_page("complaints/visio/other.html")
    if result.errors:
        return private_page("complaints/visio/eligibility.html", status=400, answers=result.answers,
                            errors=result.errors, choices=visio.offence_choices(), roles=visio.ROLES, identity=identity,
                            max_length=visio.DESCRIPTION_MAX_LENGTH)
    if result.outcome == visio.OUTCOME_MINOR:
        return private_page("complaints/visio/minor.html")
    account_id = current_user.id
    with write_transaction(db.session, abandon_pending=True):
        visio.save_answers(db.session, account_id, {**result.answers, "outcome": result.outcome}, _now())
    return redirect(url_for("complaints.choose_unit"), 303)


@bp.get("/visio-plainte/en-personne")
def show_in_person():
    """Sexual offences: heard in person, never by video; the nearest units and the numbers to call."""
    mark_sensitive()
    query = request.args.get("commune", "").strip()[:100]
    units, error = [], None
    if query:
        try:
            found = maps.find(db.session, query, NEAREST_UNITS)
            units = [(n.station, n.distance_km) for n in found.nearby] or [(s, None) for s in found.department_units]
        except MalformedPlace as exc:
            error = str(exc)
        except PlaceError as exc:
            error = exc.message
    return private_page("complaints/visio/in_person.html", query=query, units=units, error=error)


@bp.get("/visio-plainte/unite")
def choose_unit():
    mark_sensitive()
    refused = _needs_franceconnect()
    if refused is not None:
        return refused
    if _eligible_answers() is None:
        return redirect(url_for("complaints.answer_eligibility"))
    now = _now()
    open_units = visio.units_with_free_slots(db.session, now)
    query = request.args.get("commune", "").strip()[:100]
    rows, error = [], None
    if query:
        try:
            found = maps.find(db.session, query, 20)
            rows = [(n.station.id, n.station.name, n.station.commune, n.distance_km, open_units.get(n.station.id))
                    for n in found.nearby]
            rows += [(s.id, s.name, s.commune, None, open_units.get(s.id)) for s in found.department_units]
        except MalformedPlace as exc:
            error = str(exc)
        except PlaceError as exc:
            error = exc.message
        # Units with slots first, then by distance; the nearest few without slots stay listed (changeable).
        rows.sort(key=lambda r: (r[4] is None, r[3] if r[3] is not None else 1e9))
        rows = rows[:NEAREST_UNITS]
    else:
        names = maps.station_names(db.session, open_units)
        communes = dict(db.session.execute(
            db.select(Station.id, Station.commune).where(Station.id.in_(list(open_units)))).all()) if open_units else {}
        rows = sorted(((uid, names.get(uid, uid), communes.get(uid, ""), None, first)
                       for uid, first in open_units.items()), key=lambda r: r[4])
    status = 400 if error else 200
    return private_page("complaints/visio/unit.html", status=status, query=query, rows=rows, error=error)


def _slots_context(unit: Station, page: int, now: datetime, **extra) -> dict:
    slots, more = visio.free_slots(db.session, unit.id, now, page)
    return {"unit": unit, "days": visio.by_day(slots), "page": page, "more": more, **extra}


def _unit_or_404(unit_id: str | None) -> Station:
    unit = db.session.get(Station, unit_id) if unit_id and len(unit_id) <= 80 else None
    if unit is None:
        abort(404)
    return unit


@bp.get("/visio-plainte/creneaux")
def list_slots():
    mark_sensitive()
    refused = _needs_franceconnect()
    if refused is not None:
        return refused
    if _eligible_answers() is None:
        return redirect(url_for("complaints.answer_eligibility"))
    unit_id = request.args.get("unite")
    if not unit_id:
        return redirect(url_for("complaints.choose_unit"))
    unit = _unit_or_404(unit_id)
    return private_page("complaints/visio/slots.html", **_slots_context(
        unit, page_number(request.args.get("page")), _now(), error=None, action="book"))


def _refused_booking(unit_id: str | None, now: datetime, refusal: visio.VisioError):
    """A refused booking: the unit's free slots again with the reason; or the reason alone if the unit is gone."""
    unit = db.session.get(Station, unit_id) if unit_id else None
    if unit is None:
        return private_page("complaints/visio/refused.html", status=refusal.status, message=refusal.message)
    return private_page("complaints/visio/slots.html", status=refusal.status,
                        **_slots_context(unit, 1, now, error=refusal.message, action="book"))


@bp.post("/visio-plainte/reservation")
@limiter.limit("20 per hour", key_func=account_key)
def book_slot():
    mark_sensitive()
    refused = _needs_franceconnect()
    if refused is not None:
        return refused
    slot_id = request.form.get("slot", "")
    slot_id = int(slot_id) if slot_id.isdecimal() and len(slot_id) < 10 else 0
    now = _now()
    account_id, identity = current_user.id, current_identity()
    try:
        prepared = visio.prepare_booking(db.session, account_id, identity, slot_id, now)
        with write_transaction(db.session, abandon_pending=True):
            case = visio.book(db.session, prepared, now)
            reference = case.reference
    except visio.NoAnswers:
        return redirect(url_for("complaints.answer_eligibility"), 303)
    except visio.AlreadyBooked as refusal:
        return private_page("complaints/visio/refused.html", status=refusal.status, message=refusal.message,
                            back_url=url_for("accounts.space"), back_label="Aller à Mon espace")
    except visio.VisioError as refusal:
        slot = db.session.get(HearingSlot, slot_id) if slot_id else None
        return _refused_booking(slot.unit_id if slot is not None else None, now, refusal)
    log.info("visio booked: reference=%s account=%s", reference, account_id)
    hearing = visio.load_hearing(db.session, reference)
    subject, body = visio.confirmation_mail(reference, hearing, visio.booking_page_url(reference))
    mailed = notify_citizen(case, subject, body)
    return redirect(url_for("complaints.show_booking", reference=reference,
                            courriel="envoye" if mailed else "non-envoye"), 303)


def _own_visio_case(reference: str) -> Case:
    if not current_user.is_authenticated:
        abort(404)
    case = own_case(reference)
    if case.kind != visio.KIND:
        abort(404)
    return case


@bp.get("/visio-plainte/rendez-vous/<reference>")
@login_required
def show_booking(reference: str):
    case = _own_visio_case(reference)
    return private_page("complaints/visio/booking.html", case=case, hearing=hearing_of(case),
                        status_label=STATUSES.get(case.status, case.status), offence_label=offences.label(case.offence),
                        mailed=request.args.get("courriel"), done=request.args.get("fait"))


@bp.get("/visio-plainte/rendez-vous/<reference>/agenda.ics")
@login_required
def download_calendar(reference: str):
    case = _own_visio_case(reference)
    hearing = (case.details or {}).get("hearing")
    if not hearing:
        abort(404)
    identity = case.identity or {}
    name = " ".join([*identity.get("given_names", []), identity.get("family_name", "")]).strip()
    organizer = current_app.config["MAIL_FROM"].rsplit("<", 1)[-1].rstrip(">").strip()
    body = visio.calendar(case.reference, hearing, identity.get("email", ""), name, organizer,
                          visio.booking_page_url(case.reference), _now())
    response = make_response(body)
    method = "CANCEL" if hearing.get("cancelled") else "REQUEST"
    response.headers["Content-Type"] = f"text/calendar; charset=utf-8; method={method}"
    response.headers["Content-Disposition"] = f'attachment; filename="visio-plainte-{case.reference}.ics"'
    return no_store(response)


def _change_refused(case: Case, message: str, verb: str):
    """Moving or cancelling is no longer possible: why, in French, with a 409."""
    return private_page("complaints/visio/refused.html", status=409, message=message,
                        heading=f"Rendez-vous impossible à {verb}",
                        back_url=url_for("complaints.show_booking", reference=case.reference),
                        back_label="Revenir au rendez-vous")


CHANGES = {"annuler": "annulé", "déplacer": "déplacé"}


def _changeable_booking(reference: str, now: datetime, verb: str):
    """(case, booking, None) while the citizen may still change the hearing ("annuler" or "déplacer" it);
    else (case, booking, the response to give): back to the booking page if it is gone, or why not (409)."""
    case = _own_visio_case(reference)
    booking = visio.booking_for_case(db.session, case)
    if booking is None:
        return case, None, redirect(url_for("complaints.show_booking", reference=case.reference), 303)
    refusal = visio.change_refusal(case, booking.slot.starts_at, bool(case.statements), now, CHANGES[verb])
    if refusal is not None:
        return case, booking, _change_refused(case, refusal, verb)
    return case, booking, None


@bp.route("/visio-plainte/rendez-vous/<reference>/annulation", methods=["GET", "POST"])
@limiter.limit("10 per hour", key_func=account_key, methods=["POST"])
@login_required
def cancel_booking(reference: str):
    now = _now()
    case, booking, answer = _changeable_booking(reference, now, "annuler")
    if answer is not None:
        return answer
    if request.method == "GET":
        return private_page("complaints/visio/cancel.html", case=case, hearing=hearing_of(case, now))
    case_id, booking_id = case.id, booking.id
    try:
        with write_transaction(db.session, abandon_pending=True):
            visio.cancel(db.session, case_id, booking_id, now)
    except visio.VisioError as refused:  # the unit acted, or the time passed, since the page was read
        return _change_refused(_own_visio_case(reference), refused.message, "annuler")
    log.info("visio cancelled: reference=%s", reference)
    hearing = visio.load_hearing(db.session, reference)
    subject, body = visio.confirmation_mail(reference, hearing, visio.booking_page_url(reference), "cancelled")
    notify_citizen(case, subject, body)
    return redirect(url_for("complaints.show_booking", reference=reference, fait="annule"), 303)


def _moving_page(case: Case, unit: Station, now: datetime, page: int = 1, status: int = 200,
                 error: str | None = None):
    """The unit's free slots to move the hearing to, with the current one (and why the last choice failed)."""
    return private_page("complaints/visio/slots.html", status=status, **_slots_context(
        unit, page, now, error=error, action="reschedule", case=case, hearing=hearing_of(case, now)))


@bp.route("/visio-plainte/rendez-vous/<reference>/deplacement", methods=["GET", "POST"])
@limiter.limit("20 per hour", key_func=account_key, methods=["POST"])
@login_required
def reschedule_booking(reference: str):
    now = _now()
    case, booking, answer = _changeable_booking(reference, now, "déplacer")
    if answer is not None:
        return answer
    unit = _unit_or_404(case.unit_id)
    if request.method == "GET":
        return _moving_page(case, unit, now, page_number(request.args.get("page")))
    slot_id = request.form.get("slot", "")
    slot = visio.bookable_slot(db.session, int(slot_id), now) if slot_id.isdecimal() and len(slot_id) < 10 else None
    if slot is None or slot.unit_id != case.unit_id or slot.id == booking.slot_id:
        return _moving_page(case, unit, now, status=409,
                            error="Ce créneau n'est plus proposé. Choisissez-en un autre.")
    hearing = visio.hearing_details(slot, unit.name, booking.sequence + 1)
    case_id, booking_id, capacity = case.id, booking.id, slot.capacity
    try:
        with write_transaction(db.session, abandon_pending=True):
            visio.reschedule(db.session, case_id, booking_id, slot.id, capacity, hearing, now)
    except visio.SlotTaken as refused:
        return _moving_page(_own_visio_case(reference), unit, now, status=refused.status, error=refused.message)
    except visio.VisioError as refused:  # the unit acted, or the time passed, since the page was read
        if refused.status == 404:
            abort(404)
        return _change_refused(_own_visio_case(reference), refused.message, "déplacer")
    log.info("visio moved: reference=%s", reference)
    subject, body = visio.confirmation_mail(reference, hearing, visio.booking_page_url(reference), "moved")
    notify_citizen(case, subject, body)
    return redirect(url_for("complaints.show_booking", reference=reference, fait="deplace"), 303)


# --- The PV, citizen side -------------------------------------------------------------------------------------------


@bp.get("/mon-espace/dossiers/<reference>/pv")
@login_required
def show_statement(reference: str):
    case = own_case(reference)
    return private_page("complaints/visio/statement.html", case=case, statement_errors={}, statement_values={},
                        done=request.args.get("fait"))


@bp.post("/mon-espace/dossiers/<reference>/pv")
@limiter.limit("30 per hour", key_func=account_key)
@login_required
def answer_statement(reference: str):
    case = own_case(reference)
    version = request.form.get("version", "")
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "")
    case.statements  # noqa: B018  (loaded now: after the reads end, the first statement is the answer's write)
    end_reads(db.session)
    try:
        statements.respond(db.session, case, int(version) if version.isdecimal() and len(version) < 6 else 0,
                           decision, comment, _now())
    except statements.StatementRefused as refusal:
        db.session.rollback()
        case = own_case(reference)
        return private_page("complaints/visio/statement.html", status=refusal.status, case=case,
                            statement_errors={refusal.field or "decision": refusal.message},
                            statement_values={"decision": decision, "comment": comment[:statements.COMMENT_MAX_LENGTH]},
                            done=None)
    db.session.commit()
    log.info("statement answered: reference=%s decision=%s", reference, decision)
    return redirect(url_for("complaints.show_statement", reference=reference,
                            fait="valide" if decision == "validee" else "corrections"), 303)
