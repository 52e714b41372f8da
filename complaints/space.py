"""What "Mon espace" shows of a citizen's complaints, and the export of everything the portal holds about them.

Plain functions over the models: the views of ``accounts`` (Mon espace, the
export) and ``complaints.views.cases`` (a case's page) call them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.identity import GENDERS, Identity
from agents.models import AuditEvent
from complaints import offences, visio
from complaints.forms import parse_date, parse_time
from complaints.labels import CITIZEN, actor_label, event_label
from complaints.models import KINDS, STATUSES, Booking, Case, Draft, HearingSlot
from complaints.online import ITEM_TYPES
from complaints.statements import RESPONSES, awaiting_citizen
from maps.services import station_names
from portal.dates import date_fr, format_datetime
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


# --- export ----------------------------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value else None


def export(session: Session, account, identity, now: datetime | None = None) -> dict:
    """Everything the portal holds about the citizen, as JSON-ready data (dates in ISO 8601, UTC)."""
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
            "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
            "closed_at": _iso(case.closed_at),
            "events": [{"at": _iso(e.at), "actor": e.actor, "kind": e.kind, "label": event_label(e.kind, CITIZEN),
                        "message": e.message} for e in case.events],
            "statements": [{"version": s.version, "text": s.text, "sent_at": _iso(s.sent_at),
                            "response": s.response, "response_comment": s.response_comment,
                            "responded_at": _iso(s.responded_at)} for s in case.statements],
            "booking": None if booking is None else {
                "starts_at": _iso(booking.starts_at), "ends_at": _iso(booking.ends_at),
                "video_room": booking.booking.room, "changes": booking.booking.sequence,
                "created_at": _iso(booking.booking.created_at),
                "reminder_sent_at": _iso(booking.booking.reminder_sent_at)},
            # When the unit read or acted on the case (the audit log), without naming the officer.
            "accesses": [{"at": _iso(at), "action": action} for at, action in session.execute(
                select(AuditEvent.at, AuditEvent.action).where(AuditEvent.target_type == "case",
                                                               AuditEvent.target_id == case.reference)
                .order_by(AuditEvent.id))],
        })
    return {
        "exported_at": _iso(now),
        "account": {
            "id": account.id,
            "sign_in": "franceconnect" if account.signed_in_with_franceconnect else "email",
            # Who vouches for the citizen, and the identifier it gives (FranceConnect's pairwise ``sub``,
            # or the fingerprint of the e-mail address).
            "issuer": account.issuer, "subject": account.subject,
            "identity_verified": account.identity_verified,
            "created_at": _iso(account.created_at),
            "last_login_at": _iso(account.last_login_at),
        },
        "identity_in_session": identity.to_session() if identity else None,
        "cases": exported_cases,
        "drafts": [{"kind": d.kind, "kind_label": KINDS.get(d.kind, d.kind), "created_at": _iso(d.created_at),
                    "updated_at": _iso(d.updated_at), "data": d.data} for d in drafts_of(session, account.id)],
    }


# --- the export as a page to read (templates/accounts/my_data.html) -------------------------------------------------

# Every key of ``export`` (and of the answers it holds: a case's ``details`` written by ``complaints.online``
# and ``complaints.visio``, and the drafts' data), in French, in the order the page shows them (the sealed
# answers come back with their keys sorted). A code whose French label sits beside it (``kind`` and
# ``kind_label``, an event's ``kind`` and ``label``) is shown by its label only.
EXPORT_LABELS = {
    "exported_at": "Date de l’export", "account": "Compte", "identity_in_session": "Identité dans votre session",
    "cases": "Dossiers", "drafts": "Brouillons",
    "reference": "Référence", "kind_label": "Type de dossier", "status_label": "Statut",
    "offence_label": "Infraction",
    # the account
    "id": "Numéro du compte", "sign_in": "Mode de connexion", "issuer": "Fournisseur d’identité",
    "subject": "Votre identifiant chez le fournisseur d’identité",
    # an identity
    "given_names": "Prénoms", "family_name": "Nom", "birthdate": "Date de naissance", "gender": "Sexe",
    "birthplace": "Commune de naissance (code INSEE)", "birthcountry": "Pays de naissance (code INSEE)",
    "email": "Adresse électronique", "verified": "Identité vérifiée par FranceConnect",
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
    "created_at": "Créé le", "updated_at": "Modifié le", "last_login_at": "Dernière connexion le",
    "closed_at": "Clôturé le",
    "events": "Historique", "statements": "Procès-verbaux", "booking": "Rendez-vous de visio-plainte",
    "accesses": "Consultations et actions de l’unité sur le dossier",
}
_READING_ORDER = {key: rank for rank, key in enumerate(EXPORT_LABELS)}
TIMESTAMP_KEYS = {"exported_at", "created_at", "updated_at", "last_login_at", "closed_at", "at", "sent_at",
                  "responded_at", "starts_at", "ends_at", "reminder_sent_at"}
SIGN_IN_LABELS = {"franceconnect": "FranceConnect", "email": "Code reçu par courriel"}
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


@dataclass(frozen=True)
class Fields:
    """A group of (French label, value) rows; a value is text, a ``Fields``, or a list of them."""

    rows: list[tuple[str, object]]


def _offence_text(code: str) -> str:
    """Offences of both procedures, and the visio-plainte's answers that are no offence code (sexual, other)."""
    return {c: text for c, text, _ in visio.offence_choices()}.get(code) or offences.label(code)


# Codes among the values, in words.
VALUE_WORDS = {"gender": GENDERS, "sign_in": SIGN_IN_LABELS, "response": RESPONSES, "role": visio.ROLES,
               "type": ITEM_TYPES, "outcome": OUTCOME_LABELS}


def readable_value(key: str, value) -> object:
    if isinstance(value, dict):
        return readable(value)
    if isinstance(value, list):
        if key == "given_names":
            return " ".join(str(v) for v in value)
        return [readable_value(key, v) for v in value]
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    text = str(value)
    if key in TIMESTAMP_KEYS:
        try:
            return format_datetime(datetime.fromisoformat(text)) + " (heure de Paris)"
        except ValueError:
            return text
    if key in ("start_date", "end_date"):
        day = parse_date(text)
        return date_fr(day) if day else text
    if key in ("start_time", "end_time"):
        moment = parse_time(text)
        return f"{moment.hour} h {moment.minute:02d}" if moment else text
    if key == "birthdate":
        return Identity(birthdate=text).birthdate_text
    if key == "actor":
        return actor_label(text, CITIZEN) or text
    if key == "action":
        return ACCESS_LABELS.get(text, "Autre action de l’unité")
    if key == "offence":
        return _offence_text(text)
    return VALUE_WORDS[key].get(text, text) if key in VALUE_WORDS else text


def readable(data: dict) -> Fields:
    """``data`` (a part of ``export``) with French labels and values: dates in Paris time, codes in words.

    A key without a French label keeps its name (``tests/complaints/test_space.py`` makes sure none is left).
    """
    rows = []
    for key, value in sorted(data.items(), key=lambda item: _READING_ORDER.get(item[0], len(_READING_ORDER))):
        if f"{key}_label" in data or (key == "kind" and "label" in data):
            continue  # the code, shown by its French label
        rows.append((EXPORT_LABELS.get(key, key), readable_value(key, value)))
    return Fields(rows)
