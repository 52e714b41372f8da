"""Plainte en ligne: the steps, their validation, the draft kept on the server, the submission.

Each step validates a form (a ``MultiDict`` or a dict) into clean values and
French error messages keyed by field id, in the order of the page. The draft
is a dict sealed in ``Draft.data``; a submission turns it into a ``Case`` and
deletes it in the same write transaction, so that a second click (or a second
process) finds no draft and creates nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from accounts.identity import Identity
from complaints import offences
from complaints.cases import new_reference, record_event
from complaints.forms import parse_date, parse_time
from complaints.models import Case, Draft
from portal.dates import PARIS
from portal.extensions import write_transaction

KIND = "plainte_en_ligne"

# The steps, in order: (slug in the URL, title).
STEPS: list[tuple[str, str]] = [
    ("faits", "Les faits"),
    ("date", "La date et l’heure"),
    ("lieu", "Le lieu"),
    ("objets", "Ce qui a été volé ou abîmé"),
    ("recit", "Votre récit"),
    ("unite", "L’unité qui traitera votre plainte"),
]
STEP_SLUGS = [slug for slug, _ in STEPS]
STEP_TITLES = dict(STEPS)
SUMMARY = "recapitulatif"

MAX_ITEMS = 5
MAX_NARRATIVE = 2000
MAX_SHORT = 120
MAX_ADDRESS = 200
UNIT_CHOICES = 5

ITEM_TYPES = {
    "telephone": "Téléphone portable",
    "carte": "Carte bancaire",
    "papiers": "Papiers d’identité",
    "sac": "Sac ou portefeuille",
    "velo": "Vélo ou trottinette",
    "vehicule": "Véhicule",
    "autre": "Autre objet",
}
ITEM_FIELDS = ("type", "description", "brand", "serial", "imei", "card_last4")

# Numbers to call, only as service-public.fr gives them (the portal's copy of its fiches, /fiches/<id>).
CARD_BLOCKING = {
    "name": "Serveur interbancaire d’opposition à carte bancaire",
    "phone": "0 892 705 705",
    "hours": "7 jours sur 7, 24 heures sur 24",
    "cost": "Numéro violet ou majoré : coût d’un appel vers un numéro fixe et service payant.",
    "fiche": "F2428",
    "fiche_title": "Vol de sa carte bancaire",
}
PHONE_BLOCKING = {
    "text": "Si le vol concerne un téléphone portable, vous devez demander le blocage de votre ligne à votre "
            "opérateur (son numéro figure sur votre contrat et dans votre espace client).",
    "fiche": "F1523",
    "fiche_title": "Vol, cambriolage",
}

PAN_EXPLANATION = ("Ne saisissez jamais le numéro complet de votre carte bancaire : il permettrait de payer à votre "
                   "place. Indiquez seulement ses 4 derniers chiffres.")


# --- numbers -------------------------------------------------------------------------------------------------

def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_DIGIT_RUN = re.compile(r"\d[\d \-.]{11,30}\d")


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds what looks like a full card number: 16 to 19 digits passing the Luhn check.

    (15 digits are left alone: an IMEI has 15 and passes the same check.)
    """
    for run in _DIGIT_RUN.findall(text or ""):
        digits = re.sub(r"\D", "", run)
        if 16 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def scrub(value: str) -> str:
    """``value`` to show back in a form, or "" when it holds a full card number (never echoed)."""
    digits = _digits(value)
    if contains_card_number(value) or (digits.isdigit() and 16 <= len(digits) <= 19):
        return ""
    return value


def _digits(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "")


# --- validation ------------------------------------------------------------------------------------------------

@dataclass
class StepResult:
    values: dict
    errors: dict[str, str]  # field id -> message, in page order

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form, name: str, limit: int) -> str:
    return " ".join(str(form.get(name, "") or "").split())[: limit + 1]


def validate_facts(form) -> StepResult:
    code = str(form.get("offence", "") or "")
    if not offences.allowed(KIND, code):
        return StepResult({}, {"offence": "Choisissez ce qui vous est arrivé."})
    return StepResult({"offence": code}, {})


def validate_dates(form, now: datetime | None = None) -> StepResult:
    """Start and end of the period the facts happened in, Paris time: not in the future, end after start."""
    now_local = (now or datetime.now(UTC)).astimezone(PARIS).replace(tzinfo=None)
    errors: dict[str, str] = {}
    raw = {name: str(form.get(name, "") or "").strip()[:20]
           for name in ("start_date", "start_time", "end_date", "end_time")}
    parsed_dates = {}
    for name, what in (("start_date", "de début"), ("end_date", "de fin")):
        if not raw[name]:
            errors[name] = f"Indiquez la date {what}, par exemple 14/03/2025."
            continue
        parsed = parse_date(raw[name])
        if parsed is None or parsed.year < 1900:
            errors[name] = f"La date {what} doit être une vraie date, par exemple 14/03/2025."
        else:
            parsed_dates[name] = parsed
    parsed_times = {}
    for name, what in (("start_time", "de début"), ("end_time", "de fin")):
        if not raw[name]:
            errors[name] = f"Indiquez l’heure {what}, par exemple 18:30. Si vous ne la connaissez pas, " \
                           "indiquez la période la plus courte possible (par exemple 00:00 à 23:59)."
            continue
        parsed = parse_time(raw[name])
        if parsed is None:
            errors[name] = f"L’heure {what} doit être au format heures:minutes, par exemple 18:30."
        else:
            parsed_times[name] = parsed
    start = end = None
    if "start_date" in parsed_dates and "start_time" in parsed_times:
        start = datetime.combine(parsed_dates["start_date"], parsed_times["start_time"])
        if start > now_local:
            errors["start_date"] = "Le début des faits ne peut pas être dans le futur."
    if "end_date" in parsed_dates and "end_time" in parsed_times:
        end = datetime.combine(parsed_dates["end_date"], parsed_times["end_time"])
        if end > now_local:
            errors["end_date"] = "La fin des faits ne peut pas être dans le futur."
    if start and end and end < start and "end_date" not in errors:
        errors["end_date"] = "La fin des faits doit être après leur début."
    order = ["start_date", "start_time", "end_date", "end_time"]
    errors = {name: errors[name] for name in order if name in errors}
    values = {}
    if not errors:
        values = {"start_date": start.date().isoformat(), "start_time": start.strftime("%H:%M"),
                  "end_date": end.date().isoformat(), "end_time": end.strftime("%H:%M")}
    return StepResult(values, errors)


def validate_place(session: Session, form) -> tuple[StepResult, list]:
    """The commune, resolved by the station finder; returns also its suggestions when it is ambiguous or unknown."""
    from maps import services as maps
    from maps.places import DepartmentQuery, MalformedPlace, PlaceError

    commune = _text(form, "commune", 100)
    address = _text(form, "address", MAX_ADDRESS)
    errors: dict[str, str] = {}
    suggestions: list = []
    values: dict = {}
    if not commune:
        errors["commune"] = "Indiquez la commune où les faits ont eu lieu, par exemple Le Mans ou 72000."
    else:
        try:
            found = maps.find(session, commune, limit=UNIT_CHOICES)
        except DepartmentQuery as exc:
            errors["commune"] = exc.message
        except PlaceError as exc:
            errors["commune"] = exc.message
            suggestions = exc.suggestions
        except MalformedPlace as exc:
            errors["commune"] = str(exc)
        else:
            place = found.place
            if place.code_insee is None:
                errors["commune"] = "Indiquez une commune ou un code postal, pas une position."
            else:
                values = {"commune_query": commune, "commune_label": place.label,
                          "code_insee": place.code_insee, "department": place.department or ""}
                suggestions = list(place.alternatives)
    if len(address) > MAX_ADDRESS:
        errors["address"] = f"L’adresse doit faire {MAX_ADDRESS} caractères au plus."
    elif contains_card_number(address):
        errors["address"] = PAN_EXPLANATION
    if errors:
        return StepResult({}, errors), suggestions
    values["address"] = address
    return StepResult(values, {}), suggestions


def item_rows(form) -> list[dict]:
    """The item rows of the "objets" form: item-1-type, item-1-description…"""
    rows = []
    for index in range(1, MAX_ITEMS + 1):
        row = {field: str(form.get(f"item-{index}-{field}", "") or "").strip()[:MAX_SHORT + 40]
               for field in ITEM_FIELDS}
        rows.append(row)
    return rows


def validate_items(form) -> StepResult:
    errors: dict[str, str] = {}
    items = []
    for index, row in enumerate(item_rows(form), start=1):
        if not any(row[field] for field in ITEM_FIELDS if field != "type"):
            continue  # an empty row, even with a type chosen, is ignored
        prefix = f"item-{index}-"
        if row["type"] not in ITEM_TYPES:
            errors[prefix + "type"] = f"Objet {index} : choisissez le type d’objet."
        for field, label in (("description", "la description"), ("brand", "la marque et le modèle"),
                             ("serial", "le numéro de série")):
            if len(row[field]) > MAX_SHORT:
                errors[prefix + field] = f"Objet {index} : {label} doit faire {MAX_SHORT} caractères au plus."
            elif contains_card_number(row[field]):
                errors[prefix + field] = f"Objet {index} : {PAN_EXPLANATION}"
        imei = _digits(row["imei"])
        if imei:
            if not imei.isdigit() or len(imei) != 15:
                errors[prefix + "imei"] = (f"Objet {index} : le numéro IMEI compte 15 chiffres (tapez *#06# sur "
                                           "le téléphone, ou regardez sur sa boîte ou sa facture).")
            elif not luhn_valid(imei):
                errors[prefix + "imei"] = (f"Objet {index} : ce numéro IMEI n’est pas valide : vérifiez chaque "
                                           "chiffre (sa boîte ou sa facture l’indique aussi).")
        card = _digits(row["card_last4"])
        if card:
            if card.isdigit() and len(card) >= 12:
                errors[prefix + "card_last4"] = f"Objet {index} : {PAN_EXPLANATION}"
            elif not card.isdigit() or len(card) != 4:
                errors[prefix + "card_last4"] = (f"Objet {index} : indiquez les 4 derniers chiffres de la carte, "
                                                 "par exemple 4821.")
        items.append({"type": row["type"], "description": row["description"], "brand": row["brand"],
                      "serial": row["serial"], "imei": imei, "card_last4": card})
    if errors:
        return StepResult({}, errors)
    return StepResult({"items": items}, {})


def validate_narrative(form) -> StepResult:
    narrative = str(form.get("narrative", "") or "").replace("\r\n", "\n").strip()
    if len(narrative) > MAX_NARRATIVE:
        return StepResult({}, {"narrative": f"Votre récit doit faire {MAX_NARRATIVE} caractères au plus "
                                            f"(il en fait {len(narrative)})."})
    if contains_card_number(narrative):
        return StepResult({}, {"narrative": PAN_EXPLANATION})
    return StepResult({"narrative": narrative}, {})


def unit_choices(session: Session, draft: dict) -> list:
    """The units nearest to the commune of the facts (station finder), as ``maps.services.Nearby``-like rows."""
    from maps import services as maps
    from maps.places import MalformedPlace, PlaceError

    query = draft.get("commune_query")
    if not query:
        return []
    try:
        found = maps.find(session, query, limit=UNIT_CHOICES)
    except (PlaceError, MalformedPlace):
        return []
    if found.nearby:
        return [(n.station, n.distance_km) for n in found.nearby]
    return [(s, None) for s in found.department_units[:UNIT_CHOICES * 2]]


def validate_unit(session: Session, form, draft: dict) -> StepResult:
    chosen = str(form.get("unit_id", "") or "")
    if chosen not in {station.id for station, _ in unit_choices(session, draft)}:
        return StepResult({}, {"unit_id": "Choisissez l’unité qui traitera votre plainte."})
    return StepResult({"unit_id": chosen}, {})


def validate_step(session: Session, step: str, form, draft: dict,
                  now: datetime | None = None) -> tuple[StepResult, list]:
    """Validate one step; the list is the place suggestions (only for "lieu")."""
    if step == "faits":
        return validate_facts(form), []
    if step == "date":
        return validate_dates(form, now), []
    if step == "lieu":
        return validate_place(session, form)
    if step == "objets":
        return validate_items(form), []
    if step == "recit":
        return validate_narrative(form), []
    if step == "unite":
        return validate_unit(session, form, draft), []
    raise KeyError(step)


def step_complete(step: str, draft: dict) -> bool:
    needed = {"faits": ("offence",), "date": ("start_date", "end_date"), "lieu": ("code_insee",),
              "objets": ("items",), "recit": ("narrative",), "unite": ("unit_id",)}[step]
    return all(key in draft for key in needed)


def first_incomplete(draft: dict) -> str | None:
    for step in STEP_SLUGS:
        if not step_complete(step, draft):
            return step
    return None


def next_step(step: str) -> str:
    index = STEP_SLUGS.index(step)
    return STEP_SLUGS[index + 1] if index + 1 < len(STEP_SLUGS) else SUMMARY


def previous_step(step: str) -> str | None:
    index = STEP_SLUGS.index(step) if step in STEP_SLUGS else len(STEP_SLUGS)
    return STEP_SLUGS[index - 1] if index > 0 else None


# --- drafts ----------------------------------------------------------------------------------------------------

def get_draft(session: Session, account_id: int, kind: str = KIND) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.account_id == account_id, Draft.kind == kind))


def save_draft(session: Session, account_id: int, values: dict, kind: str = KIND,
               now: datetime | None = None) -> Draft:
    """Merge ``values`` into the citizen's draft (created if needed); flushed, not committed."""
    now = now or datetime.now(UTC)
    draft = get_draft(session, account_id, kind)
    if draft is None:
        draft = Draft(account_id=account_id, kind=kind, data={}, created_at=now, updated_at=now)
        session.add(draft)
    data = dict(draft.data or {})
    for key, value in values.items():
        if value is None:
            data.pop(key, None)  # None removes an answer (the unit, when the commune changes)
        else:
            data[key] = value
    draft.data = data
    draft.updated_at = now
    session.flush()
    return draft


def delete_draft(session: Session, account_id: int, kind: str = KIND) -> bool:
    result = session.execute(delete(Draft).where(Draft.account_id == account_id, Draft.kind == kind))
    return bool(result.rowcount)


# --- submission ------------------------------------------------------------------------------------------------

class NothingToSubmit(Exception):
    """No draft (already submitted, or never started)."""


class Incomplete(Exception):
    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


def identity_snapshot(identity: Identity | None) -> dict:
    return identity.to_session() if identity else {}


def submit(session: Session, account_id: int, identity: Identity | None, now: datetime | None = None) -> Case:
    """Turn the citizen's draft into a case, in one write transaction of its own (committed).

    The draft is deleted in the same transaction, by a DELETE whose row count
    says whether this call won: a double click, or two processes, create one
    case only (the other raises NothingToSubmit).
    """
    now = now or datetime.now(UTC)
    draft = get_draft(session, account_id)
    if draft is None:
        raise NothingToSubmit()
    data = dict(draft.data or {})
    draft_id = draft.id
    missing = first_incomplete(data)
    if missing:
        raise Incomplete(missing)
    details = {key: data.get(key) for key in ("offence", "start_date", "start_time", "end_date", "end_time",
                                               "commune_label", "code_insee", "department", "address", "items",
                                               "narrative")}
    verified = bool(identity and identity.verified)
    with write_transaction(session):
        gone = session.execute(delete(Draft).where(Draft.id == draft_id)).rowcount
        if not gone:
            raise NothingToSubmit()
        case = Case(reference=new_reference(KIND, now), kind=KIND, status="deposee", offence=data["offence"],
                    account_id=account_id, unit_id=data["unit_id"], identity_verified=verified,
                    identity=identity_snapshot(identity), details=details, created_at=now, updated_at=now)
        session.add(case)
        record_event(session, case, "citizen", "deposee", now=now)
        session.flush()
        reference = case.reference
    return session.scalar(select(Case).where(Case.reference == reference))


def acknowledgement(case: Case, unit_name: str) -> tuple[str, str]:
    """Subject and body of the e-mail sent at submission: the reference and what comes next, no detail of the facts."""
    subject = f"Plainte en ligne déposée : {case.reference}"
    body = (
        "Bonjour,\n\n"
        f"Votre plainte en ligne a bien été déposée sous la référence {case.reference}.\n\n"
        f"Elle sera traitée par : {unit_name}.\n\n"
        "Et ensuite ?\n"
        "- Un policier ou un gendarme examine votre plainte, en général sous 48 heures.\n"
        "- Il peut vous demander un complément d’information ou vous inviter à vous présenter à l’unité.\n"
        "- Vous suivez votre dossier, son historique et ses messages dans « Mon espace » sur le Portail citoyen, "
        "où vous pouvez aussi télécharger votre récépissé.\n\n"
        + ("" if case.identity_verified else
           "Votre identité n’a pas été vérifiée par FranceConnect : vous devrez la confirmer à l’unité, muni "
           "d’une pièce d’identité.\n\n")
        + "Par sécurité, ce message ne reprend pas le détail de votre plainte.\n"
        "En cas d’urgence, appelez le 17 ou le 112.\n"
    )
    return subject, body


# --- reading a complaint back ------------------------------------------------------------------------------------

def _date_text(iso_date: str | None, hhmm: str | None) -> str:
    try:
        day = date.fromisoformat(iso_date or "")
    except ValueError:
        return ""
    return f"{day.strftime('%d/%m/%Y')} à {(hhmm or '').replace(':', ' h ')}".strip()


def item_text(item: dict) -> str:
    parts = [ITEM_TYPES.get(item.get("type", ""), "Objet")]
    for key, label in (("description", ""), ("brand", "marque et modèle : "), ("serial", "numéro : "),
                       ("imei", "IMEI : "), ("card_last4", "carte se terminant par ")):
        if item.get(key):
            parts.append(f"{label}{item[key]}")
    return " — ".join(parts)


def describe(details: dict, unit_name: str | None = None) -> list[dict]:
    """The answers as sections of (label, text) rows, for the summary, the case page, the receipt and the export."""
    details = details or {}
    items = details.get("items") or []
    sections = [
        {"step": "faits", "title": "Les faits", "rows": [("Infraction", offences.label(details.get("offence")))]},
        {"step": "date", "title": "La date et l’heure", "rows": [
            ("Début", _date_text(details.get("start_date"), details.get("start_time"))),
            ("Fin", _date_text(details.get("end_date"), details.get("end_time")))]},
        {"step": "lieu", "title": "Le lieu", "rows": [
            ("Commune", details.get("commune_label", "")),
            ("Précisions", details.get("address") or "Non renseignées")]},
        {"step": "objets", "title": "Ce qui a été volé ou abîmé", "rows": [
            (f"Objet {i}", item_text(item)) for i, item in enumerate(items, 1)] or [("Objets", "Aucun indiqué")]},
        {"step": "recit", "title": "Votre récit", "rows": [("Récit", details.get("narrative") or "Aucun")]},
    ]
    if unit_name is not None:
        sections.append({"step": "unite", "title": "L’unité qui traitera votre plainte",
                         "rows": [("Unité", unit_name)]})
    return sections
