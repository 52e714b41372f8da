"""The audit log: who did what, when, to which object. Append-only (the database refuses changes).

An entry names its object by type and reference only ("case", "PL-2026-…"):
never a complaint's text, an identity, a password, a code or a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.models import Agent, AuditEvent

# Short codes, never free text: "case.read", "login.failed"…
ACTION = re.compile(r"[a-z][a-z_]*(\.[a-z_]+)*")

# How the journal names the actions it knows (others are shown as their code).
ACTION_LABELS = {
    "login.ok": "Connexion réussie",
    "login.failed": "Connexion refusée",
    "login.refused": "Connexion ProConnect refusée (aucun agent actif, ou sans code à 6 chiffres)",
    "login.locked": "Compte verrouillé",
    "logout": "Déconnexion",
    "agent.create": "Agent créé",
    "case.read": "Dossier consulté",
    "case.take": "Dossier pris en charge",
    "case.request_info": "Complément demandé",
    "case.close": "Dossier clôturé",
    "statement.send": "Procès-verbal envoyé",
    "slot.publish": "Créneaux publiés",
    "slot.remove": "Créneau retiré de l'agenda",
    "content.draft": "Brouillon enregistré",
    "content.submit": "Envoyé en relecture",
    "content.approve": "Approuvé",
    "content.reject": "Renvoyé au rédacteur",
    "content.publish": "Publié",
    "content.schedule": "Publication programmée",
    "content.unschedule": "Programmation annulée",
    "content.abandon": "Brouillon abandonné",
    "content.restore": "Ancienne version restaurée en brouillon",
    "content.retire": "Retrait préparé",
    "fiche.hide": "Fiche masquée",
    "fiche.show": "Fiche de nouveau affichée",
    "analytics.export": "Statistiques de recherche exportées",
    "mairie.register": "Mairie inscrite pour les widgets",
    "mairie.update": "Inscription de mairie modifiée (nom, contact ou origines)",
    "mairie.activate": "Inscription de mairie réactivée",
    "mairie.deactivate": "Inscription de mairie désactivée",
    "mairie.remove": "Inscription de mairie supprimée",
}
# How the journal names the objects (``target_type``): never the code itself.
TARGET_LABELS = {
    "case": "Dossier",
    "hearing_slot": "Créneau n°",
    "unit": "Unité",
    "agent": "Agent n°",
    "proconnect": "Agent n°",  # a sign-in through ProConnect: the agent's number, "(par ProConnect)" after it
    "procedure": "Démarche",
    "life_event": "Situation",
    "search_rule": "Règle de recherche",
    "fiche": "Fiche",
    "revision": "Révision n°",
    "analytics": "Statistiques",
    "mairie": "Mairie de la commune",
}
PAGE_SIZE = 50


def target_text(target_type: str, target_id: str, unit_names: dict[str, str]) -> str:
    """The object of an entry in French: "Dossier PEL-2026-…", "Agent n° 12", a unit by its name; "—" for none."""
    if not target_id:
        return "—"
    if target_type == "unit":
        return unit_names.get(target_id, target_id)
    text = f"{TARGET_LABELS.get(target_type, 'Objet')} {target_id}"
    return f"{text} (par ProConnect)" if target_type == "proconnect" else text


def unit_names(db_session: Session, entries: list[AuditEvent]) -> dict[str, str]:
    """Unit id → name for the units a page of entries mentions (as their unit or as their object)."""
    from maps.services import station_names

    ids = {e.unit_id for e in entries} | {e.target_id for e in entries if e.target_type == "unit"}
    return station_names(db_session, ids)


def record(db_session: Session, agent: Agent | None, action: str, target_type: str = "", target_id: str = "",
           unit_id: str = "", now: datetime | None = None) -> AuditEvent:
    """Append one entry, flushed with the caller's transaction (it is kept only if the caller commits).

    ``unit_id`` defaults to the agent's unit.
    """
    if not ACTION.fullmatch(action) or len(action) > 60:
        raise ValueError(f"audit action must be a short code, not {action!r}")
    event = AuditEvent(
        at=now or datetime.now(UTC),
        agent_id=agent.id if agent is not None else None,
        agent_email=agent.email if agent is not None else "",
        action=action,
        target_type=target_type[:40],
        target_id=str(target_id)[:80],
        unit_id=(unit_id or (agent.unit_id if agent is not None else "") or "")[:60],
    )
    db_session.add(event)
    db_session.flush()
    return event


@dataclass
class Page:
    events: list[AuditEvent]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def events(db_session: Session, action: str = "", target: str = "", page: int = 1) -> Page:
    """Entries newest first, PAGE_SIZE a page, optionally of one action and/or one target (its reference)."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if target:
        query = query.where(AuditEvent.target_id == target)
    total = db_session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db_session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return Page(list(rows), page, total)


def known_actions(db_session: Session) -> list[str]:
    """The actions present in the log, for the journal's filter."""
    return sorted(set(db_session.scalars(select(AuditEvent.action).distinct())) | set(ACTION_LABELS))
