"""What the public API answers, as plain dicts built from the catalogue's, the search's and the finder's services.

Nothing here reads the request: the views parse and bound the parameters, these functions build the
bodies (``url_for`` needs an application context, as ``catalogue.services.entry_url`` does). Every shape
here is described by ``api.openapi``; a field added to one must be added to the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy.orm import Session

from catalogue import services as catalogue
from catalogue.models import LifeEvent, Procedure
from maps import services as maps
from maps.places import CommuneEntry, Gazetteer
from maps.services import StationRecord
from search import services as search
from search.engine import MAX_QUERY_CHARS

# The search reaches as deep as its pages do (100 pages of 10), at most 50 results at a time.
SEARCH_MAX_LIMIT = 50
SEARCH_MAX_OFFSET = 1000
PROCEDURES_PAGE_SIZE = 100
MAX_PAGE = 999999  # six digits, as every page number of the portal (portal.params)
COMMUNES_MAX_LIMIT = 20
COMMUNES_DEFAULT_LIMIT = 10
NEAREST_DEFAULT_LIMIT = 10
NEAREST_MAX_LIMIT = maps.MAX_LIMIT


# --- search -------------------------------------------------------------------------------------------------

def search_results(session: Session, query: str, limit: int, offset: int) -> tuple[dict, bool]:
    """One page of results, and whether the query is about violence (as the portal's results page decides);
    ``next`` is the address of the following page, null after the last reachable one.

    Nothing is recorded (the editors' statistics count what citizens type on the portal's pages only).
    Raises ``SearchUnavailable`` when the index is unreadable.
    """
    # Not results_page: its shortcut and life events are for the portal's page, not for the API.
    found, sensitive = search.search_and_sensitivity(session, query[: MAX_QUERY_CHARS * 2], limit=limit,
                                                     offset=offset)
    following = offset + limit
    has_next = following < min(found.total, SEARCH_MAX_OFFSET + 1)
    return {
        "query": found.query,
        "total": found.total,
        "offset": offset,
        "limit": limit,
        "results": [
            {"slug": h.slug, "title": h.title, "summary": h.summary,
             "url": catalogue.entry_url(kind=h.kind, slug=h.slug, external=True), "kind": h.kind}
            for h in found.hits
        ],
        "suggestion": found.suggestion,
        "next": url_for("api.search", q=found.query, limit=limit, offset=following) if has_next else None,
    }, sensitive


# --- catalogue ----------------------------------------------------------------------------------------------

def _entry_ref(entry: Procedure) -> dict:
    return {"slug": entry.slug, "title": entry.title, "kind": entry.kind,
            "url": catalogue.entry_url(entry, external=True),
            "api_url": url_for("api.procedure", slug=entry.slug, _external=True)}


def _life_event_ref(event: LifeEvent) -> dict:
    return {"slug": event.slug, "title": event.title,
            "url": url_for("catalogue.life_event", slug=event.slug, _external=True),
            "api_url": url_for("api.life_event", slug=event.slug, _external=True)}


def _entry_item(entry: Procedure) -> dict:
    return {"slug": entry.slug, "title": entry.title, "summary": entry.summary, "text": entry.full_text(),
            "keywords": list(entry.keywords), "kind": entry.kind,
            "url": catalogue.entry_url(entry, external=True)}


def procedures_page(session: Session, page: int) -> dict:
    """Every published entry (procedures first, then fiches), a page at a time; ``next`` is null on the last."""
    entries, has_next = catalogue.published_page(session, page, PROCEDURES_PAGE_SIZE)
    return {"items": [_entry_item(e) for e in entries],
            "next": url_for("api.procedures", page=page + 1) if has_next else None}


@dataclass(frozen=True)
class Retired:
    """A withdrawn entry: ``replacement`` is the published slug to go to instead, if any."""

    note: str | None
    replacement: str | None


def procedure(session: Session, slug: str) -> dict | Retired | None:
    """One published entry with its life events and related entries; ``Retired`` for a withdrawn one
    (the site answers 301 to a published replacement, else 410); None when the portal has no such entry."""
    entry = catalogue.published(session, slug)
    if entry is None:
        withdrawn = catalogue.retired(session, slug)
        if withdrawn is None:
            return None
        replacement = catalogue.published(session, withdrawn.superseded_by) if withdrawn.superseded_by else None
        return Retired(withdrawn.retired_note, replacement.slug if replacement else None)
    return {**_entry_item(entry), "sensitive": entry.sensitive,
            "life_events": [_life_event_ref(e) for e in entry.life_events],
            "related": [_entry_ref(r) for r in entry.related]}


def _life_event_body(event: LifeEvent) -> dict:
    return {**_life_event_ref(event), "summary": event.summary, "sensitive": event.sensitive,
            "procedures": [_entry_ref(p) for p in event.procedures]}


def life_events(session: Session) -> dict:
    """The life events citizens are offered, in the editors' order, each with its procedures."""
    events = [catalogue.life_event(session, e.slug) for e in catalogue.life_events(session)]
    return {"items": [_life_event_body(e) for e in events if e is not None]}


def life_event(session: Session, slug: str) -> dict | Retired | None:
    """One published life event; ``Retired`` for a withdrawn one (410), None for an unknown slug."""
    event = catalogue.life_event(session, slug)
    if event is None:
        return None
    if event.status != "published":
        return Retired(None, None)
    return _life_event_body(event)


def _commune_body(gazetteer: Gazetteer, commune: CommuneEntry) -> dict:
    return {"code_insee": commune.code_insee, "name": commune.name, "department": commune.department,
            "department_name": gazetteer.department_names.get(commune.department),
            "postcodes": list(commune.postcodes), "lat": commune.latitude, "lon": commune.longitude,
            "api_url": url_for("api.commune", code_insee=commune.code_insee, _external=True)}


def communes(session: Session, text: str, limit: int) -> dict:
    """``{"items": [...]}``: at most ``limit`` communes named or postcoded by what ``text`` begins with."""
    gazetteer, _ = maps.finder(session)
    return {"items": [_commune_body(gazetteer, c) for c in gazetteer.starting_with(text, limit)]}


def commune(session: Session, code_insee: str) -> dict | None:
    gazetteer, _ = maps.finder(session)
    entry = gazetteer.by_code.get(code_insee)
    return None if entry is None else _commune_body(gazetteer, entry)


# --- nearest units ------------------------------------------------------------------------------------------

def station_body(s: StationRecord, distance_km: float | None) -> dict:
    return {
        "id": s.id, "name": s.name, "type": s.kind, "address": s.address, "postcode": s.postcode,
        "commune": s.commune, "phone": s.phone or None, "lat": s.latitude, "lon": s.longitude,
        "distance_km": None if distance_km is None else round(distance_km, 2), "open_now": s.open_now(),
        "hours": ({"weekly": [{"day": day, "hours": text} for day, text in s.schedule.lines()],
                   "status": s.status(), "open_on_sunday": s.open_on_sunday(),
                   "notes": s.schedule.notes, "source": s.hours_source}
                  if s.schedule else None),
        "approximate_position": bool(s.position_note),
        "url": url_for("maps.station", station_id=s.id, _external=True),
    }


def nearest(session: Session, found: maps.Found, limit: int) -> dict:
    """``{"origin", "stations"}``, nearest first; for a commune the open data does not place, its
    department's units without distances (the origin's note says so)."""
    place = found.place
    origin = {"label": place.label, "lat": place.latitude, "lon": place.longitude,
              "alternatives": [{"label": a.label, "q": a.query} for a in place.alternatives]}
    stations = [station_body(n.station, n.distance_km) for n in found.nearby]
    if place.position_note:
        origin["note"] = place.position_note
    if not place.located:
        origin["note"] = (place.position_note or "Position de la commune inconnue.") + \
            " Unités de son département, sans distance."
        stations = [station_body(r, None) for r in found.department_units[:limit]]
    return {"origin": origin, "stations": stations}
