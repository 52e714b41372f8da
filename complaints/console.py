"""The officers' side of a case: the unit's queue, one case as an officer reads it, and what they may do.

Plain functions over a database session: views call them, tests call them
directly. They add and flush, never commit. Cases are always reached
through ``complaints.cases.unit_case``: an officer sees their own unit's
cases only, and another unit's case answers exactly like an unknown one.

Status changes are conditional UPDATEs (``WHERE status = <what the officer
saw>``): two officers acting on the same case at once cannot both win, and the
second is told the case changed (409) rather than overwriting the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from agents.models import Agent
from complaints import offences, statements, visio
from complaints.cases import Refused, record_event, unit_case
from complaints.forms import MAX_YEAR, MIN_YEAR, parse_date
from complaints.models import KINDS, STATUSES, Booking, Case
from complaints.online import ITEM_TYPES
from portal.dates import PARIS, date_fr, format_datetime

PAGE_SIZE = 25
# What an officer may write to the citizen in one request for more information.
MESSAGE_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 1000

# Why a case is closed: a fixed list, so the history and statistics stay comparable.
CLOSING_REASONS = {
    "plainte_enregistree": "Plainte enregistrée et transmise au parquet",
    "service_competent": "Transmise au service compétent",
    "desistement": "Désistement du plaignant",
    "sans_reponse": "Sans réponse du plaignant aux demandes de complément",
    "doublon": "Doublon d'un autre dossier",
    "hors_champ": "Ne relève pas d'une plainte (orienté vers la bonne démarche)",
}

# From which statuses each action makes sense.
TAKE_FROM = ("deposee", "en_cours", "complement_demande", "pv_disponible")
REQUEST_FROM = ("en_cours", "complement_demande")
CLOSE_FROM = ("deposee", "en_cours", "complement_demande", "pv_disponible")


class ActionRefused(Refused):
    """An officer's action that cannot be done on this case now (409 unless a field is wrong)."""

    def __init__(self, message: str, status: int = 409, field: str | None = None) -> None:
        super().__init__(message, field, status)


class StaleCase(ActionRefused):
    """The case changed since the officer's page was shown (another officer acted first)."""

    def __init__(self) -> None:
        super().__init__("Ce dossier a été modifié depuis l'affichage de la page (par un autre agent peut-être). "
                         "Relisez-le avant d'agir.", status=409)


# --- The queue ----------------------------------------------------------------------------------------------------


@dataclass
class QueueFilters:
    """The queue's filters as read from the query string; ``errors`` holds French messages by field."""

    kind: str = ""
    status: str = ""
    offence: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def query_args(self, page: int | None = None) -> dict[str, str]:
        """The filters as query arguments (for pagination links): codes and dates only, never a name."""
        args = {
            "type": self.kind,
            "statut": self.status,
            "infraction": self.offence,
            "du": self.submitted_from.isoformat() if self.submitted_from else "",
            "au": self.submitted_to.isoformat() if self.submitted_to else "",
        }
        if page and page > 1:
            args["page"] = str(page)
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.kind or self.status or self.offence or self.submitted_from or self.submitted_to)


def parse_filters(args: Mapping[str, str]) -> QueueFilters:
    """Read the queue's filters; unknown codes are ignored with a message, never a 500."""
    filters = QueueFilters()
    kind = (args.get("type") or "").strip()
    if kind in KINDS:
        filters.kind = kind
    elif kind:
        filters.errors["type"] = "Ce type de dossier n'existe pas."
    status = (args.get("statut") or "").strip()
    if status in STATUSES:
        filters.status = status
    elif status:
        filters.errors["statut"] = "Ce statut n'existe pas."
    offence = (args.get("infraction") or "").strip()
    if offence in offences.OFFENCES:
        filters.offence = offence
    elif offence:
        filters.errors["infraction"] = "Cette catégorie d'infraction n'existe pas."
    for name, attribute in (("du", "submitted_from"), ("au", "submitted_to")):
        raw = (args.get(name) or "").strip()
        if raw:
            parsed = parse_date(raw)
            if parsed is None:
                filters.errors[name] = (f"Saisissez une date valide, entre {MIN_YEAR} et {MAX_YEAR}, "
                                        "par exemple 2026-03-14.")
            else:
                setattr(filters, attribute, parsed)
    if filters.submitted_from and filters.submitted_to and filters.submitted_from > filters.submitted_to:
        filters.errors["au"] = "La date de fin doit être postérieure ou égale à la date de début."
        filters.submitted_to = None
    try:
        filters.page = max(1, min(int(args.get("page") or 1), 10_000))
    except ValueError:
        filters.page = 1
    return filters


def _day_start(value: date) -> datetime:
    """Midnight in Paris at the start of ``value``, as UTC: officers think in local days."""
    return datetime.combine(value, time.min, tzinfo=PARIS).astimezone(UTC)


@dataclass
class QueueRow:
    case: Case
    officer: str  # the assigned officer's display name, "" when nobody took it


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


def unit_queue(db_session: Session, unit_id: str | None, filters: QueueFilters,
               page_size: int = PAGE_SIZE) -> QueuePage:
    """The unit's cases matching ``filters``, newest first, one page of them."""
    if not unit_id:
        return QueuePage([], 0, 1, 1)
    conditions = [Case.unit_id == unit_id]
    if filters.kind:
        conditions.append(Case.kind == filters.kind)
    if filters.status:
        conditions.append(Case.status == filters.status)
    if filters.offence:
        conditions.append(Case.offence == filters.offence)
    if filters.submitted_from:
        conditions.append(Case.created_at >= _day_start(filters.submitted_from))
    if filters.submitted_to:
        conditions.append(Case.created_at < _day_start(filters.submitted_to + timedelta(days=1)))
    total = db_session.scalar(select(func.count(Case.id)).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(filters.page, pages)
    result = db_session.execute(
        select(Case, Agent.display_name, Agent.email)
        .outerjoin(Agent, Agent.id == Case.assigned_agent_id)
        .where(*conditions)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    )
    rows = [QueueRow(case, (name or email or "") if case.assigned_agent_id else "") for case, name, email in result]
    return QueuePage(rows, total, page, pages)


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The options of the queue's filters: (code, French label)."""
    return {
        "kinds": list(KINDS.items()),
        "statuses": list(STATUSES.items()),
        "offences": [(o.code, o.label) for o in offences.OFFENCES.values()],
    }


# --- One case -----------------------------------------------------------------------------------------------------


def case_for_agent(db_session: Session, agent: Agent, reference: str) -> Case | None:
    """The case if it belongs to the agent's unit, else None (the view answers 404)."""
    if len(reference) > 20:
        return None
    return unit_case(db_session, agent.unit_id, reference)


def booking_of(db_session: Session, case: Case) -> Booking | None:
    return db_session.scalar(select(Booking).where(Booking.case_id == case.id))


def join_link(case: Case, booking: Booking, now: datetime) -> str | None:
    """The hearing's "Rejoindre" link while it can be joined (the visio-plainte part builds it), else None;
    never for a closed case."""
    if case.status == "cloturee" or not visio.can_join(booking.slot, now):
        return None
    return visio.join_url(booking.room)


def officer_names(db_session: Session, case: Case) -> dict[int, str]:
    """Display names of the agents who appear in the case (assignee, history, statements)."""
    ids = {case.assigned_agent_id, *(e.agent_id for e in case.events), *(s.agent_id for s in case.statements)}
    ids.discard(None)
    if not ids:
        return {}
    rows = db_session.execute(select(Agent.id, Agent.display_name, Agent.email).where(Agent.id.in_(ids)))
    return {agent_id: name or email for agent_id, name, email in rows}


def _day_text(value: str | None) -> str:
    parsed = parse_date(value)
    return date_fr(parsed) if parsed else (value or "")


# The answers of the forms, in the order an officer reads them; other keys are shown after, as given.
DETAIL_LABELS = {
    "offence": "Infraction",
    "commune_label": "Commune",
    "address": "Lieu précis",
    "department": "Département",
    "code_insee": "Code INSEE de la commune",
}
HIDDEN_DETAILS = {"items", "narrative", "description", "start_date", "start_time", "end_date", "end_time", "unit_id",
                  "hearing", "role", "device_confirmed", "private_place_confirmed"}
ITEM_LABELS = {"description": "Description", "brand": "Marque et modèle", "serial": "Numéro de série",
               "imei": "IMEI", "card_last4": "4 derniers chiffres de la carte"}


@dataclass
class CaseDetails:
    """A case's answers ready to read: (label, value) rows, the items taken, and the citizen's narrative."""

    period: str
    rows: list[tuple[str, str]]
    items: list[tuple[str, list[tuple[str, str]]]]
    narrative: str


def case_details(case: Case) -> CaseDetails:
    details = dict(case.details or {})
    start = " ".join(p for p in (_day_text(details.get("start_date")), details.get("start_time") or "") if p)
    end = " ".join(p for p in (_day_text(details.get("end_date")), details.get("end_time") or "") if p)
    if start and end and end != start:
        period = f"Entre le {start} et le {end}"
    else:
        period = f"Le {start}" if start else ""
    rows = [("Infraction", offences.label(details.get("offence") or case.offence))]
    for key, label_text in DETAIL_LABELS.items():
        if key != "offence" and details.get(key):
            rows.append((label_text, str(details[key])))
    for key, value in details.items():
        if key in DETAIL_LABELS or key in HIDDEN_DETAILS or value in (None, "", [], {}):
            continue
        if isinstance(value, (str, int, float, bool)):
            rows.append((key.replace("_", " ").capitalize(), str(value)))
    if details.get("role"):
        rows.append(("Qualité", visio.ROLES.get(details["role"], details["role"])))
    if details.get("device_confirmed") or details.get("private_place_confirmed"):
        rows.append(("Conditions de l'audition", "Caméra et lieu isolé confirmés par le plaignant"))
    items = []
    for item in details.get("items") or []:
        if not isinstance(item, dict):
            continue
        title = ITEM_TYPES.get(item.get("type") or "", "Objet")
        items.append((title, [(ITEM_LABELS.get(k, k), str(v)) for k, v in item.items() if k != "type" and v]))
    narrative = details.get("narrative") or details.get("description") or ""
    return CaseDetails(period, rows, items, str(narrative))


# --- Actions ------------------------------------------------------------------------------------------------------


def _transition(db_session: Session, case: Case, seen_status: str, allowed: tuple[str, ...],
                now: datetime, assigned_to: int | None, **values) -> None:
    """Move the case on from what the officer saw, atomically.

    The UPDATE matches only if the case still has ``seen_status`` and the
    assignee ``assigned_to``: otherwise another agent acted meanwhile
    (StaleCase, 409). It is the first statement of the action, so that on
    SQLite it waits for the write lock rather than failing (see the views).
    """
    if seen_status not in allowed:
        raise ActionRefused(f"Impossible sur un dossier au statut « {STATUSES.get(seen_status, seen_status)} ».")
    assignee = Case.assigned_agent_id.is_(None) if assigned_to is None else Case.assigned_agent_id == assigned_to
    result = db_session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == seen_status, assignee)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db_session.refresh(case)
        raise StaleCase()
    db_session.refresh(case)


def _check_seen(case: Case, seen_status: str | None) -> str:
    """The status the officer's page showed; a different one now means another agent acted meanwhile."""
    seen = seen_status or case.status
    if seen != case.status:
        raise StaleCase()
    return seen


def take_case(db_session: Session, agent: Agent, case: Case, seen_status: str | None = None,
              now: datetime | None = None) -> Case:
    """Assign the case to ``agent``; a new case goes to "en cours". Event "prise_en_charge"."""
    now = now or datetime.now(UTC)
    seen = _check_seen(case, seen_status)
    if seen not in TAKE_FROM:
        raise ActionRefused("Ce dossier est clôturé : il ne peut plus être pris en charge.")
    if case.assigned_agent_id == agent.id and seen != "deposee":
        raise ActionRefused("Vous avez déjà pris ce dossier en charge.")
    new_status = "en_cours" if seen == "deposee" else seen
    _transition(db_session, case, seen, TAKE_FROM, now, case.assigned_agent_id, status=new_status,
                assigned_agent_id=agent.id)
    record_event(db_session, case, "agent", "prise_en_charge", agent_id=agent.id, now=now)
    db_session.flush()
    return case


def request_information(db_session: Session, agent: Agent, case: Case, message: str,
                        seen_status: str | None = None, now: datetime | None = None) -> Case:
    """Ask the citizen for more: the message is sealed in the history, the status becomes "complément demandé"."""
    now = now or datetime.now(UTC)
    message = (message or "").strip()
    if not message:
        raise ActionRefused("Saisissez le message à adresser au plaignant.", status=400, field="message")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ActionRefused(f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères "
                            f"(il en compte {len(message)}).", status=400, field="message")
    seen = _check_seen(case, seen_status)
    if case.assigned_agent_id != agent.id:
        raise ActionRefused("Prenez d'abord le dossier en charge pour écrire au plaignant.")
    if seen not in REQUEST_FROM:
        raise ActionRefused(f"Impossible de demander un complément sur un dossier au statut "
                            f"« {STATUSES.get(seen, seen)} ».")
    _transition(db_session, case, seen, REQUEST_FROM, now, agent.id, status="complement_demande")
    record_event(db_session, case, "agent", "complement_demande", message=message, agent_id=agent.id, now=now)
    db_session.flush()
    return case


def close_case(db_session: Session, agent: Agent, case: Case, reason: str, note: str = "",
               seen_status: str | None = None, now: datetime | None = None) -> Case:
    """Close the case for one of ``CLOSING_REASONS``, with an optional note to the citizen.

    A visio-plainte hearing that has not started is cancelled in the same
    transaction (``visio.release_for_closing``): the seat is free again and the
    case keeps the hearing marked cancelled (``cancelled_hearing``).
    """
    now = now or datetime.now(UTC)
    if reason not in CLOSING_REASONS:
        raise ActionRefused("Choisissez le motif de clôture.", status=400, field="reason")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ActionRefused(f"La note ne doit pas dépasser {NOTE_MAX_LENGTH} caractères "
                            f"(elle en compte {len(note)}).", status=400, field="note")
    seen = _check_seen(case, seen_status)
    if seen == "cloturee":
        raise ActionRefused("Ce dossier est déjà clôturé.")
    if case.assigned_agent_id != agent.id:
        raise ActionRefused("Prenez d'abord le dossier en charge pour le clôturer.")
    if not statements.can_close(case):
        raise ActionRefused("Ce dossier ne peut pas encore être clôturé : le procès-verbal envoyé attend la "
                            "validation du plaignant.")
    _transition(db_session, case, seen, CLOSE_FROM, now, agent.id, status="cloturee", closed_at=now)
    visio.release_for_closing(db_session, case, now)
    message = CLOSING_REASONS[reason] + (f"\n\n{note}" if note else "")
    record_event(db_session, case, "agent", "cloturee", message=message, agent_id=agent.id, now=now)
    db_session.flush()
    return case


def cancelled_hearing(case: Case) -> dict | None:
    """The visio-plainte hearing the case keeps marked cancelled (by the citizen, or when the unit closed it)."""
    hearing = (case.details or {}).get("hearing") or {}
    return hearing if case.kind == visio.KIND and hearing.get("cancelled") and hearing.get("starts_at") else None


def citizen_notice(reference: str, action: str, space_url: str,
                   cancelled: dict | None = None) -> tuple[str, str] | None:
    """(subject, body) of the e-mail telling the citizen something waits in Mon espace; never the message itself.

    ``cancelled``: on closing, the hearing the closing cancelled (``cancelled_hearing``): the e-mail says so.
    """
    if action == "request_info":
        subject = f"Votre dossier {reference} : un message de l'unité vous attend"
        lead = ("L'unité qui traite votre plainte a besoin d'informations complémentaires. "
                "Son message vous attend dans Mon espace, où vous pouvez y répondre.")
    elif action == "close":
        subject = f"Votre dossier {reference} a été clôturé"
        lead = "L'unité qui traitait votre plainte a clôturé votre dossier. Le motif est indiqué dans Mon espace."
        if cancelled:
            when = format_datetime(datetime.fromisoformat(cancelled["starts_at"]), weekday=True)
            unit = cancelled.get("unit_name") or "l'unité"
            lead += (f"\n\nVotre rendez-vous de visio-plainte du {when} (heure de Paris) avec {unit} est donc "
                     "annulé : vous n'avez pas à vous connecter à cette heure-là. Si vous l'aviez ajouté à votre "
                     "agenda, le fichier d'annulation (.ics) est dans Mon espace.")
    else:
        return None
    body = (f"Bonjour,\n\n{lead}\n\nConnectez-vous pour le lire : {space_url}\n\n"
            "Par sécurité, ce courriel ne reprend pas le contenu du message.\n\n"
            "Ceci est un message automatique du Portail citoyen : n'y répondez pas.")
    return subject, body
