"""Revisions: every draft, review and published version of an editable piece of content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

# What editors can change: the portal's procedures, life events and search tuning rules.
ENTITY_TYPES = {
    "procedure": "Démarche",
    "life_event": "Situation",
    "search_rule": "Règle de recherche",
}
STATES = {
    "draft": "Brouillon",
    "submitted": "À relire",
    "rejected": "Renvoyée au rédacteur",
    "approved": "Approuvée",
    "scheduled": "Programmée",
    "published": "Publiée",
    "superseded": "Version précédente",
    "abandoned": "Abandonnée",
}
# At most one of these per entity (``open_key``): a second editor works on the same draft.
OPEN_STATES = ("draft", "submitted", "rejected", "approved", "scheduled")


class Revision(db.Model):
    """One version of one entity: ``data`` is the complete content (the same keys as the edit form).

    ``number`` counts the entity's revisions from 1. ``lock_version`` is the
    optimistic lock: every form carries it and a save with an older value is
    refused as a conflict, never applied over someone else's change.
    ``authors`` lists every agent who saved this revision: none of them may
    approve it.
    """

    __tablename__ = "content_revision"
    __table_args__ = (UniqueConstraint("entity_type", "entity_key", "number", name="uq_content_revision_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str] = mapped_column(String(80), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    # "<entity_type>:<entity_key>" while the revision is open, NULL after: UNIQUE keeps one open revision.
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # The published revision this one started from (the diff's left side), if any.
    base_number: Mapped[int | None] = mapped_column(Integer)
    change_note: Mapped[str] = mapped_column(Text, default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    authors: Mapped[list] = mapped_column(JSON, default=list)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    publish_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": lock_version}
