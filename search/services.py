"""The search service: from the catalogue to the index, and from a query to results.

The database is the source of truth and the index a rebuildable cache. The
index records the catalogue fingerprint it was built from; ``ensure_index``
rebuilds only when that fingerprint or the index format changed.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.orm import Session

from catalogue import services as catalogue
from catalogue.models import Procedure
from search.engine import Document, SearchEngine, SearchResults, clean_query
from search.vocabulary import load_best_bets, load_synonyms
from search.whoosh_engine import WhooshEngine

# A fiche is one source among thousands; the portal's own procedure on the same
# need is the answer a citizen is looking for (docs/search.md).
KIND_BOOSTS = {"procedure": 4.0, "fiche": 1.0}
# Resources (forms, online services, models) and folders list other pages
# more than they answer a question.
FICHE_TYPE_BOOSTS = {
    "Dossier": 0.6,
    "Theme": 0.5,
    "Formulaire": 0.6,
    "Téléservice": 0.7,
    "Modèle de document": 0.5,
    "Simulateur": 0.6,
    "Outil de recherche": 0.5,
}
# A service that no longer exists still answers "pré-plainte", but never before
# the service that replaced it.
SUPERSEDED_BOOST = 0.3


def document_boost(entry: Procedure) -> float:
    boost = KIND_BOOSTS.get(entry.kind, 1.0)
    if entry.is_fiche:
        boost *= FICHE_TYPE_BOOSTS.get(entry.fiche_type or "", 1.0)
    if entry.superseded_by:
        boost *= SUPERSEDED_BOOST
    return boost


def document_for(entry: Procedure) -> Document:
    return Document(
        slug=entry.slug,
        kind=entry.kind,
        title=entry.title,
        summary=entry.summary,
        body=entry.full_text(),
        keywords=tuple(entry.keywords),
        context=tuple(entry.breadcrumb),
        boost=document_boost(entry),
    )


def init_app(app: Flask) -> None:
    app.extensions["search"] = WhooshEngine(
        Path(app.config["SEARCH_INDEX_DIR"]), load_synonyms(), load_best_bets()
    )


def engine() -> SearchEngine:
    return current_app.extensions["search"]


@dataclass(frozen=True)
class BuildReport:
    rebuilt: bool
    documents: int
    seconds: float


def index_fingerprint(session: Session) -> str:
    """The catalogue's content and the document boosts: the index is stale if either changed."""
    boosts = repr((KIND_BOOSTS, sorted(FICHE_TYPE_BOOSTS.items()), SUPERSEDED_BOOST))
    return hashlib.sha256(f"{catalogue.fingerprint(session)}:{boosts}".encode()).hexdigest()


def ensure_index(session: Session, search_engine: SearchEngine, force: bool = False) -> BuildReport:
    """Rebuild the index if it is missing, stale or of an older format."""
    fingerprint = index_fingerprint(session)
    status = search_engine.status()
    if not force and status.is_current(fingerprint):
        return BuildReport(rebuilt=False, documents=status.documents, seconds=0.0)
    started = time.perf_counter()
    search_engine.rebuild(
        (document_for(entry) for entry in catalogue.iter_published(session)), fingerprint
    )
    return BuildReport(
        rebuilt=True, documents=search_engine.status().documents,
        seconds=time.perf_counter() - started,
    )


def search(query: str, *, limit: int = 10, offset: int = 0) -> SearchResults:
    return engine().search(clean_query(query), limit=limit, offset=offset)
