"""The search service: from the catalogue to the index, and from a query to results.

The database is the source of truth and the index a rebuildable cache. The
index records the fingerprint of the catalogue and of the tuning it was built
from; ``ensure_index`` rebuilds only when the catalogue's part or the index
format changed, and rewrites the tuning alone when only the rules changed.
Between two ``ensure``, the indexer (search.indexer, ``flask search worker``)
keeps the index in step from the outbox.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.orm import Session

from catalogue import services as catalogue
from catalogue.models import LifeEvent, Procedure
from portal import health, outbox
from portal.errors import error_response
from search import analytics
from search.engine import (
    INDEX_VERSION,
    Document,
    Hit,
    SearchEngine,
    SearchResults,
    SearchUnavailable,
    clean_query,
)
from search.highlight import highlight_words
from search.privacy import install_log_filter
from search.shortcuts import Shortcut, station_shortcut
from search.tuning import Tuning, current_tuning, tuning_with
from search.vocabulary import BestBets, Synonyms
from search.whoosh_engine import WhooshEngine

log = logging.getLogger(__name__)

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
# A query is as sensitive as where it leads (is_sensitive): its first result, a pinned best bet, or a
# page about violence that competes for first place, scoring at least SENSITIVE_SCORE_RATIO of the
# top score as the runner-up or as the first of the portal's own procedures (which the portal means
# as the answer; fiches may outrank it on a half-typed word: "mon mari me frap" finds a tax fiche
# on "frappé", then the page on domestic violence, the first procedure, at 0.75).
# Measured on the labelled queries and on hand-written phrasings (tests/search/test_sensitive.py):
# ordinary queries whose runner-up is about violence score it at 0.29 of the top at most ("mail
# gendarmerie amende": a cyber-harassment fiche at 0.16), violence queries at 0.45 at least ("main
# courante viol"). A third place is too far: "porter plainte" finds the page on sexual violence
# third, at 0.88, after the two ways of filing a complaint.
SENSITIVE_DEPTH = 10
SENSITIVE_SCORE_RATIO = 0.4


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
    # No rules of its own: the portal serves those of the index, which ensure_index and the indexer write
    # from the database. The YAML files are only the rules' initial content (search.tuning).
    app.extensions["search"] = WhooshEngine(Path(app.config["SEARCH_INDEX_DIR"]), Synonyms(), BestBets())
    app.jinja_env.filters["highlight"] = highlight_words
    health.register(app, "search", lambda: engine().search("plainte", limit=1) is not None)

    @app.errorhandler(SearchUnavailable)
    def _search_down(exc: SearchUnavailable):
        log.error("search unavailable: %s", type(exc).__name__)
        return error_response(503, "La recherche est momentanément indisponible. Réessayez dans quelques minutes.")
    install_log_filter()  # no query in the request log of Werkzeug's server
    analytics.init_app(app)  # roll-up and purge of the search analytics (periodic tasks)
    from search import indexer  # not at the top: the indexer builds on this module

    indexer.init_app(app)  # the outbox's purge, a periodic task of the worker


def engine() -> SearchEngine:
    return current_app.extensions["search"]


@dataclass(frozen=True)
class BuildReport:
    rebuilt: bool
    documents: int
    seconds: float
    # Only the rules had changed: the tuning was rewritten beside the index, no rebuild.
    tuning_updated: bool = False


def content_fingerprint(session: Session) -> str:
    """The catalogue's content and the document boosts: the index's documents are stale if either changed."""
    boosts = repr((KIND_BOOSTS, sorted(FICHE_TYPE_BOOSTS.items()), SUPERSEDED_BOOST))
    return hashlib.sha256(f"{catalogue.fingerprint(session)}:{boosts}".encode()).hexdigest()


def combined_fingerprint(content: str, tuning_digest: str) -> str:
    return hashlib.sha256(f"{content}:{tuning_digest}".encode()).hexdigest()


def index_fingerprint(session: Session, tuning: Tuning | None = None) -> str:
    """The catalogue, the boosts and the published search rules: the index is stale if any changed."""
    return combined_fingerprint(content_fingerprint(session), (tuning or current_tuning(session)).digest)


def rebuild_index(session: Session, search_engine: SearchEngine,
                  documents: Iterable[Document] | None = None) -> None:
    """A full rebuild from the database, with the published rules and the outbox's watermark.

    The watermark is read first: whatever is committed after it is in the outbox
    after it, and the indexer applies it again (events are idempotent).
    ``documents``: the entries to index (default: every published one), for a
    caller that watches them go by (the worker stops on SIGTERM).
    """
    watermark = outbox.latest_id(session)
    tuning = current_tuning(session)
    content = content_fingerprint(session)
    if documents is None:
        documents = (document_for(entry) for entry in catalogue.iter_published(session))
    search_engine.rebuild(documents, combined_fingerprint(content, tuning.digest), tuning=tuning,
                          meta={"watermark": watermark, "content_fingerprint": content, "tuning": tuning.digest})


def ensure_index(session: Session, search_engine: SearchEngine, force: bool = False) -> BuildReport:
    """Rebuild the index if it is missing, stale or of an older format; only rewrite its tuning if only the
    rules changed."""
    # Read first: whatever the fingerprint below covers, the events up to this one are in it.
    watermark = outbox.latest_id(session)
    tuning = current_tuning(session)
    content = content_fingerprint(session)
    fingerprint = combined_fingerprint(content, tuning.digest)
    status = search_engine.status()
    # status.tuning is None when the build's tuning.json was lost: written again below, without a rebuild.
    if not force and status.is_current(fingerprint) and status.tuning == tuning.digest:
        if status.watermark != watermark:
            # Current, whatever the outbox says: another database, or a log reset since. The indexer
            # goes on from here instead of rebuilding.
            search_engine.apply_changes(build=status.build, meta={"watermark": watermark})
        search_engine.prune()  # builds replaced earlier, once their grace period is over
        return BuildReport(rebuilt=False, documents=status.documents, seconds=0.0)
    if (not force and status.available and status.version == INDEX_VERSION and status.content_fingerprint == content
            and search_engine.apply_changes(build=status.build, tuning=tuning,
                                            meta={"fingerprint": fingerprint, "watermark": watermark})):
        return BuildReport(rebuilt=False, documents=status.documents, seconds=0.0, tuning_updated=True)
    started = time.perf_counter()
    rebuild_index(session, search_engine)
    return BuildReport(
        rebuilt=True, documents=search_engine.status().documents,
        seconds=time.perf_counter() - started,
    )


def search(query: str, *, limit: int = 10, offset: int = 0) -> SearchResults:
    return engine().search(clean_query(query), limit=limit, offset=offset)


def preview(session: Session, query: str, *, rules_override: dict[str, dict | None],
            limit: int = 10) -> tuple[list[Hit], list[Hit]]:
    """The first ``limit`` results of ``query`` with the published rules, and with ``rules_override``
    applied to them (rule key → its new data; None or ``{"retired": True}``: retired; a new key: added).

    Both run on the same index; only the tuning differs. Raises SearchUnavailable like a search.
    """
    search_engine = engine()
    query = clean_query(query)
    before = search_engine.search(query, limit=limit, tuning=current_tuning(session))
    after = search_engine.search(query, limit=limit, tuning=tuning_with(session, rules_override))
    return before.hits, after.hits


def is_sensitive(session: Session, head: list[Hit]) -> bool:
    """Whether a query whose first ``SENSITIVE_DEPTH`` results are ``head`` leads to a page about violence:
    its first result, a pinned best bet, or a close contender for first place (``SENSITIVE_SCORE_RATIO``)
    is an entry the catalogue marks sensitive.

    Decided from where the query leads, never from a list of words: "mon mari me
    frappe" is sensitive because it finds the page on domestic violence. Every page
    of such a query is, whatever page is asked for.
    """
    head = head[:SENSITIVE_DEPTH]
    if not head:
        return False
    best = max(h.score for h in head)
    runner_up = head[1:2]
    first_procedure = [h for h in head if h.kind == "procedure"][:1]
    close = {h.slug for h in runner_up + first_procedure if h.score >= SENSITIVE_SCORE_RATIO * best}
    slugs = {head[0].slug} | {h.slug for h in head if h.pinned} | close
    return bool(catalogue.sensitive_slugs(session, slugs))


@dataclass
class ResultsPage:
    """What the results page shows for a query."""

    results: SearchResults
    sensitive: bool
    shortcut: Shortcut | None = None
    # When nothing is found: the situations, to choose from instead.
    life_events: list[LifeEvent] = field(default_factory=list)


def search_and_sensitivity(session: Session, query: str, *, limit: int,
                           offset: int = 0) -> tuple[SearchResults, bool]:
    """One page of results, and whether the query is about violence (is_sensitive on its first results)."""
    if offset == 0:
        # One search serves the page and the sensitivity check, which looks at the first SENSITIVE_DEPTH.
        found = search(query, limit=max(limit, SENSITIVE_DEPTH))
        head, results = found.hits, replace(found, hits=found.hits[:limit])
    else:
        results = search(query, limit=limit, offset=offset)
        head = search(query, limit=SENSITIVE_DEPTH).hits
    return results, is_sensitive(session, head)


def results_page(session: Session, query: str, *, limit: int, offset: int = 0) -> ResultsPage:
    """One page of results and what goes with it; raises SearchUnavailable if the index cannot be read."""
    results, sensitive = search_and_sensitivity(session, query, limit=limit, offset=offset)
    return ResultsPage(
        results=results,
        sensitive=sensitive,
        shortcut=station_shortcut(session, results.query),
        life_events=catalogue.life_events(session) if results.total == 0 else [],
    )
