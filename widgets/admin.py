"""Registering mairies and their sites' origins: what administrators do in /agents/mairies.

Plain functions over a session: they check, change, flush and write the audit log; they never commit
nor read ``request``. The caller commits, then calls ``widgets.registry.invalidate()`` so that this
process sees the change at once (other workers within ``WIDGET_ORIGINS_CACHE_SECONDS``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from agents import audit
from agents.models import Agent
from maps.models import Commune
from maps.places import CODE_INSEE
from portal.errors import Refused
from widgets import services
from widgets.models import Mairie, MairieOrigin
from widgets.registry import OriginError, normalize_origin

MAX_ORIGINS = 10
NAME_MAX = 120
CONTACT_MAX = 254
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class InvalidMairie(Refused):
    """The form does not pass; ``errors`` maps each field to its French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("La mairie n'a pas été enregistrée : corrigez les champs signalés.",
                         field=next(iter(errors), None), status=400)
        self.errors = errors


def default_name(commune: str) -> str:
    """"Le Mans" → "Mairie du Mans", "Les Lilas" → "Mairie des Lilas", "Angers" → "Mairie d'Angers"."""
    return f"Mairie {services.of_commune(commune)}"


def parse_origins(text: str, allow_loopback: bool) -> list[str]:
    """One origin a line, normalised, duplicates removed, in the order typed; raises ``InvalidMairie``.

    A refusal names the line ("ligne 2 : …") so that the administrator finds it in a long list.
    """
    origins: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            origin = normalize_origin(line, allow_loopback=allow_loopback)
        except OriginError as error:
            raise InvalidMairie({"origins": f"Ligne {number} : {error}"}) from None
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise InvalidMairie({"origins": "Indiquez au moins une origine, par exemple https://www.mairie-exemple.fr."})
    if len(origins) > MAX_ORIGINS:
        raise InvalidMairie({"origins": f"{len(origins)} origines : une mairie en déclare au plus {MAX_ORIGINS}. "
                                        "Gardez les sites qui intègrent vraiment les widgets."})
    return origins


def _checked(name: str, contact: str, origins_text: str, allow_loopback: bool,
             errors: dict[str, str]) -> tuple[str, str, list[str]]:
    """The name, contact and origins as they will be stored; problems are added to ``errors``."""
    name, contact = " ".join((name or "").split()), (contact or "").strip()
    if len(name) > NAME_MAX:
        errors["name"] = f"Le nom compte au plus {NAME_MAX} caractères."
    if not contact:
        errors["contact"] = "Indiquez l'adresse électronique de service de la mairie qui a fait la demande."
    elif len(contact) > CONTACT_MAX or not EMAIL.match(contact):
        errors["contact"] = "Indiquez une adresse électronique valide, par exemple accueil@mairie-exemple.fr."
    origins: list[str] = []
    try:
        origins = parse_origins(origins_text, allow_loopback)
    except InvalidMairie as invalid:
        errors.update(invalid.errors)
    return name, contact, origins


def register(session: Session, agent: Agent | None, code_insee: str, name: str, contact: str, origins_text: str,
             allow_loopback: bool, now: datetime | None = None) -> Mairie:
    """A new registration for a commune (one per commune); raises ``InvalidMairie`` with every problem."""
    code = (code_insee or "").strip().upper()
    errors: dict[str, str] = {}
    commune = session.get(Commune, code) if CODE_INSEE.match(code) else None
    if commune is None:
        errors["code_insee"] = ("Aucune commune n'a ce code INSEE (5 caractères, par exemple 72181 pour Le Mans ; "
                                "ce n'est pas le code postal).")
    elif session.scalar(select(Mairie.id).where(Mairie.code_insee == code)) is not None:
        errors["code_insee"] = (f"La commune {commune.name} ({code}) a déjà une inscription : modifiez-la plutôt "
                                "que d'en créer une autre.")
    name, contact, origins = _checked(name, contact, origins_text, allow_loopback, errors)
    if errors:
        raise InvalidMairie(errors)
    now = now or datetime.now(UTC)
    mairie = Mairie(code_insee=code, name=name or default_name(commune.name), contact=contact, active=True,
                    created_at=now, updated_at=now, origins=[MairieOrigin(origin=o) for o in origins])
    session.add(mairie)
    session.flush()
    audit.record(session, agent, "mairie.register", "mairie", code, now=now)
    return mairie


def update(session: Session, agent: Agent | None, mairie: Mairie, name: str, contact: str, origins_text: str,
           allow_loopback: bool, now: datetime | None = None) -> bool:
    """Change a registration's name, contact and origins; False when nothing changed (no audit entry)."""
    errors: dict[str, str] = {}
    name, contact, origins = _checked(name, contact, origins_text, allow_loopback, errors)
    if errors:
        raise InvalidMairie(errors)
    commune = session.get(Commune, mairie.code_insee)
    name = name or default_name(commune.name if commune else mairie.code_insee)
    kept = {o.origin: o for o in mairie.origins}
    if name == mairie.name and contact == mairie.contact and set(origins) == set(kept):
        return False
    mairie.name, mairie.contact = name, contact
    for origin, row in kept.items():
        if origin not in origins:
            mairie.origins.remove(row)
    mairie.origins.extend(MairieOrigin(origin=o) for o in origins if o not in kept)
    mairie.updated_at = now or datetime.now(UTC)
    session.flush()
    audit.record(session, agent, "mairie.update", "mairie", mairie.code_insee, now=mairie.updated_at)
    return True


def set_active(session: Session, agent: Agent | None, mairie: Mairie, active: bool,
               now: datetime | None = None) -> bool:
    """Turn the widgets and the API's CORS on or off for the mairie's sites; False if it already was so."""
    if mairie.active == active:
        return False
    mairie.active = active
    mairie.updated_at = now or datetime.now(UTC)
    session.flush()
    if active:
        audit.record(session, agent, "mairie.activate", "mairie", mairie.code_insee, now=mairie.updated_at)
    else:
        audit.record(session, agent, "mairie.deactivate", "mairie", mairie.code_insee, now=mairie.updated_at)
    return True


def remove(session: Session, agent: Agent | None, mairie: Mairie, now: datetime | None = None) -> None:
    """Delete the registration and its origins; the audit log keeps its history."""
    code = mairie.code_insee
    session.delete(mairie)
    session.flush()
    audit.record(session, agent, "mairie.remove", "mairie", code, now=now)


def mairies(session: Session) -> list[tuple[Mairie, str]]:
    """Every registration with its commune's name, by commune name."""
    rows = session.execute(
        select(Mairie, Commune.name).join(Commune, Commune.code_insee == Mairie.code_insee)
        .options(selectinload(Mairie.origins)).order_by(Commune.name, Mairie.code_insee)
    ).all()
    return [(mairie, commune) for mairie, commune in rows]


def mairie(session: Session, mairie_id: int) -> Mairie | None:
    return session.get(Mairie, mairie_id)


def commune_name(session: Session, code_insee: str) -> str:
    commune = session.get(Commune, code_insee)
    return commune.name if commune else code_insee
