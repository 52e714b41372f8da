"""The catalogue: procedures (the portal's own and imported fiches), life events, institutions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

KINDS = ("procedure", "fiche")
# draft: not shown (a fiche gone from DILA's feed, a procedure not yet published); retired: withdrawn by
# editors, its address says where to go instead; hidden: a service-public.fr fiche editors chose not to show.
STATUSES = ("draft", "published", "retired", "hidden")

# Ways a procedure can be done, with the words citizens read.
CHANNELS = {
    "en_ligne": "En ligne",
    "sur_place": "Sur place",
    "telephone": "Par téléphone",
    "sms": "Par SMS",
    "video": "En visioconférence",
    "chat": "Par écrit (tchat)",
}


class Institution(db.Model):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))

    procedures: Mapped[list[Procedure]] = relationship(back_populates="institution")


class RelatedProcedure(db.Model):
    """An ordered "see also" link between two catalogue entries."""

    __tablename__ = "related_procedure"

    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    related: Mapped[Procedure] = relationship(foreign_keys=[related_id])


class Procedure(db.Model):
    """A catalogue entry: one of the portal's procedures, or an imported service-public.fr fiche."""

    __tablename__ = "procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")

    # Structured body of the portal's own procedures; each is light text (see catalogue.text).
    alert: Mapped[str | None] = mapped_column(Text)
    for_whom: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[str | None] = mapped_column(Text)
    delays_cost: Mapped[str | None] = mapped_column(Text)
    # The full text of an imported fiche.
    body: Mapped[str | None] = mapped_column(Text)

    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    requires_franceconnect: Mapped[bool] = mapped_column(Boolean, default=False)
    external_url: Mapped[str | None] = mapped_column(String(500))
    # A service the portal itself provides for this procedure ("/commissariats").
    service_path: Mapped[str | None] = mapped_column(String(200))
    service_label: Mapped[str | None] = mapped_column(String(200))
    external_label: Mapped[str | None] = mapped_column(String(200))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    contacts: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    sources: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Violence pages: quick-exit button and no referrer.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)

    # Provenance of an imported fiche.
    source_url: Mapped[str | None] = mapped_column(String(500))
    source_date: Mapped[date | None] = mapped_column(Date)
    fiche_type: Mapped[str | None] = mapped_column(String(100))
    breadcrumb: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A fiche: the entry that replaces it (shown with a notice). A retired procedure: where its address leads.
    superseded_by: Mapped[str | None] = mapped_column(String(80))
    # A retired procedure without a replacement: what its page tells the citizen instead.
    retired_note: Mapped[str | None] = mapped_column(Text)
    notices: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verified_on: Mapped[date | None] = mapped_column(Date)
    # Hash of the loaded content: loading twice changes nothing, and the search
    # index knows which state of the catalogue it reflects.
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    institution: Mapped[Institution | None] = relationship(back_populates="procedures")
    related_links: Mapped[list[RelatedProcedure]] = relationship(
        foreign_keys=[RelatedProcedure.procedure_id],
        order_by=RelatedProcedure.position,
        cascade="all, delete-orphan",
    )
    life_event_links: Mapped[list[LifeEventProcedure]] = relationship(
        back_populates="procedure", cascade="all, delete-orphan"
    )

    @property
    def is_fiche(self) -> bool:
        return self.kind == "fiche"

    @property
    def related(self) -> list[Procedure]:
        return [link.related for link in self.related_links if link.related.status == "published"]

    @property
    def life_events(self) -> list[LifeEvent]:
        return sorted((link.life_event for link in self.life_event_links if link.life_event.status == "published"),
                      key=lambda e: e.position)

    @property
    def channel_labels(self) -> list[str]:
        return [CHANNELS[c] for c in self.channels if c in CHANNELS]

    def is_dated(self, today: date, max_age_days: int) -> bool:
        """An imported fiche older than the configured age may no longer be accurate."""
        return bool(
            self.is_fiche and self.source_date and (today - self.source_date).days > max_age_days
        )

    def full_text(self) -> str:
        """Everything a reader sees, as plain text: the search body and the API's ``text``."""
        parts: list[Any] = [self.alert, self.for_whom, self.conditions, self.steps,
                            self.documents, self.delays_cost, self.body]
        parts += [f"{c.get('number', '')} {c.get('label', '')} {c.get('detail', '')}"
                  for c in self.contacts]
        return "\n\n".join(p.strip() for p in parts if p and p.strip())


class LifeEventProcedure(db.Model):
    __tablename__ = "life_event_procedure"

    life_event_id: Mapped[int] = mapped_column(
        ForeignKey("life_event.id", ondelete="CASCADE"), primary_key=True
    )
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    life_event: Mapped[LifeEvent] = relationship(back_populates="procedure_links")
    procedure: Mapped[Procedure] = relationship(back_populates="life_event_links")


class LifeEvent(db.Model):
    """A situation citizens recognise themselves in ("J'ai été victime d'un vol")."""

    __tablename__ = "life_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str | None] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # "published" or "retired" (no longer in the menu; its address says so).
    status: Mapped[str] = mapped_column(String(16), default="published", server_default="published")
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    procedure_links: Mapped[list[LifeEventProcedure]] = relationship(
        back_populates="life_event",
        order_by=LifeEventProcedure.position,
        cascade="all, delete-orphan",
    )

    @property
    def procedures(self) -> list[Procedure]:
        return [link.procedure for link in self.procedure_links if link.procedure.status == "published"]
