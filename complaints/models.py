"""Cases (plainte en ligne, visio-plainte), their drafts, history, statements (PV) and hearing slots.

Every free-text or identifying field is sealed at rest (portal.crypto): the
columns that stay clear are those the queues filter on (kind, status, unit,
offence category, dates).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto import EncryptedJSON, EncryptedText
from portal.extensions import db

KINDS = {"plainte_en_ligne": "Plainte en ligne", "visio_plainte": "Visio-plainte"}
# What the citizen reads, in the order a case goes through.
STATUSES = {
    "deposee": "Déposée",
    "en_cours": "En cours",
    "complement_demande": "Complément demandé",
    "pv_disponible": "PV disponible",
    "cloturee": "Clôturée",
}


class Case(db.Model):
    __tablename__ = "complaint_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # PEL-2026-7K3M9Q (plainte en ligne) or VIS-2026-… (visio-plainte): random, unguessable.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True, default="deposee")
    # A category code (complaints.offences), never free text: officers filter on it.
    offence: Mapped[str] = mapped_column(String(40), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("station.id"), index=True)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    # True when FranceConnect vouched for the identity; False: to be confirmed at the unit.
    identity_verified: Mapped[bool] = mapped_column(default=False)
    # The identity at submission (FranceConnect's claims, or the e-mail alone).
    identity: Mapped[dict] = mapped_column(EncryptedJSON("complaint_case.identity"))
    # The form's answers: facts, dates, place, items and their numbers, narrative.
    details: Mapped[dict] = mapped_column(EncryptedJSON("complaint_case.details"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan", passive_deletes=True
    )
    statements: Mapped[list[Statement]] = relationship(
        back_populates="case", order_by="Statement.version", cascade="all, delete-orphan", passive_deletes=True
    )


class CaseEvent(db.Model):
    """One step of a case's history; ``message`` is what one side wrote to the other, if anything."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(10))  # "citizen" | "agent" | "system"
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(EncryptedText("case_event.message"))

    case: Mapped[Case] = relationship(back_populates="events")


class Statement(db.Model):
    """A version of the procès-verbal the officer sends; the citizen validates it or asks for corrections."""

    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_case.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(EncryptedText("statement.text"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # None until the citizen answers: "validee" or "corrections".
    response: Mapped[str | None] = mapped_column(String(20))
    response_comment: Mapped[str | None] = mapped_column(EncryptedText("statement.response_comment"))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    case: Mapped[Case] = relationship(back_populates="statements")


class Draft(db.Model):
    """A complaint being written, kept on the server (never in the browser); one per citizen and kind."""

    __tablename__ = "case_draft"
    __table_args__ = (UniqueConstraint("account_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(EncryptedJSON("case_draft.data"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class HearingSlot(db.Model):
    """A visio-plainte slot a unit publishes; ``capacity`` hearings can run in it at once."""

    __tablename__ = "hearing_slot"
    __table_args__ = (UniqueConstraint("unit_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("station.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Booking(db.Model):
    """A seat in a slot. (slot, seat) is unique: the database, not the code, forbids a double booking.

    A cancelled booking is deleted (the case's history keeps the trace), which
    frees its seat.
    """

    __tablename__ = "hearing_booking"
    __table_args__ = (UniqueConstraint("slot_id", "seat"), UniqueConstraint("case_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("hearing_slot.id"), index=True)
    seat: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_case.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    # The video room's name, random: the "Rejoindre" link is VIDEO_URL_TEMPLATE with it.
    room: Mapped[str] = mapped_column(String(64))
    # Bumped at each change, for the .ics SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    slot: Mapped[HearingSlot] = relationship()
