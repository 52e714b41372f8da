"""Read access to the catalogue for the views, the API and the search indexer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from catalogue.models import LifeEvent, LifeEventProcedure, Procedure, RelatedProcedure

SERVICE_PUBLIC_FICHE_URL = "https://www.service-public.fr/particuliers/vosdroits/{}"


def entry_url(entry: Procedure | None = None, *, kind: str | None = None, slug: str | None = None,
              external: bool = False) -> str:
    """The address of a catalogue entry: a procedure's page or a fiche's (needs an app context)."""
    kind = kind or entry.kind
    slug = slug or entry.slug
    endpoint = "catalogue.procedure" if kind == "procedure" else "catalogue.fiche"
    return url_for(endpoint, slug=slug, _external=external)


# The sections of a procedure's page, in order: (heading, field); each field is restricted Markdown.
SECTIONS = (
    ("Pour qui ?", "for_whom"),
    ("Dans quels cas ?", "conditions"),
    ("Comment faire ?", "steps"),
    ("Ce qu'il faut préparer", "documents"),
    ("Délais et coût", "delays_cost"),
)


def sections(entry: Procedure) -> list[tuple[str, str | None]]:
    """The page's sections with their text (the procedure page and the editors' preview)."""
    return [(heading, getattr(entry, field)) for heading, field in SECTIONS]


def published(session: Session, slug: str) -> Procedure | None:
    return session.scalars(
        select(Procedure)
        .where(Procedure.slug == slug, Procedure.status == "published")
        .options(
            selectinload(Procedure.institution),
            selectinload(Procedure.related_links).selectinload(RelatedProcedure.related),
            selectinload(Procedure.life_event_links).selectinload(LifeEventProcedure.life_event),
        )
    ).first()


def sensitive_slugs(session: Session, slugs: Iterable[str]) -> set[str]:
    """Those of ``slugs`` that are published entries about violence (their pages get the quick exit)."""
    wanted = set(slugs)
    if not wanted:
        return set()
    return set(session.scalars(
        select(Procedure.slug).where(
            Procedure.slug.in_(wanted), Procedure.status == "published", Procedure.sensitive.is_(True)
        )
    ))


def own_procedures(session: Session) -> list[Procedure]:
    """The portal's own published procedures, by title."""
    return list(
        session.scalars(
            select(Procedure)
            .where(Procedure.kind == "procedure", Procedure.status == "published")
            .order_by(Procedure.title)
        )
    )


def retired(session: Session, slug: str) -> Procedure | None:
    """A procedure editors withdrew: its address says where to go instead (never a hidden fiche)."""
    return session.scalars(
        select(Procedure).where(Procedure.slug == slug, Procedure.status == "retired")
    ).first()


def life_events(session: Session) -> list[LifeEvent]:
    """The life events citizens are offered (not the retired ones), in the editors' order."""
    return list(session.scalars(
        select(LifeEvent).where(LifeEvent.status == "published").order_by(LifeEvent.position)
    ))


def life_event(session: Session, slug: str) -> LifeEvent | None:
    """A life event, published or retired (the page of a retired one says so, with a 410)."""
    return session.scalars(
        select(LifeEvent)
        .where(LifeEvent.slug == slug)
        .options(selectinload(LifeEvent.procedure_links).selectinload(LifeEventProcedure.procedure))
    ).first()


def _published_order():
    # The portal's own procedures first, then fiches; a stable order for paging.
    return (case((Procedure.kind == "procedure", 0), else_=1), Procedure.slug)


def published_page(session: Session, page: int, per_page: int) -> tuple[list[Procedure], bool]:
    """One page of every published entry, and whether another page follows."""
    rows = list(
        session.scalars(
            select(Procedure)
            .where(Procedure.status == "published")
            .order_by(*_published_order())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def iter_published(session: Session, batch: int = 500) -> Iterator[Procedure]:
    """Every published entry, streamed in batches so a full index build stays small in memory."""
    offset = 0
    while True:
        rows = list(
            session.scalars(
                select(Procedure)
                .where(Procedure.status == "published")
                .order_by(*_published_order())
                .offset(offset)
                .limit(batch)
            )
        )
        yield from rows
        if len(rows) < batch:
            return
        offset += batch
        session.expunge_all()


def fingerprint(session: Session) -> str:
    """Identifies the published catalogue's content; the same content gives the same value."""
    digest = hashlib.sha256()
    rows = session.execute(
        select(Procedure.slug, Procedure.content_hash)
        .where(Procedure.status == "published")
        .order_by(Procedure.slug)
    )
    for slug, content_hash in rows:
        digest.update(f"{slug}:{content_hash}\n".encode())
    return digest.hexdigest()


def published_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Procedure).where(Procedure.status == "published")) or 0


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None
    date: date | None = None
    publisher: str | None = None


def resolve_sources(session: Session, sources: list[dict[str, str]]) -> list[Source]:
    """Turn the content files' source references into what a reader sees."""
    ids = [s["fiche"] for s in sources if s.get("fiche")]
    fiches = {
        p.slug: p for p in session.scalars(select(Procedure).where(Procedure.slug.in_(ids)))
    } if ids else {}
    out = []
    for s in sources:
        if s.get("fiche"):
            fiche = fiches.get(s["fiche"])
            out.append(
                Source(
                    title=fiche.title if fiche else f"Fiche {s['fiche']}",
                    url=(fiche.source_url if fiche else None)
                    or SERVICE_PUBLIC_FICHE_URL.format(s["fiche"]),
                    date=fiche.source_date if fiche else None,
                    publisher="Service-Public.fr / DILA",
                )
            )
        else:
            out.append(Source(title=s.get("title", ""), url=s.get("url")))
    return out
