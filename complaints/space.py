"""What "Mon espace" shows of a citizen's complaints, and the export of everything the portal holds about them.

Plain functions over the models: ``SECTION``, registered by ``complaints.init_app``, gives them to the pages of
``accounts`` (Mon espace, the export), which know no feature; ``complaints.views.cases`` (a case's page) calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts import SpaceSection
from accounts.models import Account
from accounts.space import iso, paris_time_text
from agents.models import AuditEvent
from complaints import offences, visio
from complaints.forms import parse_date, parse_time
from complaints.labels import CITIZEN, actor_label, event_label
from complaints.models import KINDS, STATUSES, Booking, Case, Draft, HearingSlot
from complaints.online import ITEM_TYPES
from complaints.statements import RESPONSES, awaiting_citizen
from maps.services import station_names
from portal.dates import date_fr
from portal.extensions import utc


def status_label(status: str) -> str:
    return STATUSES.get(status, status)


@dataclass(frozen=True)
class NextAction:
    label: str
    anchor: str  # where on the case page


def next_action(case: Case) -> NextAction | None:
    """What the citizen has to do on a case, if anything."""
    if case.status == "complement_demande":
        return NextAction("Répondre à l’unité", "repondre")
    if case.status == "pv_disponible" and awaiting_citizen(case):
        return NextAction("Relire le procès-verbal", "proces-verbal")
    if not case.identity_verified and case.status in ("deposee", "en_cours"):
        return NextAction("Confirmer votre identité à l’unité", "identite")
    return None


def cases_of(session: Session, account_id: int) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.account_id == account_id)
                                .order_by(Case.created_at.desc(), Case.id.desc())))


def drafts_of(session: Session, account_id: int) -> list[Draft]:
    return list(session.scalars(select(Draft).where(Draft.account_id == account_id).order_by(Draft.kind)))


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    slot: HearingSlot
    case: Case
    starts_at: datetime
    ends_at: datetime
    can_join: bool
    join_url: str | None = None  # the "Rejoindre" link, only while it can be joined (``visio.hearing_view``)


def bookings_of(session: Session, account_id: int, now: datetime | None = None) -> list[BookingView]:
    """The citizen's visio-plainte bookings, soonest first; ``join_url`` only close to the slot's time."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(Booking, HearingSlot, Case).join(HearingSlot, Booking.slot_id == HearingSlot.id)
        .join(Case, Booking.case_id == Case.id).where(Booking.account_id == account_id)
        .order_by(HearingSlot.starts_at)
    ).all()
    views = []
    for booking, slot, case in rows:
        shown = visio.hearing_view(case, booking, now, slot=slot)
        views.append(BookingView(booking, slot, case, utc(slot.starts_at), utc(slot.ends_at), shown.can_join,
                                 shown.join_url))
    return views


def reply(session: Session, case: Case, message: str, now: datetime | None = None) -> bool:
    """The citizen answers "complément demandé": the message, sealed, joins the history; the case is en_cours again.

    One conditional UPDATE: if the unit closed or changed the case in the meantime, nothing is
    written and this returns False (a reply never reopens a closed case).
    """
    from complaints.cases import record_event

    now = now or datetime.now(UTC)
    changed = session.execute(
        update(Case).where(Case.id == case.id, Case.status == "complement_demande")
        .values(status="en_cours", updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        return False
    record_event(session, case, "citizen", "complement_recu", message=message, now=now)
    case.status = "en_cours"
    session.flush()
    return True


# --- Mon espace's section (accounts.SpaceSection, registered by complaints.init_app) ------------------------------

def space_context(session: Session, account: Account) -> dict:
    """What templates/complaints/_space.html reads (as ``section_context``): cases, drafts, bookings."""
    cases = cases_of(session, account.id)
    return {
        "cases": cases,
        "drafts": drafts_of(session, account.id),
        "bookings": bookings_of(session, account.id),
        "unit_names": station_names(session, {c.unit_id for c in cases}),
        "kinds": KINDS, "status_label": status_label, "next_action": next_action,
    }


def has_visio_case(session: Session, account: Account) -> bool:
    """A visio-plainte is about violence, threats or harassment: where it shows, the quick exit is there."""
    return session.scalar(select(Case.id).where(Case.account_id == account.id, Case.kind == "visio_plainte")
                          .limit(1)) is not None


def export(session: Session, account: Account, now: datetime | None = None) -> dict:
    """The citizen's cases and drafts, as JSON-ready data (dates in ISO 8601, UTC): complaints' share of the export."""
    now = now or datetime.now(UTC)
    cases = cases_of(session, account.id)
    names = station_names(session, {c.unit_id for c in cases})
    bookings = {view.case.id: view for view in bookings_of(session, account.id, now)}
    exported_cases = []
    for case in cases:
        booking = bookings.get(case.id)
        exported_cases.append({
            "reference": case.reference,
            "kind": case.kind, "kind_label": KINDS.get(case.kind, case.kind),
            "status": case.status, "status_label": status_label(case.status),
            "offence": case.offence, "offence_label": offences.label(case.offence),
            "unit_id": case.unit_id, "unit_name": names.get(case.unit_id, ""),
            "identity_verified": case.identity_verified,
            "identity": case.identity,
            "details": case.details,
            "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
            "closed_at": iso(case.closed_at),
            "events": [{"at": iso(e.at), "actor": e.actor, "kind": e.kind, "label": event_label(e.kind, CITIZEN),
                        "message": e.message} for e in case.events],
            "statements": [{"version": s.version, "text": s.text, "sent_at": iso(s.sent_at),
                            "response": s.response, "response_comment": s.response_comment,
                            "responded_at": iso(s.responded_at)} for s in case.statements],
            "booking": None if booking is None else {
                "starts_at": iso(booking.starts_at), "ends_at": iso(booking.ends_at),
                "video_room": booking.booking.room, "changes": booking.booking.sequence,
                "created_at": iso(booking.booking.created_at),
                "reminder_sent_at": iso(booking.booking.reminder_sent_at)},
            # When the unit read or acted on the case (the audit log), without naming the officer.
            "accesses": [{"at": iso(at), "action": action} for at, action in session.execute(
                select(AuditEvent.at, AuditEvent.action).where(AuditEvent.target_type == "case",
                                                               AuditEvent.target_id == case.reference)
                .order_by(AuditEvent.id))],
        })
    return {
        "cases": exported_cases,
        "drafts": [{"kind": d.kind, "kind_label": KINDS.get(d.kind, d.kind), "created_at": iso(d.created_at),
                    "updated_at": iso(d.updated_at), "data": d.data} for d in drafts_of(session, account.id)],
    }


# --- the export as a page to read (templates/complaints/_my_data.html) ----------------------------------------------

# Every key of ``export`` (and of the answers it holds: a case's ``details`` written by ``complaints.online``
# and ``complaints.visio``, and the drafts' data), in French, in the order the page shows them (the sealed
# answers come back with their keys sorted). A code whose French label sits beside it (``kind`` and
# ``kind_label``, an event's ``kind`` and ``label``) is shown by its label only. The identity sent with a
# case is labelled by accounts (``accounts.space.LABELS``).
EXPORT_LABELS = {
    "cases": "Dossiers", "drafts": "Brouillons",
    "reference": "Référence", "kind_label": "Type de dossier", "status_label": "Statut",
    "offence_label": "Infraction",
    # the answers of a plainte en ligne (complaints.online)
    "offence": "Infraction", "start_date": "Date de début des faits", "start_time": "Heure de début des faits",
    "end_date": "Date de fin des faits", "end_time": "Heure de fin des faits", "commune_query": "Commune saisie",
    "commune_label": "Commune des faits", "code_insee": "Code INSEE de la commune", "department": "Département",
    "address": "Lieu précis", "items": "Objets volés ou abîmés",
    "type": "Type d’objet", "description": "Description", "brand": "Marque et modèle", "serial": "Numéro de série",
    "imei": "Numéro IMEI", "card_last4": "4 derniers chiffres de la carte", "narrative": "Récit",
    # the answers of a visio-plainte (complaints.visio)
    "role": "Vous êtes", "device": "Appareil avec caméra et micro", "private_place": "Endroit calme et privé",
    "device_confirmed": "Appareil avec caméra et micro confirmé",
    "private_place_confirmed": "Endroit calme et privé confirmé", "outcome": "Suite donnée à vos réponses",
    "hearing": "Rendez-vous",
    # a case (continued)
    "unit_id": "Identifiant de l’unité", "unit_name": "Unité",
    "identity_verified": "Identité vérifiée par FranceConnect", "identity": "Identité transmise avec le dossier",
    "details": "Vos réponses", "data": "Contenu du brouillon",
    # the history, the PV's versions, the booking, the unit's reads
    "at": "Date", "actor": "Par", "label": "Étape", "message": "Message",
    "version": "Version", "text": "Texte", "sent_at": "Envoyé le", "response": "Votre réponse",
    "response_comment": "Votre commentaire", "responded_at": "Répondu le",
    "starts_at": "Début", "ends_at": "Fin", "cancelled": "Annulé", "sequence": "Changements d’horaire",
    "video_room": "Salle de visioconférence", "changes": "Changements d’horaire",
    "reminder_sent_at": "Rappel envoyé le", "action": "Action",
    "created_at": "Créé le", "updated_at": "Modifié le", "closed_at": "Clôturé le",
    "events": "Historique", "statements": "Procès-verbaux", "booking": "Rendez-vous de visio-plainte",
    "accesses": "Consultations et actions de l’unité sur le dossier",
}
TIMESTAMP_KEYS = {"created_at", "updated_at", "closed_at", "at", "sent_at", "responded_at", "starts_at", "ends_at",
                  "reminder_sent_at"}
ACCESS_LABELS = {
    "case.read": "Consultation du dossier",
    "case.take": "Prise en charge du dossier",
    "case.request_info": "Demande de complément",
    "case.close": "Clôture du dossier",
    "statement.send": "Envoi du procès-verbal",
}
OUTCOME_LABELS = {
    visio.OUTCOME_ELIGIBLE: "Visio-plainte possible",
    visio.OUTCOME_IN_PERSON: "Plainte à déposer en personne",
    visio.OUTCOME_MINOR: "Victime mineure : plainte à déposer par son représentant légal",
    visio.OTHER_OFFENCE: "Une autre démarche vous a été indiquée",
}


def _offence_text(code: str) -> str:
    """Offences of both procedures, and the visio-plainte's answers that are no offence code (sexual, other)."""
    return {c: text for c, text, _ in visio.offence_choices()}.get(code) or offences.label(code)


# Codes among the values, in words.
VALUE_WORDS = {"response": RESPONSES, "role": visio.ROLES, "type": ITEM_TYPES, "outcome": OUTCOME_LABELS}


def readable_words(key: str, text: str) -> str | None:
    """A value of complaints' share in French (dates in Paris time, codes in words); None: the text as it is."""
    if key in TIMESTAMP_KEYS:
        return paris_time_text(text)
    if key in ("start_date", "end_date"):
        day = parse_date(text)
        return date_fr(day) if day else text
    if key in ("start_time", "end_time"):
        moment = parse_time(text)
        return f"{moment.hour} h {moment.minute:02d}" if moment else text
    if key == "actor":
        return actor_label(text, CITIZEN) or text
    if key == "action":
        return ACCESS_LABELS.get(text, "Autre action de l’unité")
    if key == "offence":
        return _offence_text(text)
    return VALUE_WORDS[key].get(text, text) if key in VALUE_WORDS else None


SECTION = SpaceSection(
    template="complaints/_space.html", context=space_context, export=export, sensitive=has_visio_case,
    labels=EXPORT_LABELS, words=readable_words, data_template="complaints/_my_data.html",
)
