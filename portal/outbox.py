"""The outbox: changes that other processes must apply, recorded in the same transaction as the change.

Publishing a procedure writes the procedure and an ``OutboxEvent`` together:
either both are committed or neither. Each indexer (one per host) reads the
events after the last one it applied (its watermark, kept beside its own
index) and applies them; nothing is ever marked "done" here, so any number of
hosts can follow the same log. Events are idempotent orders ("read this entry
again"), so applying one twice is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.extensions import db

# Topics: a catalogue entry to read again (key = slug), the search tuning to read again, a full rebuild.
ENTRY = "catalogue.entry"
TUNING = "search.tuning"
REBUILD = "search.rebuild"
TOPICS = (ENTRY, TUNING, REBUILD)


class OutboxEvent(db.Model):
    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def emit(session: Session, topic: str, key: str = "") -> None:
    """Record a change in the caller's transaction (never commits)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown outbox topic: {topic}")
    session.add(OutboxEvent(topic=topic, key=key, created_at=datetime.now(UTC)))


def latest_id(session: Session) -> int:
    return session.scalar(select(func.max(OutboxEvent.id))) or 0


def events_after(session: Session, watermark: int, *, recent_since: datetime | None = None,
                 limit: int = 1000) -> list[OutboxEvent]:
    """Events after ``watermark``, oldest first; with ``recent_since``, also those created since then.

    An id is taken when a transaction inserts, not when it commits: a transaction that started earlier
    can commit an id below one already read. Reading the last moments again catches it (events are
    idempotent).
    """
    condition = OutboxEvent.id > watermark
    if recent_since is not None:
        condition = or_(condition, OutboxEvent.created_at >= recent_since)
    return list(session.scalars(select(OutboxEvent).where(condition).order_by(OutboxEvent.id).limit(limit)))


def purge(session: Session, before: datetime) -> int:
    """Forget events older than ``before`` (an indexer further behind rebuilds in full)."""
    return session.execute(delete(OutboxEvent).where(OutboxEvent.created_at < before)).rowcount or 0


def oldest_id(session: Session) -> int:
    return session.scalar(select(func.min(OutboxEvent.id))) or 0
