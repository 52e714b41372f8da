"""Finding stations: the gazetteer of communes and the nearest units, from in-memory arrays.

Both are built from the database once per process and rebuilt when the data
changes (checked at most every 30 seconds): "nearest among all stations"
is a NumPy great-circle distance over ~3,700 points, well under a millisecond.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maps.hours import Schedule, timezone_for
from maps.models import Commune, DatasetVersion, Postcode, Station
from maps.places import CommuneEntry, Gazetteer, Place
from maps.positions import distances_km

# "Ouvert maintenant" lists units a citizen can reach now, not the nearest open one in France.
OPEN_NOW_RADIUS_KM = 50
RECHECK_SECONDS = 30.0
MAX_LIMIT = 50


@dataclass(frozen=True)
class StationRecord:
    """What the finder shows of a unit, kept in memory."""

    id: str
    kind: str
    name: str
    address: str
    postcode: str
    commune: str
    department: str
    phone: str
    latitude: float | None
    longitude: float | None
    position_note: str
    schedule: Schedule | None
    hours_source: str
    directory_url: str

    def open_now(self, at: datetime | None = None) -> bool | None:
        """True/False from the official hours in the unit's local time; None when unknown."""
        if self.schedule is None:
            return None
        return self.schedule.is_open(_local(at, self.department))

    def status(self, at: datetime | None = None) -> str:
        if self.schedule is None:
            return "Horaires non communiqués"
        return self.schedule.status(_local(at, self.department))

    def open_on_sunday(self) -> bool | None:
        return None if self.schedule is None else self.schedule.open_on_weekday(6)


def _local(at: datetime | None, department: str) -> datetime:
    zone = timezone_for(department)
    return (at or datetime.now(zone)).astimezone(zone)


@dataclass(frozen=True)
class Nearby:
    station: StationRecord
    distance_km: float


class StationIndex:
    def __init__(self, stations: list[StationRecord]) -> None:
        self.by_id = {s.id: s for s in stations}
        placed = [s for s in stations if s.latitude is not None]
        self.placed = placed
        self.lat = np.radians(np.array([s.latitude for s in placed]))
        self.lon = np.radians(np.array([s.longitude for s in placed]))
        self.kinds = np.array([s.kind for s in placed])
        self.has_hours = np.array([s.schedule is not None for s in placed], dtype=bool)

    def nearest(self, latitude: float, longitude: float, limit: int = 10, kind: str | None = None,
                open_now: bool = False, at: datetime | None = None) -> list[Nearby]:
        """The ``limit`` units closest to a point, by great-circle distance."""
        if not self.placed:
            return []
        distances = distances_km(self.lat, self.lon, latitude, longitude)
        if kind:
            distances = np.where(self.kinds == kind, distances, np.inf)
        if open_now:  # only units with official hours can be said open, and only near ones help
            distances = np.where(self.has_hours & (distances <= OPEN_NOW_RADIUS_KM), distances, np.inf)
        order = np.argsort(distances, kind="stable")
        found: list[Nearby] = []
        for i in order:
            if not np.isfinite(distances[i]):
                break
            station = self.placed[i]
            if open_now and station.open_now(at) is not True:
                continue
            found.append(Nearby(station, float(distances[i])))
            if len(found) >= limit:
                break
        return found


class FinderCache:
    """The gazetteer and the station index of this process, rebuilt when the data changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stamp: tuple | None = None
        self.gazetteer: Gazetteer | None = None
        self.index: StationIndex | None = None

    def _stamp_of(self, session: Session) -> tuple:
        return (
            session.scalar(select(func.max(DatasetVersion.loaded_at))),
            session.scalar(select(func.count()).select_from(Station).where(Station.withdrawn_at.is_(None))),
            session.scalar(select(func.max(Station.updated_at))),
        )

    def get(self, session: Session) -> tuple[Gazetteer, StationIndex]:
        with self._lock:
            now = time.monotonic()
            if self.index is not None and now - self._checked < RECHECK_SECONDS:
                return self.gazetteer, self.index
            stamp = self._stamp_of(session)
            self._checked = now
            if stamp != self._stamp or self.index is None:
                self.gazetteer = build_gazetteer(session)
                self.index = build_index(session)
                self._stamp = stamp
            return self.gazetteer, self.index

    def clear(self) -> None:
        with self._lock:
            self._checked, self._stamp, self.index, self.gazetteer = 0.0, None, None, None


def build_gazetteer(session: Session) -> Gazetteer:
    postcodes: dict[str, list[str]] = {}
    for postcode, code in session.execute(select(Postcode.postcode, Postcode.code_insee)):
        postcodes.setdefault(code, []).append(postcode)
    columns = (Commune.code_insee, Commune.name, Commune.search_name, Commune.kind, Commune.department_code,
               Commune.parent_code, Commune.population, Commune.latitude, Commune.longitude,
               Commune.position_note)
    departments = dict(session.execute(select(Commune.department_code, Commune.department_name).distinct()).all())
    return Gazetteer([
        CommuneEntry(*row, tuple(sorted(postcodes.get(row[0], ()))))
        for row in session.execute(select(*columns))
    ], departments)


def record_of(station: Station) -> StationRecord:
    return StationRecord(
        id=station.id, kind=station.kind, name=station.name, address=station.address,
        postcode=station.postcode, commune=station.commune, department=station.department_code,
        phone=station.phone, latitude=station.latitude, longitude=station.longitude,
        position_note=station.position_note, schedule=Schedule.from_json(station.hours),
        hours_source=station.hours_source, directory_url=station.directory_url,
    )


def build_index(session: Session) -> StationIndex:
    stations = session.scalars(select(Station).where(Station.withdrawn_at.is_(None)).order_by(Station.id))
    return StationIndex([record_of(s) for s in stations])


def cache() -> FinderCache:
    return current_app.extensions["maps"]


def finder(session: Session) -> tuple[Gazetteer, StationIndex]:
    return cache().get(session)


@dataclass(frozen=True)
class Found:
    """The answer to a finder query: the nearest units, or the département's when the place has no position."""

    place: Place
    nearby: list[Nearby]
    department_units: list[StationRecord]
    department_name: str | None = None


def find(session: Session, query: str, limit: int = 10, kind: str | None = None, open_now: bool = False,
         at: datetime | None = None) -> Found:
    """Raises MalformedPlace, DepartmentQuery or PlaceError (maps.places) for what is not a place."""
    gazetteer, _ = finder(session)
    return _found(session, gazetteer.resolve(query), limit, kind, open_now, at)


def find_for_commune(session: Session, code_insee: str, limit: int = 10, kind: str | None = None,
                     open_now: bool = False, at: datetime | None = None) -> Found | None:
    """``find`` for a commune named by its INSEE code (which a postcode query would mistake); None if unknown."""
    gazetteer, _ = finder(session)
    place = gazetteer.place_of(code_insee)
    return None if place is None else _found(session, place, limit, kind, open_now, at)


def _found(session: Session, place: Place, limit: int, kind: str | None, open_now: bool,
           at: datetime | None) -> Found:
    if place.located:
        return Found(place, nearest_stations(session, place, limit, kind, open_now, at), [])
    return Found(place, [], department_records(session, place.department, kind, open_now, at),
                 department_name(session, place.department))


def nearest_stations(session: Session, place: Place, limit: int = 10, kind: str | None = None,
                     open_now: bool = False, at: datetime | None = None) -> list[Nearby]:
    """The units closest to a place; none for a commune the data does not place (see department_records)."""
    if not place.located:
        return []
    _, index = finder(session)
    return index.nearest(place.latitude, place.longitude, min(limit, MAX_LIMIT), kind, open_now, at)


@dataclass(frozen=True)
class DataSummary:
    police: int
    gendarmerie: int
    approximate: int
    with_hours: int
    communes: int
    communes_placed: int
    communes_replaced: int  # the source's town-hall point was wrong: estimated, or none


def data_summary(session: Session) -> DataSummary:
    """What the finder holds, for the sources page."""
    def count(model, *where) -> int:
        if model is Station:
            where = (*where, Station.withdrawn_at.is_(None))
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return DataSummary(
        police=count(Station, Station.kind == "police"), gendarmerie=count(Station, Station.kind == "gendarmerie"),
        approximate=count(Station, Station.position_note != ""), with_hours=count(Station, Station.hours.is_not(None)),
        communes=count(Commune), communes_placed=count(Commune, Commune.latitude.is_not(None)),
        communes_replaced=count(Commune, Commune.position_note != ""),
    )


def department_name(session: Session, code: str) -> str | None:
    return session.scalar(select(Commune.department_name).where(Commune.department_code == code).limit(1))


def department_records(session: Session, code: str, kind: str | None = None, open_now: bool = False,
                       at: datetime | None = None) -> list[StationRecord]:
    """A department's units, by commune: the answer for a commune the data does not place."""
    _, index = finder(session)
    return sorted((s for s in index.by_id.values()
                   if s.department == code and (not kind or s.kind == kind)
                   and (not open_now or s.open_now(at) is True)),
                  key=lambda s: (s.commune, s.name))


def station_names(session: Session, ids) -> dict[str, str]:
    """Station id -> name for the given ids (withdrawn units included: a case keeps its unit); unknown ids absent.

    Callers show ``names.get(unit_id, unit_id)``.
    """
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(Station.id, Station.name).where(Station.id.in_(wanted))).all())


def department_exists(session: Session, code: str) -> bool:
    return session.scalar(select(Station.id).where(Station.department_code == code, Station.withdrawn_at.is_(None))
                          .limit(1)) is not None


def departments(session: Session) -> list[tuple[str, str, int]]:
    """(code, name, number of units) for every department with units."""
    counts = dict(session.execute(
        select(Station.department_code, func.count()).where(Station.withdrawn_at.is_(None))
        .group_by(Station.department_code)
    ).all())
    names = dict(session.execute(
        select(Commune.department_code, func.min(Commune.department_name)).group_by(Commune.department_code)
    ).all())
    return sorted(((code, names.get(code, code), n) for code, n in counts.items()),
                  key=lambda d: (int(d[0]) if d[0].isdecimal() else 20, d[0]))


@dataclass(frozen=True)
class NamedPlace:
    """A place named as written in free text, as the finder will read it.

    ``query`` is what to give the finder (``/commissariats?q=``); ``label`` what
    to call it ("Lyon (69)", "Seine-Saint-Denis (93)"); ``department`` says
    whether it is a whole département.
    """

    query: str
    label: str
    department: bool = False


def place_named(session: Session, text: str) -> NamedPlace | None:
    """The commune, postcode or département ``text`` names exactly (no typo guessed), or None.

    For reading a place inside a free-text search, where a near-miss is more
    likely another word ("police secours" is not Secourt). A département
    counts only if it has units.
    """
    from maps.places import DepartmentQuery, MalformedPlace, PlaceError

    gazetteer, _ = finder(session)
    try:
        place = gazetteer.resolve(text, fuzzy=False)
    except DepartmentQuery as department:  # "sarthe", "93"
        if not department_exists(session, department.code):
            return None
        return NamedPlace(department.code, gazetteer.department_label(department.code), department=True)
    except (MalformedPlace, PlaceError):
        return None
    return NamedPlace(text, place.label)
