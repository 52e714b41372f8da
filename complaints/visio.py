"""Visio-plainte: who may use it, the units' agendas, booking a hearing, its calendar file and reminders.

Plain functions over a database session; views call them, tests call them
with an explicit ``now``. Times are stored in UTC and shown in Europe/Paris.

A slot is never booked twice: a booking is a row (slot, seat) under the
database's UNIQUE(slot_id, seat), so that of two requests racing for the last
seat, on any number of server processes, the second INSERT fails and is told
the slot was just taken. Nothing here reads "is there room?" and then writes
on the strength of it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import NamedTuple
from urllib.parse import quote

import click
from flask import current_app, has_request_context, url_for
from flask.cli import with_appcontext
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.identity import Identity
from complaints import offences
from complaints.cases import Refused, new_reference, record_event
from complaints.forms import parse_time
from complaints.models import Booking, Case, Draft, HearingSlot, Statement
from maps.services import station_names
from portal.dates import PARIS, format_datetime, paris_time
from portal.extensions import utc

KIND = offences.VISIO
ADULT_AGE = 18
DESCRIPTION_MAX_LENGTH = 1000
# The "Rejoindre" link shows from this long before the slot until its end.
JOIN_EARLY = timedelta(minutes=15)
# A slot can be booked until this long before it starts (the officer prepares the hearing).
BOOKING_NOTICE = timedelta(hours=1)
# The reminder leaves once the hearing is less than this far away (the day before, or at booking if sooner).
REMINDER_AHEAD = timedelta(hours=24)
# The citizen may move or cancel a hearing only while the unit has not started working on it in earnest:
# before the booking notice, with no PV written, and in these statuses.
CHANGEABLE_STATUSES = ("deposee", "en_cours")
SLOTS_PER_PAGE = 12
# What a unit may publish at once.
SLOT_LENGTHS = (15, 20, 30, 45, 60, 90, 120)
MAX_CAPACITY = 10
MAX_DAYS_AHEAD = 120
MAX_SLOTS_PER_SERIES = 60

ROLES = {
    "victime": "Je suis la victime, et je suis majeur(e)",
    "representant": "Je suis le représentant légal de la victime (parent d'un mineur, tuteur…)",
}
# Answers that never lead to a booking.
SEXUAL_OFFENCE = "infraction_sexuelle"
OTHER_OFFENCE = "autre"
OUTCOME_ELIGIBLE = "eligible"
OUTCOME_IN_PERSON = "en_personne"
OUTCOME_MINOR = "mineur"


class VisioError(Refused):
    """A hearing that cannot be booked, moved, cancelled or published now."""


class SlotTaken(VisioError):
    """The slot filled up between the list and the click (or the UNIQUE constraint refused the seat)."""

    def __init__(self) -> None:
        super().__init__("Ce créneau vient d'être réservé par une autre personne. Choisissez-en un autre.",
                         field="slot", status=409)


class AlreadyBooked(VisioError):
    """The citizen's answers were already used by a booking (another tab, a double click on another slot)."""

    def __init__(self) -> None:
        super().__init__("Votre demande de rendez-vous vient déjà d'être enregistrée (depuis une autre fenêtre ou "
                         "par un double clic) : retrouvez votre rendez-vous dans Mon espace.", status=409)


class NoAnswers(VisioError):
    """The eligibility questions were not answered (or not by this citizen): back to them."""

    def __init__(self) -> None:
        super().__init__("Répondez d'abord aux questions sur votre situation.", status=400)


# --- Eligibility --------------------------------------------------------------------------------------------------


def offence_choices() -> list[tuple[str, str, str]]:
    """(code, label, hint) of the eligibility question, sexual offences and "other" included."""
    # Visio-plainte hears offences whose author is often known: its own hint where the shared one says otherwise.
    choices = [(o.code, o.label, o.visio_hint or o.hint) for o in offences.offences_for(KIND)]
    choices.append((SEXUAL_OFFENCE, "Violences sexuelles (agression sexuelle, viol, atteinte sexuelle sur mineur)",
                    "Ces plaintes sont recueillies en personne, par des enquêteurs formés à cet accueil."))
    choices.append((OTHER_OFFENCE, "Autre chose", "Nous vous indiquons la démarche adaptée."))
    return choices


def age_on(birthdate: str, today: date) -> int | None:
    """Age from FranceConnect's birthdate ("1962-08-24"; "00" for an unknown month or day); None if unreadable."""
    try:
        year, month, day = (int(p) for p in birthdate.split("-"))
    except ValueError:
        return None
    month, day = month or 1, day or 1
    return today.year - year - ((today.month, today.day) < (month, day))


@dataclass
class EligibilityAnswer:
    answers: dict
    errors: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None


def check_eligibility(form: Mapping[str, str], identity: Identity | None, today: date) -> EligibilityAnswer:
    """Read the eligibility form: errors per field, or the outcome (eligible, in person, minor, other)."""
    role = (form.get("role") or "").strip()
    offence = (form.get("offence") or "").strip()
    description = (form.get("description") or "").replace("\r\n", "\n").strip()
    answers = {"role": role, "offence": offence, "description": description[:DESCRIPTION_MAX_LENGTH],
               "device": form.get("device") == "oui", "private_place": form.get("private_place") == "oui"}
    result = EligibilityAnswer(answers)
    codes = {code for code, _, _ in offence_choices()}
    if offence not in codes:
        result.errors["offence"] = "Indiquez ce qui vous est arrivé."
    # Sexual offences: an in-person hearing whatever the other answers; nothing else is asked.
    if offence == SEXUAL_OFFENCE:
        result.outcome = OUTCOME_IN_PERSON
        result.errors.clear()
        return result
    if offence == OTHER_OFFENCE:
        result.outcome = OTHER_OFFENCE
        result.errors.clear()
        return result
    if role not in ROLES:
        result.errors["role"] = "Indiquez si vous êtes la victime ou son représentant légal."
    if not description:
        result.errors["description"] = "Décrivez en quelques mots ce qui s'est passé."
    elif len(description) > DESCRIPTION_MAX_LENGTH:
        result.errors["description"] = (f"Votre description ne doit pas dépasser {DESCRIPTION_MAX_LENGTH} caractères "
                                        f"(elle en compte {len(description)}). Vous pourrez tout expliquer pendant "
                                        "l'entretien.")
    if not answers["device"]:
        result.errors["device"] = ("Confirmez que vous disposez d'un appareil avec caméra et micro. Sans cela, "
                                   "vous pouvez porter plainte au commissariat ou à la gendarmerie.")
    if not answers["private_place"]:
        result.errors["private_place"] = ("Confirmez que vous serez seul(e) dans un endroit calme et privé. Sans "
                                          "cela, vous pouvez porter plainte au commissariat ou à la gendarmerie.")
    if result.errors:
        return result
    age = age_on(identity.birthdate, today) if identity else None
    if age is not None and age < ADULT_AGE:
        result.outcome = OUTCOME_MINOR
        return result
    result.outcome = OUTCOME_ELIGIBLE
    return result


# --- The citizen's answers, kept server-side and sealed (Draft) -----------------------------------------------------


def load_answers(db_session: Session, account_id: int) -> dict:
    draft = db_session.scalar(select(Draft).where(Draft.account_id == account_id, Draft.kind == KIND))
    return dict(draft.data or {}) if draft else {}


def save_answers(db_session: Session, account_id: int, data: dict, now: datetime) -> None:
    """Keep the answers in the citizen's visio-plainte draft (sealed at rest), replacing what was there.

    DELETE then INSERT: the first statement is a write (see ``book``).
    """
    db_session.execute(delete(Draft).where(Draft.account_id == account_id, Draft.kind == KIND))
    try:
        with db_session.begin_nested():
            db_session.add(Draft(account_id=account_id, kind=KIND, data=dict(data), created_at=now, updated_at=now))
            db_session.flush()
    except IntegrityError:  # the same citizen's other tab wrote it at the same moment: theirs stays
        pass


# --- Units' agendas -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotSeries:
    day: date
    start: time
    end: time
    length: int
    capacity: int


def parse_series(form: Mapping[str, str], now: datetime) -> tuple[SlotSeries | None, dict[str, str], dict]:
    """The officer's "publish slots" form: (series, errors per field, the values to show again)."""
    values = {name: (form.get(name) or "").strip()[:20] for name in ("day", "start", "end", "length", "capacity")}
    errors: dict[str, str] = {}
    today = now.astimezone(PARIS).date()
    day = None
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors["day"] = "Saisissez une date valide, par exemple 2026-12-03."
    if day is not None:
        if day < today:
            errors["day"] = "Cette date est passée : choisissez aujourd'hui ou une date à venir."
        elif day > today + timedelta(days=MAX_DAYS_AHEAD):
            errors["day"] = f"Publiez des créneaux au plus {MAX_DAYS_AHEAD} jours à l'avance."
    start, end = parse_time(values["start"]), parse_time(values["end"])
    if start is None:
        errors["start"] = "Saisissez une heure de début valide, par exemple 09:00."
    if end is None:
        errors["end"] = "Saisissez une heure de fin valide, par exemple 12:00."
    length = int(values["length"]) if values["length"].isdecimal() else None
    if length not in SLOT_LENGTHS:
        errors["length"] = "Choisissez la durée d'un créneau dans la liste."
    capacity = int(values["capacity"]) if values["capacity"].isdecimal() else None
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = f"Le nombre d'entretiens simultanés doit être compris entre 1 et {MAX_CAPACITY}."
    if start and end and "end" not in errors:
        minutes = (datetime.combine(today, end) - datetime.combine(today, start)).total_seconds() / 60
        if minutes <= 0:
            errors["end"] = "L'heure de fin doit être après l'heure de début."
        elif length in SLOT_LENGTHS and minutes % length:
            errors["length"] = (f"La plage de {int(minutes)} minutes ne se découpe pas en créneaux de {length} "
                                "minutes : ajustez l'heure de fin ou la durée.")
        elif length in SLOT_LENGTHS and minutes // length > MAX_SLOTS_PER_SERIES:
            errors["length"] = f"Publiez au plus {MAX_SLOTS_PER_SERIES} créneaux à la fois."
    if not errors and day == today and datetime.combine(day, start, PARIS) <= now:
        errors["start"] = "Cette heure est passée : commencez plus tard."
    if errors:
        return None, errors, values
    return SlotSeries(day, start, end, length, capacity), {}, values


def series_times(series: SlotSeries) -> list[tuple[datetime, datetime]]:
    """(start, end) of each slot, in UTC; built on the wall clock of Paris, so a day of clock change is right."""
    times = []
    moment = datetime.combine(series.day, series.start)
    last = datetime.combine(series.day, series.end)
    while moment + timedelta(minutes=series.length) <= last:
        ends = moment + timedelta(minutes=series.length)
        times.append((moment.replace(tzinfo=PARIS).astimezone(UTC), ends.replace(tzinfo=PARIS).astimezone(UTC)))
        moment = ends
    return times


def publish_slots(db_session: Session, unit_id: str, agent_id: int | None, series: SlotSeries,
                  now: datetime) -> list[HearingSlot]:
    """Add the series' slots to the unit's agenda; refused if any overlaps a slot already published."""
    times = series_times(series)
    first, last = times[0][0], times[-1][1]
    overlapping = db_session.scalar(
        select(func.count(HearingSlot.id)).where(HearingSlot.unit_id == unit_id, HearingSlot.starts_at < last,
                                                 HearingSlot.ends_at > first))
    if overlapping:
        raise VisioError("Ces créneaux chevauchent des créneaux déjà publiés ce jour-là : retirez-les d'abord ou "
                         "choisissez une autre plage horaire.", field="start")
    slots = [HearingSlot(unit_id=unit_id, starts_at=start, ends_at=end, capacity=series.capacity,
                         published_by=agent_id, created_at=now) for start, end in times]
    db_session.add_all(slots)
    try:
        with db_session.begin_nested():
            db_session.flush()
    except IntegrityError as exc:  # another officer published the same hour at the same moment
        raise VisioError("Un créneau vient d'être publié à la même heure : rechargez l'agenda.",
                         field="start", status=409) from exc
    return slots


@dataclass(frozen=True)
class SlotView:
    id: int
    starts_at: datetime  # UTC
    ends_at: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return self.capacity - self.booked

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(PARIS)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(PARIS)


def _booked_counts():
    return (select(Booking.slot_id, func.count(Booking.id).label("booked"))
            .group_by(Booking.slot_id).subquery())


def _slot_views(rows) -> list[SlotView]:
    return [SlotView(slot.id, utc(slot.starts_at), utc(slot.ends_at), slot.capacity, booked or 0)
            for slot, booked in rows]


def unit_agenda(db_session: Session, unit_id: str, now: datetime, days: int = 60) -> list[SlotView]:
    """The unit's slots from today on, booked or not (the officer's agenda)."""
    counts = _booked_counts()
    day_start = datetime.combine(now.astimezone(PARIS).date(), time(0), PARIS).astimezone(UTC)
    rows = db_session.execute(
        select(HearingSlot, counts.c.booked).outerjoin(counts, counts.c.slot_id == HearingSlot.id)
        .where(HearingSlot.unit_id == unit_id, HearingSlot.starts_at >= day_start,
               HearingSlot.starts_at < day_start + timedelta(days=days))
        .order_by(HearingSlot.starts_at)).all()
    return _slot_views(rows)


def agenda_references(db_session: Session, unit_id: str, slot_ids: list[int]) -> dict[int, list[str]]:
    """slot id → the references of the cases booked in it (the unit's own cases only), for the agenda's links."""
    if not slot_ids:
        return {}
    rows = db_session.execute(
        select(Booking.slot_id, Case.reference).join(Case, Case.id == Booking.case_id)
        .where(Booking.slot_id.in_(slot_ids), Case.unit_id == unit_id).order_by(Booking.slot_id, Booking.seat)).all()
    found: dict[int, list[str]] = {}
    for slot_id, reference in rows:
        found.setdefault(slot_id, []).append(reference)
    return found


def _free_query(now: datetime):
    counts = _booked_counts()
    booked = func.coalesce(counts.c.booked, 0)
    return (select(HearingSlot, booked).outerjoin(counts, counts.c.slot_id == HearingSlot.id)
            .where(HearingSlot.starts_at > now + BOOKING_NOTICE, booked < HearingSlot.capacity))


def free_slots(db_session: Session, unit_id: str, now: datetime, page: int = 1,
               per_page: int = SLOTS_PER_PAGE) -> tuple[list[SlotView], bool]:
    """The unit's next free slots, soonest first, one page; and whether there are more."""
    offset = (max(page, 1) - 1) * per_page
    rows = db_session.execute(_free_query(now).where(HearingSlot.unit_id == unit_id)
                              .order_by(HearingSlot.starts_at, HearingSlot.id)
                              .offset(offset).limit(per_page + 1)).all()
    return _slot_views(rows[:per_page]), len(rows) > per_page


def by_day(slots: list[SlotView]) -> list[tuple[date, list[SlotView]]]:
    """Slots grouped by their day in Paris, in order."""
    return [(day, list(group)) for day, group in groupby(slots, key=lambda s: s.local_start.date())]


def units_with_free_slots(db_session: Session, now: datetime) -> dict[str, datetime]:
    """unit id → its next free slot (Paris time), for every unit that has one."""
    query = _free_query(now).subquery()
    rows = db_session.execute(select(query.c.unit_id, func.min(query.c.starts_at)).group_by(query.c.unit_id)).all()
    return {unit: paris_time(first) for unit, first in rows}


def bookable_slot(db_session: Session, slot_id: int, now: datetime) -> HearingSlot | None:
    slot = db_session.get(HearingSlot, slot_id)
    if slot is None or utc(slot.starts_at) <= now + BOOKING_NOTICE:
        return None
    return slot


def remove_slot(db_session: Session, unit_id: str, slot_id: int) -> None:
    """Take a free slot off the unit's agenda; a slot someone booked stays (cancel the booking first)."""
    slot = db_session.scalar(select(HearingSlot).where(HearingSlot.id == slot_id, HearingSlot.unit_id == unit_id))
    if slot is None:
        raise VisioError("Ce créneau n'existe pas dans l'agenda de votre unité.", status=404)
    if db_session.scalar(select(func.count(Booking.id)).where(Booking.slot_id == slot.id)):
        raise VisioError("Ce créneau est réservé : il ne peut pas être retiré.", status=409)
    try:
        with db_session.begin_nested():
            # The foreign key refuses the deletion if a booking arrived meanwhile.
            db_session.execute(delete(HearingSlot).where(HearingSlot.id == slot.id))
    except IntegrityError as exc:
        raise VisioError("Ce créneau vient d'être réservé : il ne peut pas être retiré.", status=409) from exc
    db_session.expunge(slot)


# --- Booking ----------------------------------------------------------------------------------------------------------


def _take_seat(db_session: Session, slot_id: int, capacity: int, values: dict) -> Booking:
    """INSERT the booking at the first seat the UNIQUE(slot_id, seat) constraint accepts."""
    for seat in range(1, capacity + 1):
        booking = Booking(slot_id=slot_id, seat=seat, **values)
        try:
            with db_session.begin_nested():
                db_session.add(booking)
                db_session.flush()
            return booking
        except IntegrityError:
            continue
    raise SlotTaken()


def hearing_details(slot: HearingSlot, unit_name: str, sequence: int, cancelled: bool = False) -> dict:
    """What the case keeps of its hearing (also after a cancellation, for the calendar's CANCEL)."""
    return {"starts_at": utc(slot.starts_at).isoformat(), "ends_at": utc(slot.ends_at).isoformat(),
            "unit_name": unit_name, "sequence": sequence, "cancelled": cancelled}


@dataclass(frozen=True)
class BookingRequest:
    """Everything a booking needs, as plain values: taken before the write transaction starts."""

    account_id: int
    identity: dict
    identity_verified: bool
    answers: dict
    slot_id: int
    unit_id: str
    unit_name: str
    capacity: int
    starts_at: datetime
    ends_at: datetime


def prepare_booking(db_session: Session, account_id: int, identity: Identity, slot_id: int,
                    now: datetime) -> BookingRequest:
    """Check what can be checked by reading (answers, slot, one hearing at a time); raises VisioError."""
    answers = load_answers(db_session, account_id)
    if answers.get("outcome") != OUTCOME_ELIGIBLE:
        raise NoAnswers()
    slot = bookable_slot(db_session, slot_id, now)
    if slot is None:
        raise VisioError("Ce créneau n'est plus proposé. Choisissez-en un autre.", field="slot", status=409)
    # A closed case's hearing does not count: the unit closed it, the citizen may book again.
    upcoming = db_session.scalar(
        select(func.count(Booking.id)).join(HearingSlot, HearingSlot.id == Booking.slot_id)
        .join(Case, Case.id == Booking.case_id)
        .where(Booking.account_id == account_id, HearingSlot.ends_at > now, Case.status != "cloturee"))
    if upcoming:
        raise VisioError("Vous avez déjà un rendez-vous de visio-plainte à venir : déplacez-le ou annulez-le "
                         "depuis Mon espace avant d'en prendre un autre.", status=409)
    unit_name = station_names(db_session, [slot.unit_id]).get(slot.unit_id, slot.unit_id)
    return BookingRequest(account_id=account_id, identity={**identity.to_session()},
                          identity_verified=bool(identity.verified), answers=answers, slot_id=slot.id,
                          unit_id=slot.unit_id, unit_name=unit_name,
                          capacity=slot.capacity, starts_at=utc(slot.starts_at), ends_at=utc(slot.ends_at))


def book(db_session: Session, request: BookingRequest, now: datetime) -> Case:
    """Create the case, its "rdv_pris" event and the booking, in the caller's transaction; raises SlotTaken.

    The first statement is the DELETE of the citizen's answers (their draft):
    on SQLite the transaction then waits for the write lock instead of failing
    on a stale read, and it must remove exactly one row. Of two requests made
    with the same answers (two tabs, two slots clicked at once), the second
    finds them gone and raises AlreadyBooked: one citizen, one case. The seat
    is taken last; if none is free, the caller rolls the whole transaction
    back (the answers come back with it) and no case is left behind.
    """
    gone = db_session.execute(delete(Draft).where(Draft.account_id == request.account_id, Draft.kind == KIND))
    if gone.rowcount != 1:
        raise AlreadyBooked()
    answers = request.answers
    details = {"description": answers.get("description", ""), "role": answers.get("role", ""),
               "device_confirmed": True, "private_place_confirmed": True,
               "hearing": {"starts_at": request.starts_at.isoformat(), "ends_at": request.ends_at.isoformat(),
                           "unit_name": request.unit_name, "sequence": 0, "cancelled": False}}
    case = Case(reference=new_reference(KIND, now), kind=KIND, status="deposee", offence=answers["offence"],
                account_id=request.account_id, unit_id=request.unit_id,
                identity_verified=request.identity_verified, identity=request.identity, details=details,
                created_at=now, updated_at=now)
    db_session.add(case)
    db_session.flush()
    record_event(db_session, case, "citizen", "rdv_pris", now=now)
    _take_seat(db_session, request.slot_id, request.capacity,
               {"case_id": case.id, "account_id": request.account_id, "room": new_room(), "sequence": 0,
                "created_at": now})
    db_session.flush()
    return case


def load_hearing(db_session: Session, reference: str) -> dict:
    """The hearing a case keeps in its sealed details (after a booking, a new time or a cancellation)."""
    case = db_session.scalar(select(Case).where(Case.reference == reference))
    return dict((case.details or {}).get("hearing") or {}) if case else {}


def new_room() -> str:
    """The video room's name: random, so that the link cannot be guessed from anything else."""
    return "vp-" + secrets.token_urlsafe(24)


def booking_for_case(db_session: Session, case: Case) -> Booking | None:
    return db_session.scalar(select(Booking).where(Booking.case_id == case.id))


def change_refusal(case: Case | None, slot_starts_at: datetime | None, has_statement: bool, now: datetime,
                   verb: str = "annulé") -> str | None:
    """Why the citizen can no longer move or cancel this hearing (French, ``verb`` "annulé" or "déplacé"); None if
    they still can: until ``BOOKING_NOTICE`` before it, with no PV written, while the case is new or in progress."""
    if case is None or slot_starts_at is None:
        return "Ce rendez-vous n'existe plus."
    if case.status == "cloturee":
        return f"Ce dossier est clôturé : son rendez-vous ne peut plus être {verb}."
    if has_statement:
        return (f"Un procès-verbal a déjà été rédigé pour ce dossier : le rendez-vous ne peut plus être {verb}. "
                "Contactez l'unité si besoin.")
    if case.status not in CHANGEABLE_STATUSES:
        return (f"L'unité traite déjà votre dossier : le rendez-vous ne peut plus être {verb} en ligne. "
                "Contactez-la si besoin.")
    if utc(slot_starts_at) <= now + BOOKING_NOTICE:
        return (f"Le rendez-vous commence dans moins d'une heure, ou a déjà eu lieu : il ne peut plus être {verb} "
                "en ligne. Contactez l'unité si besoin.")
    return None


def _changeable(case_id: int, now: datetime) -> tuple:
    """The same rules as ``change_refusal``, as SQL conditions on the booking's row: checked by the write itself."""
    return (Booking.slot_id.in_(select(HearingSlot.id).where(HearingSlot.starts_at > now + BOOKING_NOTICE)),
            exists().where(Case.id == case_id, Case.status.in_(CHANGEABLE_STATUSES)),
            ~exists().where(Statement.case_id == case_id))


def _why_unchanged(db_session: Session, case_id: int, booking_id: int, now: datetime, verb: str) -> VisioError:
    """The refusal to raise when the conditional write matched nothing (read after it, in the same transaction)."""
    booking = db_session.scalar(select(Booking).where(Booking.id == booking_id, Booking.case_id == case_id)
                                .execution_options(populate_existing=True))
    if booking is None:
        if verb == "annulé":
            return VisioError("Ce rendez-vous est déjà annulé.", status=409)
        return VisioError("Ce rendez-vous n'existe plus.", status=404)
    case = db_session.scalar(select(Case).where(Case.id == case_id).execution_options(populate_existing=True))
    has_statement = bool(db_session.scalar(select(func.count(Statement.id)).where(Statement.case_id == case_id)))
    starts_at = db_session.scalar(select(HearingSlot.starts_at).where(HearingSlot.id == booking.slot_id))
    return VisioError(change_refusal(case, starts_at, has_statement, now, verb)
                      or f"Ce rendez-vous ne peut plus être {verb}.", status=409)


def reschedule(db_session: Session, case_id: int, booking_id: int, new_slot_id: int, capacity: int,
               hearing: dict, now: datetime) -> None:
    """Move the booking to the new slot in one UPDATE per seat tried, in the caller's transaction.

    The row changes (slot, seat) at once: the new seat is taken by the same
    statement that gives the old one back, under UNIQUE(slot_id, seat); if no
    seat of the new slot is free, SlotTaken is raised and the old booking is
    untouched. The UPDATE also carries ``change_refusal``'s rules (the old
    slot far enough ahead, no PV, a new or in-progress case): if the officer
    sent a PV or closed the case meanwhile, nothing moves and a French 409 is
    raised. The reminder is due again for the new time.
    """
    for seat in range(1, capacity + 1):
        try:
            with db_session.begin_nested():
                moved = db_session.execute(
                    update(Booking).where(Booking.id == booking_id, Booking.case_id == case_id,
                                          *_changeable(case_id, now))
                    .values(slot_id=new_slot_id, seat=seat, sequence=Booking.sequence + 1, reminder_sent_at=None)
                    .execution_options(synchronize_session=False))
            if moved.rowcount != 1:
                raise _why_unchanged(db_session, case_id, booking_id, now, "déplacé")
            break
        except IntegrityError:
            continue
    else:
        raise SlotTaken()
    case = db_session.get(Case, case_id)
    case.details = {**case.details, "hearing": hearing}
    record_event(db_session, case, "citizen", "rdv_deplace", now=now)
    db_session.flush()


def cancel(db_session: Session, case_id: int, booking_id: int, now: datetime) -> Case:
    """Free the seat; the case is closed with a "rdv_annule" event, and keeps the hearing for the CANCEL file.

    The first statement is the DELETE (see ``book``), conditional on
    ``change_refusal``'s rules: after the hearing, once a PV exists, or on a
    case the unit closed or moved on, nothing changes and a French 409
    (VisioError) is raised; a booking already gone raises one too.
    """
    sequence = db_session.execute(delete(Booking).where(Booking.id == booking_id, Booking.case_id == case_id,
                                                        *_changeable(case_id, now))
                                  .returning(Booking.sequence).execution_options(synchronize_session=False)).scalar()
    if sequence is None:
        raise _why_unchanged(db_session, case_id, booking_id, now, "annulé")
    case = db_session.get(Case, case_id)
    _mark_cancelled(case, sequence)
    case.status = "cloturee"
    case.closed_at = now
    record_event(db_session, case, "citizen", "rdv_annule", now=now)
    db_session.flush()
    return case


def _mark_cancelled(case: Case, sequence: int) -> None:
    """The case keeps its hearing, marked cancelled with the next sequence: its calendar file becomes a CANCEL."""
    hearing = dict((case.details or {}).get("hearing") or {})
    hearing.update(cancelled=True, sequence=sequence + 1)
    case.details = {**(case.details or {}), "hearing": hearing}


def release_for_closing(db_session: Session, case: Case, now: datetime) -> bool:
    """The unit closes ``case``: free its seat if the hearing has not started yet; True if it was freed.

    One conditional DELETE (the booking of this case, in a slot starting
    after ``now``), in the caller's transaction: the seat can be booked again
    at once, and the case keeps the hearing marked cancelled (``cancel``'s
    way), so that its calendar file becomes a CANCEL. A hearing that started
    or took place keeps its booking: it is the case's history.
    """
    sequence = db_session.execute(
        delete(Booking).where(Booking.case_id == case.id,
                              Booking.slot_id.in_(select(HearingSlot.id).where(HearingSlot.starts_at > now)))
        .returning(Booking.sequence).execution_options(synchronize_session="fetch")).scalar()
    if sequence is None:
        return False
    _mark_cancelled(case, sequence)
    db_session.flush()
    return True


def upcoming_booking(db_session: Session, account_id: int, now: datetime) -> tuple[Booking, Case] | None:
    """The citizen's hearing still to come (or under way), on a case still open; None if there is none."""
    row = db_session.execute(
        select(Booking, Case).join(Case, Case.id == Booking.case_id)
        .join(HearingSlot, HearingSlot.id == Booking.slot_id)
        .where(Booking.account_id == account_id, HearingSlot.ends_at > now, Case.status != "cloturee")
        .order_by(HearingSlot.starts_at)).first()
    return (row[0], row[1]) if row else None


# --- The hearing ------------------------------------------------------------------------------------------------------


def join_url(room: str, template: str | None = None) -> str:
    """VIDEO_URL_TEMPLATE with the room, URL-quoted (the template is configuration, checked at start-up to hold
    ``{room}`` and no other replacement field; it is never passed to ``str.format``)."""
    template = template or current_app.config["VIDEO_URL_TEMPLATE"]
    return template.replace("{room}", quote(room, safe=""))


def can_join(slot: HearingSlot, now: datetime) -> bool:
    """The "Rejoindre" link shows from 15 minutes before the slot to its end."""
    return utc(slot.starts_at) - JOIN_EARLY <= now <= utc(slot.ends_at)


@dataclass(frozen=True)
class HearingView:
    """A case's hearing as every page shows it (case page, Mon espace, the booking and PV pages, the console)."""

    starts_at: datetime  # Paris time
    ends_at: datetime
    unit_name: str
    join_url: str | None  # only while the hearing can be joined
    booked: bool  # False once cancelled (the case keeps the times for the calendar's CANCEL)
    cancelled: bool
    changeable: bool  # the citizen may still move or cancel it (``change_refusal``)
    booking: Booking | None = None

    @property
    def can_join(self) -> bool:
        return self.join_url is not None


def hearing_view(case: Case, booking: Booking | None, now: datetime, slot: HearingSlot | None = None,
                 unit_name: str | None = None) -> HearingView | None:
    """What a page shows of ``case``'s hearing at ``now``; None when the case never had one.

    ``booking`` is the case's booking (None once cancelled), ``slot`` its slot
    if already loaded. The "Rejoindre" link is built here only, from 15 minutes
    before the slot to its end, and never for a closed case.
    """
    hearing = (case.details or {}).get("hearing") or {}
    unit_name = unit_name or hearing.get("unit_name", "")
    if booking is None:
        if not hearing.get("starts_at"):
            return None
        return HearingView(starts_at=datetime.fromisoformat(hearing["starts_at"]).astimezone(PARIS),
                           ends_at=datetime.fromisoformat(hearing["ends_at"]).astimezone(PARIS),
                           unit_name=unit_name, join_url=None, booked=False, cancelled=bool(hearing.get("cancelled")),
                           changeable=False)
    slot = slot or booking.slot
    refusal = change_refusal(case, slot.starts_at, bool(case.statements), now)
    joinable = can_join(slot, now) and case.status != "cloturee"  # a closed case's hearing is never joined
    return HearingView(starts_at=paris_time(slot.starts_at), ends_at=paris_time(slot.ends_at),
                       unit_name=unit_name, join_url=join_url(booking.room) if joinable else None,
                       booked=True, cancelled=False, changeable=refusal is None, booking=booking)


# --- Calendar file (.ics) -----------------------------------------------------------------------------------------


def calendar_uid(reference: str) -> str:
    """Stable for the booking's whole life (one booking per case): updates replace the same event."""
    return f"{reference.lower()}@visio-plainte.portail-citoyen"


def calendar(reference: str, hearing: dict, attendee_email: str, attendee_name: str, organizer_email: str,
             page_url: str, now: datetime) -> bytes:
    """An iCalendar invitation (METHOD:REQUEST) or, for a cancelled hearing, its cancellation (METHOD:CANCEL)."""
    from icalendar import Calendar, Event, Timezone, vCalAddress

    starts = datetime.fromisoformat(hearing["starts_at"]).astimezone(PARIS)
    ends = datetime.fromisoformat(hearing["ends_at"]).astimezone(PARIS)
    cancelled = bool(hearing.get("cancelled"))
    cal = Calendar()
    cal.add("prodid", "-//Portail citoyen//Visio-plainte//FR")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    cal.add_component(Timezone.from_tzid("Europe/Paris", first_date=starts.date() - timedelta(days=1),
                                         last_date=ends.date() + timedelta(days=1)))
    event = Event()
    event.add("uid", calendar_uid(reference))
    event.add("sequence", int(hearing.get("sequence", 0)))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", starts)
    event.add("dtend", ends)
    event.add("summary", f"Visio-plainte — {hearing.get('unit_name', '')}".strip(" —"))
    event.add("description", "Rendez-vous de visio-plainte. Le lien « Rejoindre » apparaît dans votre espace "
                             f"15 minutes avant l'heure : {page_url}")
    event.add("location", "Visioconférence (lien dans votre espace du Portail citoyen)")
    event.add("url", page_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = hearing.get("unit_name") or "Visio-plainte"
    event.add("organizer", organizer)
    if attendee_email:
        attendee = vCalAddress(f"mailto:{attendee_email}")
        if attendee_name:
            attendee.params["cn"] = attendee_name
        attendee.params["role"] = "REQ-PARTICIPANT"
        event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical()


# --- E-mails (never the complaint's details) ----------------------------------------------------------------------


def confirmation_mail(reference: str, hearing: dict, page_url: str, kind: str = "booked") -> tuple[str, str]:
    """(subject, body) for a booking, a new time or a cancellation: date, unit and where to look; nothing else."""
    starts = datetime.fromisoformat(hearing["starts_at"])
    when = format_datetime(starts, weekday=True)
    unit = hearing.get("unit_name", "")
    if kind == "cancelled":
        subject = "Votre rendez-vous de visio-plainte est annulé"
        lead = f"Votre rendez-vous du {when} avec {unit} est annulé."
    elif kind == "moved":
        subject = "Votre rendez-vous de visio-plainte a changé d'heure"
        lead = f"Votre rendez-vous de visio-plainte est déplacé au {when}, avec {unit}."
    else:
        subject = "Votre rendez-vous de visio-plainte est confirmé"
        lead = f"Votre rendez-vous de visio-plainte est confirmé le {when} (heure de Paris), avec {unit}."
    body = (f"Bonjour,\n\n{lead}\n\nDossier : {reference}\n"
            f"Tout se passe dans votre espace : {page_url}\n"
            "Le lien pour rejoindre l'entretien y apparaît 15 minutes avant l'heure. Prévoyez un appareil avec "
            "caméra et micro, dans un endroit calme où vous serez seul(e).\n\n"
            "Vous pouvez aussi, à tout moment, porter plainte dans un commissariat ou une gendarmerie.\n\n"
            "Ceci est un message automatique du Portail citoyen : n'y répondez pas.")
    return subject, body


def reminder_mail(reference: str, starts_at: datetime, unit_name: str, page_url: str) -> tuple[str, str]:
    subject = "Rappel : votre rendez-vous de visio-plainte"
    when = format_datetime(starts_at, weekday=True)
    body = (f"Bonjour,\n\nPour rappel, votre rendez-vous de visio-plainte a lieu le {when} "
            f"(heure de Paris), avec {unit_name}.\n\nDossier : {reference}\n"
            f"Le lien pour rejoindre l'entretien apparaîtra dans votre espace 15 minutes avant l'heure : {page_url}\n"
            "Si vous ne pouvez pas venir, déplacez ou annulez le rendez-vous depuis cette page.\n\n"
            "Ceci est un message automatique du Portail citoyen : n'y répondez pas.")
    return subject, body


class RemindersRun(NamedTuple):
    sent: int
    failed: int  # the mail server refused or could not be reached: due again at the next run


def send_due_reminders(db_session: Session, now: datetime, page_url_for=None) -> RemindersRun:
    """Send the reminder of every hearing less than 24 hours away that has not had one; how many went, failed.

    Each booking is claimed by an UPDATE … WHERE reminder_sent_at IS NULL,
    committed before its message leaves: two runs at once, or a second run,
    send nothing twice. A message the mail server does not take gives its
    claim back (reminder_sent_at empty again, for the next run) and the others
    are still sent.
    """
    from accounts.mail import MailUnavailable, send_mail

    page_url_for = page_url_for or booking_page_url
    rows = db_session.execute(
        select(Booking.id, Case, HearingSlot.starts_at)
        .join(Case, Case.id == Booking.case_id).join(HearingSlot, HearingSlot.id == Booking.slot_id)
        .where(Booking.reminder_sent_at.is_(None), HearingSlot.starts_at > now,
               HearingSlot.starts_at <= now + REMINDER_AHEAD)
        .order_by(HearingSlot.starts_at)).all()
    due = [(booking_id, case.reference, case.identity, case.details, starts_at) for booking_id, case, starts_at in rows]
    db_session.commit()
    sent = failed = 0
    for booking_id, reference, identity, details, starts_at in due:
        claimed = db_session.execute(update(Booking).where(Booking.id == booking_id,
                                                           Booking.reminder_sent_at.is_(None))
                                     .values(reminder_sent_at=now).execution_options(synchronize_session=False))
        db_session.commit()
        email = (identity or {}).get("email")
        if claimed.rowcount != 1 or not email:
            continue
        unit_name = (details or {}).get("hearing", {}).get("unit_name", "")
        try:
            send_mail(email, *reminder_mail(reference, utc(starts_at), unit_name, page_url_for(reference)))
        except MailUnavailable:  # the claim is this run's: give it back for the next run
            db_session.execute(update(Booking).where(Booking.id == booking_id)
                               .values(reminder_sent_at=None).execution_options(synchronize_session=False))
            db_session.commit()
            current_app.logger.warning("visio reminder not sent: reference=%s", reference)
            failed += 1
            continue
        sent += 1
    return RemindersRun(sent, failed)


def booking_page_url(reference: str) -> str:
    """The booking's page, absolute (for e-mails and calendar files): PUBLIC_URL and the route's own path.

    Works in a request and outside one (the ``remind`` command runs with an
    application context only, SERVER_NAME unset).
    """
    if has_request_context():
        path = url_for("complaints.show_booking", reference=reference)
    else:
        with current_app.test_request_context("/"):
            path = url_for("complaints.show_booking", reference=reference)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path



@click.command("remind")
@with_appcontext
def remind_command() -> None:
    """Envoie les rappels de visio-plainte dus (à lancer toutes les 15 minutes en production)."""
    from portal.extensions import db

    run = send_due_reminders(db.session, datetime.now(UTC))
    click.echo(f"{run.sent} rappel(s) de visio-plainte envoyé(s).")
    if run.failed:
        click.echo(f"{run.failed} rappel(s) non envoyé(s) (serveur de courriel indisponible) : ils repartiront au "
                   "prochain passage.", err=True)
