"""Communes, postcodes and the police and gendarmerie units that receive the public."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

KIND_LABELS = {"police": "Commissariat de police", "gendarmerie": "Brigade de gendarmerie"}
ACCESSIBILITY = {"ACC": "Accessible aux personnes à mobilité réduite", "NAC": "Non accessible aux "
                 "personnes à mobilité réduite", "DEM": "Accessibilité sur demande"}


class Commune(db.Model):
    """A commune (or a municipal arrondissement of Paris, Lyon, Marseille) and its town hall's position."""

    __tablename__ = "commune"

    code_insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The name as searched (maps.places.normalize), computed once at loading.
    search_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    department_code: Mapped[str] = mapped_column(String(3), index=True)
    department_name: Mapped[str] = mapped_column(String(100))
    region_name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(String(5))
    population: Mapped[int] = mapped_column(Integer, default=0)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Set when the source's town-hall point was wrong and the position is an estimate.
    position_note: Mapped[str] = mapped_column(String(200), default="")


class Postcode(db.Model):
    __tablename__ = "postcode"

    postcode: Mapped[str] = mapped_column(String(5), primary_key=True)
    code_insee: Mapped[str] = mapped_column(String(5), primary_key=True)


class Station(db.Model):
    """A commissariat or a gendarmerie brigade that receives the public."""

    __tablename__ = "station"

    # The DILA identifier ("gendarmerie-01004-01"), which the official directory's URLs also use.
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # "police" | "gendarmerie"
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(5), default="")
    commune: Mapped[str] = mapped_column(String(100), default="")
    code_insee: Mapped[str] = mapped_column(String(5), default="")
    department_code: Mapped[str] = mapped_column(String(3), index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    accessibility: Mapped[str] = mapped_column(String(3), default="")
    # The position shown and used for "nearest"; see position_note.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Why the position is approximate: the source placed the unit far from its commune,
    # so the commune's town hall stands in for it. Empty when the source is trusted.
    position_note: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    hours_source: Mapped[str] = mapped_column(String(200), default="")
    directory_url: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(400), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when the unit left the open data while cases, agents or agendas still refer to it: it is
    # kept for them, and shown nowhere else (the finder, its pages and counts leave it out).
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "")

    @property
    def accessibility_label(self) -> str:
        return ACCESSIBILITY.get(self.accessibility, "")

    @property
    def phone_link(self) -> str:
        return "".join(c for c in self.phone if c.isdigit() or c == "+")


class DatasetVersion(db.Model):
    """Which version of an open-data file the tables hold, so that loading twice changes nothing."""

    __tablename__ = "dataset_version"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
