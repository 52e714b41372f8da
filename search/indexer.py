"""The indexer: applies the outbox to this host's search index (``flask search worker`` runs it).

Every change to what the search shows (an entry published, edited, hidden or
retired; a rule published) is recorded in the outbox in the same transaction
(portal.outbox). The indexer reads the events after its watermark, which is
kept in the current build's meta.json, and applies them:

- ENTRY: the entry is read again; published, its document is replaced, otherwise removed;
- TUNING: the published rules are written as the build's tuning.json (also when that file
  is lost or unreadable, or holds other rules: its readers then serve the last rules they
  read, or none, never the YAML files' initial rules);
- REBUILD, or an index missing, of an older format, or further behind than the
  oldest event kept (the outbox was purged since): a full rebuild beside the live
  index, swapped in atomically (``services.rebuild_index``).

Events are re-read for ``RECENT_SECONDS`` after their creation: an id is taken
when a transaction inserts, not when it commits, so one may appear below an id
already read. Events are orders to read the database again, so applying one twice
is harmless; the indexer remembers which ones it applied, so that it does not, and
writes only what differs from the index (each document stores its digest): a new
worker going over the last moments of a bulk import writes nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from catalogue import services as catalogue
from catalogue.models import Procedure
from portal import outbox
from portal.extensions import utc
from portal.tasks import register_periodic
from search import services
from search.engine import INDEX_VERSION, Document, IndexStatus
from search.tuning import Tuning, current_tuning
from search.whoosh_engine import WhooshEngine

log = logging.getLogger(__name__)

RECENT_SECONDS = 30.0
BATCH = 1000
# A host whose indexer was stopped longer than this rebuilds in full when it restarts.
OUTBOX_RETENTION = timedelta(days=7)
MAX_PASSES = 1000


class Stopped(Exception):
    """The worker was asked to stop in the middle of a rebuild: the half-built directory is discarded."""


@dataclass
class PassReport:
    events: int = 0
    updated: int = 0
    removed: int = 0
    tuning: bool = False
    # Why the index was rebuilt in full, if it was, and how many documents it then held.
    rebuilt: str | None = None
    documents: int = 0
    watermark: int = 0
    # A full batch was read: more events may wait.
    more: bool = False
    # The index was swapped by another writer meanwhile: read its status again.
    retry: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.updated or self.removed or self.tuning or self.rebuilt)

    def add(self, other: PassReport) -> None:
        self.events += other.events
        self.updated += other.updated
        self.removed += other.removed
        self.tuning = self.tuning or other.tuning
        if other.rebuilt:
            self.rebuilt, self.documents = other.rebuilt, other.documents
        self.watermark = other.watermark
        self.more, self.retry = other.more, other.retry

    def format(self) -> str:
        """For the command line (French): what this catch-up did."""
        parts = [f"{self.events} événement(s) lu(s)"]
        if self.rebuilt:
            parts.append(f"reconstruction complète ({REASONS.get(self.rebuilt, self.rebuilt)}) : "
                         f"{self.documents} documents")
        if self.updated or self.removed or not self.rebuilt:
            parts.append(f"{self.updated} entrée(s) mise(s) à jour, {self.removed} retirée(s)")
        if self.tuning:
            parts.append("réglages de la recherche réécrits")
        return f"Index à jour (repère {self.watermark}) : " + " ; ".join(parts) + "."


REASONS = {
    "missing": "index absent",
    "format": "format d'index ancien",
    "no-watermark": "index construit sans repère",
    "log-reset": "journal des changements remis à zéro",
    "purged": "changements purgés depuis le dernier passage",
    "requested": "demandée",
}


def rebuild_reason(status: IndexStatus, oldest: int, latest: int) -> str | None:
    """Why the index cannot be brought up to date event by event (a key of ``REASONS``), or None."""
    if not status.available:
        return "missing"
    if status.version != INDEX_VERSION:
        return "format"
    if status.watermark is None:
        return "no-watermark"
    if latest < status.watermark:
        return "log-reset"  # another database, or one restored from an older backup
    if oldest > status.watermark + 1:
        return "purged"  # events after the watermark are gone: some changes would be missed
    return None


class Indexer:
    """Brings one index up to date with the outbox. One per host (the worker's lock sees to it)."""

    def __init__(self, engine: WhooshEngine, recent_seconds: float = RECENT_SECONDS) -> None:
        self.engine = engine
        self.recent = timedelta(seconds=recent_seconds)
        # Events applied by this process and still within the re-read window: id → creation time.
        self._applied: dict[int, datetime] = {}
        self._more = False  # the last read filled a batch: more events wait

    def catch_up(self, session: Session, should_stop: Callable[[], bool] = lambda: False) -> PassReport:
        """Apply every pending event (several passes if need be). Ends the session's transaction after each."""
        total = PassReport()
        for _ in range(MAX_PASSES):
            try:
                report = self.run_pass(session, should_stop)
            finally:
                session.rollback()  # a new snapshot for the next pass (and no transaction held while asleep)
            total.add(report)
            if not (report.more or report.retry):
                break
        return total

    def run_pass(self, session: Session, should_stop: Callable[[], bool] = lambda: False) -> PassReport:
        status = self.engine.status()
        reason = rebuild_reason(status, outbox.oldest_id(session), outbox.latest_id(session))
        if reason is not None:
            return self._rebuild(session, reason, should_stop)
        watermark = status.watermark or 0
        now = datetime.now(UTC)
        events, fresh = self._read(session, watermark, now)
        # status.tuning None: the build's tuning.json is lost or unreadable (its readers serve the last rules
        # they read, or none): written again at this pass, events or not.
        if not status.tuning or any(e.topic in (outbox.ENTRY, outbox.TUNING) for e in fresh):
            # The catalogue's fingerprint before the events are read again: the index will hold at least
            # that state, so the fingerprint it records may lag behind it, never run ahead of it
            # (`flask search ensure` trusts it).
            content = services.content_fingerprint(session)
            events, fresh = self._read(session, watermark, now)
        else:
            content = None
        if any(e.topic == outbox.REBUILD and e.id > watermark for e in fresh):
            return self._rebuild(session, "requested", should_stop)

        report = PassReport(events=len(fresh), more=self._more)
        report.watermark = max([watermark, *(e.id for e in events)])
        slugs = list(dict.fromkeys(e.key for e in fresh if e.topic == outbox.ENTRY and e.key))
        if content is None:
            if report.watermark != watermark and not self.engine.apply_changes(
                    build=status.build, meta={"watermark": report.watermark}):
                return PassReport(retry=True, watermark=watermark)
            self._remember(fresh, now)
            return report

        documents, removed = self._documents_for(session, slugs)
        # Only what differs from the index: an event read again, or a new worker going over the last
        # moments (after a bulk import, thousands of entries), writes nothing the index already holds.
        held = self.engine.digests(status.build, slugs)
        documents = [d for d in documents if held.get(d.slug) != d.digest]
        removed = [slug for slug in removed if slug in held]
        # The database's rules, written only if the build serves others (a TUNING event, a lost file, a build
        # made without them): a rule retired stays retired.
        tuning: Tuning | None = current_tuning(session)
        if tuning.digest == status.tuning:
            tuning = None
        report.tuning = tuning is not None
        digest = tuning.digest if tuning else status.tuning
        meta = {"watermark": report.watermark, "content_fingerprint": content,
                "fingerprint": services.combined_fingerprint(content, digest)}
        if not self.engine.apply_changes(build=status.build, documents=documents, removed=removed,
                                         tuning=tuning, meta=meta):
            return PassReport(retry=True, watermark=watermark)
        report.updated, report.removed = len(documents), len(removed)
        self._remember(fresh, now)
        return report

    def _read(self, session: Session, watermark: int, now: datetime) -> tuple[list, list]:
        """The events after ``watermark``, then the recent ones at or below it that this process has not
        applied; and those of all of them this process has not applied.

        Two reads, each with its own limit: after a bulk import, thousands of recent events below the
        watermark (a new worker goes over them once) must not hold back a publication made since.
        """
        new = outbox.events_after(session, watermark, limit=BATCH)
        ids = [i for i, _ in self._recent_ids(session, watermark, now) if i not in self._applied][:BATCH]
        again = list(session.scalars(select(outbox.OutboxEvent).where(outbox.OutboxEvent.id.in_(ids))
                                     .order_by(outbox.OutboxEvent.id))) if ids else []
        self._more = len(new) >= BATCH or len(ids) >= BATCH
        events = again + new
        return events, [e for e in events if e.id not in self._applied]

    def _recent_ids(self, session: Session, watermark: int, now: datetime) -> list[tuple[int, datetime]]:
        """(id, creation time) of the events of the re-read window at or below ``watermark``: ids only, cheap."""
        event = outbox.OutboxEvent
        rows = session.execute(select(event.id, event.created_at)
                               .where(event.id <= watermark, event.created_at >= now - self.recent)
                               .order_by(event.id))
        return [(i, utc(created)) for i, created in rows]

    def _documents_for(self, session: Session, slugs: list[str]) -> tuple[list[Document], list[str]]:
        """The documents of the published entries among ``slugs``; the others (hidden, retired, gone) to remove."""
        entries: dict[str, Procedure] = {}
        for start in range(0, len(slugs), 500):
            chunk = slugs[start:start + 500]
            entries.update((p.slug, p) for p in session.scalars(select(Procedure).where(Procedure.slug.in_(chunk))))
        documents, removed = [], []
        for slug in slugs:
            entry = entries.get(slug)
            if entry is not None and entry.status == "published":
                documents.append(services.document_for(entry))
            else:
                removed.append(slug)
        return documents, removed

    def _rebuild(self, session: Session, reason: str, should_stop: Callable[[], bool]) -> PassReport:
        now = datetime.now(UTC)
        # The recent events visible before the build reads the catalogue are in it; later ones are applied after.
        latest = outbox.latest_id(session)
        seen = self._recent_ids(session, latest, now)

        def documents() -> Iterator[Document]:
            for entry in catalogue.iter_published(session):
                if should_stop():
                    raise Stopped
                yield services.document_for(entry)

        log.info("search index: full rebuild (%s)", reason)
        services.rebuild_index(session, self.engine, documents())
        self._applied.update(seen)
        self._remember([], now)
        status = self.engine.status()
        return PassReport(rebuilt=reason, watermark=status.watermark or 0, events=len(seen),
                          documents=status.documents)

    def _remember(self, events: list[outbox.OutboxEvent], now: datetime) -> None:
        for event in events:
            self._applied[event.id] = utc(event.created_at)
        horizon = now - self.recent - timedelta(seconds=60)
        self._applied = {i: t for i, t in self._applied.items() if t >= horizon}


def purge_outbox(session: Session, now: datetime | None = None) -> int:
    """Forget the events older than ``OUTBOX_RETENTION``, except the newest (a periodic task).

    The newest stays: on SQLite a new id is the largest one plus one, so an empty
    table would give ids again that indexers have already passed; and a host further
    behind than the oldest event knows it must rebuild only if one is left to see.
    """
    before = (now or datetime.now(UTC)) - OUTBOX_RETENTION
    newest = outbox.latest_id(session)
    result = session.execute(delete(outbox.OutboxEvent).where(
        outbox.OutboxEvent.created_at < before, outbox.OutboxEvent.id < newest))
    session.commit()
    return result.rowcount or 0


def init_app(app: Flask) -> None:
    register_periodic(app, "search.outbox_purge", purge_outbox, every_seconds=3600)
