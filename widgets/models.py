"""Mairies registered to embed the portal's widgets, and the exact origins of their sites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


class Mairie(db.Model):
    """A town hall allowed to embed the widgets of its commune (one registration per commune).

    ``active`` off keeps the registration (and its history in the audit log) but
    refuses the widgets in its sites and the API's CORS answers to them.
    """

    __tablename__ = "mairie"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_insee: Mapped[str] = mapped_column(ForeignKey("commune.code_insee"), unique=True)
    # The name shown in the console ("Mairie du Mans"); the commune's name by default.
    name: Mapped[str] = mapped_column(String(120))
    # Who asked, for the administrators (a service address at the mairie, never a citizen's).
    contact: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    origins: Mapped[list[MairieOrigin]] = relationship(
        back_populates="mairie", cascade="all, delete-orphan", order_by="MairieOrigin.origin"
    )


class MairieOrigin(db.Model):
    """One exact origin of a mairie's site ("https://www.lemans.fr"): scheme, host and port, nothing else."""

    __tablename__ = "mairie_origin"
    __table_args__ = (UniqueConstraint("mairie_id", "origin", name="uq_mairie_origin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mairie_id: Mapped[int] = mapped_column(ForeignKey("mairie.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(200), index=True)

    mairie: Mapped[Mairie] = relationship(back_populates="origins")
