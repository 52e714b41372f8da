"""Read-only lists for the back office's pages: what exists, its state, who did what. Nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from agents.models import Agent
from catalogue.models import LifeEvent, LifeEventProcedure, Procedure, RelatedProcedure
from editorial.models import OPEN_STATES, Revision
from search.models import SearchRule

FICHES_PER_PAGE = 50
# Reviewers look at what waits for them first.
STATE_ORDER = ("submitted", "approved", "scheduled", "rejected", "draft")


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE, the user's own % and _ taken literally (escape character "\\")."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def agent_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Agent id → the name colleagues know them by (their e-mail when they have none)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(Agent.id, Agent.display_name, Agent.email).where(Agent.id.in_(wanted)))
    return {row.id: row.display_name or row.email for row in rows}


def revision_people(revisions: Iterable[Revision]) -> set[int]:
    """Every agent a list of revisions names (for one ``agent_names`` query)."""
    ids: set[int] = set()
    for rev in revisions:
        ids.update(i for i in (rev.created_by_id, rev.updated_by_id, rev.submitted_by_id, rev.reviewed_by_id,
                               rev.published_by_id) if i)
    return ids


def open_revisions(session: Session, entity_type: str | None = None) -> list[Revision]:
    """Every open revision (draft to scheduled), most recently changed first."""
    query = select(Revision).where(Revision.state.in_(OPEN_STATES)).order_by(Revision.updated_at.desc())
    if entity_type:
        query = query.where(Revision.entity_type == entity_type)
    return list(session.scalars(query))


def by_state(revisions: list[Revision]) -> list[tuple[str, list[Revision]]]:
    """(state, revisions) in the order a dashboard shows them, "À relire" first; empty states left out."""
    groups = [(state, [r for r in revisions if r.state == state]) for state in STATE_ORDER]
    return [(state, rows) for state, rows in groups if rows]


def _latest_published(session: Session, entity_type: str) -> dict[str, Revision]:
    rows = session.scalars(select(Revision).where(Revision.entity_type == entity_type,
                                                  Revision.state == "published"))
    return {rev.entity_key: rev for rev in rows}


def _open_by_key(session: Session, entity_type: str) -> dict[str, Revision]:
    return {rev.entity_key: rev for rev in open_revisions(session, entity_type)}


@dataclass(frozen=True)
class ContentRow:
    """One line of a list: the live row's key, title and status, its published revision and its open one."""

    key: str
    title: str
    status: str | None  # None: a new entity, never published (it exists only as a revision)
    published: Revision | None
    open: Revision | None
    rule_kind: str | None = None  # a search rule's kind (synonym, best_bet, worst_bet)


def content_rows(session: Session, entity_type: str, text: str = "",
                 title_of=None) -> list[ContentRow]:
    """The portal's own procedures, or the life events, or the search rules, with their revisions' state.

    New entities that exist only as an open revision are listed too. ``text`` filters on the title (or a
    rule's terms); ``title_of(entity_type, key, data)`` names a new entity from its draft.
    """
    published = _latest_published(session, entity_type)
    opened = _open_by_key(session, entity_type)
    needle = text.strip().lower()
    rows: list[ContentRow] = []
    kinds: dict[str, str] = {}
    if entity_type == "procedure":
        query = select(Procedure.slug, Procedure.title, Procedure.status).where(Procedure.kind == "procedure")
        if needle:
            query = query.where(or_(Procedure.title.ilike(like_pattern(needle), escape="\\"),
                                    Procedure.slug.ilike(like_pattern(needle), escape="\\")))
        live = [(slug, title, status) for slug, title, status in session.execute(query.order_by(Procedure.title))]
    elif entity_type == "life_event":
        query = select(LifeEvent.slug, LifeEvent.title, LifeEvent.status)
        if needle:
            query = query.where(or_(LifeEvent.title.ilike(like_pattern(needle), escape="\\"),
                                    LifeEvent.slug.ilike(like_pattern(needle), escape="\\")))
        live = [(slug, title, status) for slug, title, status in session.execute(query.order_by(LifeEvent.position))]
    else:
        live = []
        for rule in session.scalars(select(SearchRule).order_by(SearchRule.kind, SearchRule.key)):
            label = ", ".join(rule.terms)
            if needle and needle not in label.lower() and needle not in rule.key.lower():
                continue
            live.append((rule.key, label, rule.status))
            kinds[rule.key] = rule.kind
    seen = {key for key, _, _ in live}
    for key, title, status in live:
        rows.append(ContentRow(key, title, status, published.get(key), opened.get(key), kinds.get(key)))
    for key, rev in opened.items():
        if key in seen:
            continue
        title = title_of(entity_type, key, rev.data) if title_of else key
        if needle and needle not in title.lower() and needle not in key.lower():
            continue
        rows.append(ContentRow(key, title, None, None, rev, (rev.data or {}).get("kind")))
    return rows


def entity_status(session: Session, entity_type: str, key: str) -> str | None:
    """The live row's status ("published", "retired"…), None when it does not exist (yet)."""
    if entity_type == "procedure":
        return session.scalar(select(Procedure.status).where(Procedure.slug == key, Procedure.kind == "procedure"))
    if entity_type == "life_event":
        return session.scalar(select(LifeEvent.status).where(LifeEvent.slug == key))
    return session.scalar(select(SearchRule.status).where(SearchRule.key == key))


# --- Fiches (service-public.fr) -----------------------------------------------------------------------

@dataclass(frozen=True)
class FichePage:
    rows: list[Procedure]
    total: int
    page: int
    pages: int


def fiches(session: Session, text: str = "", page: int = 1) -> FichePage:
    """Imported fiches whose title contains ``text`` or whose id is ``text`` (F1435), by title, a page at a time."""
    query = select(Procedure).where(Procedure.kind == "fiche")
    needle = text.strip()
    if needle:
        query = query.where(or_(Procedure.title.ilike(like_pattern(needle), escape="\\"),
                                func.upper(Procedure.slug) == needle.upper()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // FICHES_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = list(session.scalars(query.order_by(Procedure.title, Procedure.slug)
                                .offset((page - 1) * FICHES_PER_PAGE).limit(FICHES_PER_PAGE)))
    return FichePage(rows, total, page, pages)


def fiche(session: Session, slug: str) -> Procedure | None:
    return session.scalar(select(Procedure).where(Procedure.slug == slug, Procedure.kind == "fiche"))


def fiche_attachments(session: Session, fiche_row: Procedure) -> tuple[list[Procedure], list[LifeEvent]]:
    """The procedures that list the fiche in "Voir aussi" and the life events that list it."""
    procedures = list(session.scalars(
        select(Procedure).join(RelatedProcedure, RelatedProcedure.procedure_id == Procedure.id)
        .where(RelatedProcedure.related_id == fiche_row.id).order_by(Procedure.title)))
    events = list(session.scalars(
        select(LifeEvent).join(LifeEventProcedure, LifeEventProcedure.life_event_id == LifeEvent.id)
        .where(LifeEventProcedure.procedure_id == fiche_row.id).order_by(LifeEvent.position)))
    return procedures, events


def attach_targets(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(slug, title) of the procedures and of the life events a fiche can be attached to."""
    procedures = session.execute(select(Procedure.slug, Procedure.title)
                                 .where(Procedure.kind == "procedure", Procedure.status == "published")
                                 .order_by(Procedure.title))
    events = session.execute(select(LifeEvent.slug, LifeEvent.title)
                             .where(LifeEvent.status == "published").order_by(LifeEvent.position))
    return [(s, t) for s, t in procedures], [(s, t) for s, t in events]


def procedure_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, title) of every published procedure: a retired one's replacement is chosen among them."""
    return attach_targets(session)[0]
