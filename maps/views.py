"""Finding a commissariat or a gendarmerie brigade: the finder, a unit's page, a department (the API: api.views)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from maps import services
from maps.mapping import MapMarker, MapTiles, build_map, render
from maps.models import Station
from maps.places import DepartmentQuery, MalformedPlace, PlaceError
from maps.services import StationRecord
from portal.errors import UserError
from portal.extensions import db
from portal.htmx import render as render_page
from portal.security import csp_allow, csp_nonce, limiter

bp = Blueprint("maps", __name__)
finder_rate_limit = limiter.shared_limit(lambda: current_app.config["FINDER_RATE_LIMIT"], scope="finder")

DEFAULT_LIMIT = 10
KIND_FILTERS = {"": None, "police": "police", "gendarmerie": "gendarmerie"}
# What a citizen comes to a unit for, with the procedure that says how.
IN_PERSON = (
    ("plainte-en-ligne", "Déposer plainte sur place, ou compléter une plainte faite en ligne à la "
                         "demande d'un enquêteur"),
    ("violences-sexuelles", "Être entendu en personne pour des violences sexuelles (elles ne sont pas "
                            "reçues en visio-plainte)"),
    ("visio-plainte", "Être reçu en personne si la visio-plainte ne vous convient pas"),
    ("main-courante", "Déposer une main courante"),
    ("operation-tranquillite-vacances", "S'inscrire à l'opération tranquillité vacances "
                                        "(unité de votre domicile)"),
)


def _tiles() -> MapTiles:
    config = current_app.config
    return MapTiles(config["MAP_TILES_URL"], config["MAP_TILES_ATTRIBUTION"], config["MAP_TILES_MAX_ZOOM"])


def _map_page() -> None:
    """This response shows a map: its tiles come from the configured server."""
    tiles = urlsplit(current_app.config["MAP_TILES_URL"])
    csp_allow("img-src", f"{tiles.scheme}://{tiles.netloc}")


def _markers(records: list[StationRecord]) -> list[MapMarker]:
    return [
        MapMarker(r.latitude, r.longitude, r.name, url_for("maps.station", station_id=r.id),
                  (r.address, f"{r.postcode} {r.commune}".strip(), r.phone))
        for r in records if r.latitude is not None
    ]


def _finder_map(found: services.Found):
    """The listed units on a map, with the searched place when it has a position."""
    records = [n.station for n in found.nearby] or found.department_units
    if not records and not found.place.located:
        return None
    _map_page()
    place = found.place
    origin = (place.latitude, place.longitude, place.label) if place.located else None
    return render(build_map(_tiles(), _markers(records), origin=origin), csp_nonce())


def _filters() -> tuple[str | None, bool]:
    kind = request.args.get("type", "")
    if kind not in KIND_FILTERS:
        raise UserError(400, "Le paramètre type doit être « police » ou « gendarmerie ».")
    return KIND_FILTERS[kind], request.args.get("ouvert") == "1"


@bp.get("/commissariats")
@finder_rate_limit
def finder():
    query = request.args.get("q", "").strip()[:100]
    kind, open_now = _filters()
    context = {"query": query, "kind": kind or "", "open_now": open_now, "place": None, "results": [],
               "department_units": [], "error": None, "suggestions": [], "map": None, "departments": [],
               "open_now_radius_km": services.OPEN_NOW_RADIUS_KM}
    status = 200
    g.permissions_policy_geolocation = True  # "autour de moi", asked only on click
    if query:
        try:
            found = services.find(db.session, query, DEFAULT_LIMIT, kind, open_now)
        except MalformedPlace as exc:
            context["error"], status = str(exc), 400
        except DepartmentQuery as exc:
            if services.department_exists(db.session, exc.code):
                return redirect(url_for("maps.department", code=exc.code, type=kind))
            context["error"], status = exc.message, 404
        except PlaceError as exc:
            context["error"], context["suggestions"], status = exc.message, exc.suggestions, 404
        else:
            context.update(place=found.place, results=found.nearby, department_units=found.department_units,
                           department_name=found.department_name, map=_finder_map(found))
    else:
        context["departments"] = services.departments(db.session)
    return render_template("maps/finder.html", **context), status


@bp.get("/commissariats/communes")
@finder_rate_limit
def communes():
    """Communes matching what is being typed: the list htmx shows under the box."""
    gazetteer, _ = services.finder(db.session)
    typed = request.args.get("q", "").strip()[:100]
    return render_page("maps/communes.html", "maps/_suggestions.html",
                       suggestions=gazetteer.complete(typed), typed=typed)


@bp.get("/commissariats/<station_id>")
def station(station_id: str):
    unit = db.session.get(Station, station_id)
    if unit is None or unit.withdrawn_at is not None:
        abort(404)
    _, index = services.finder(db.session)
    record = index.by_id.get(unit.id) or services.record_of(unit)
    rendered = None
    if record.latitude is not None:
        _map_page()
        rendered = render(build_map(_tiles(), _markers([record]), center=(record.latitude, record.longitude),
                                    zoom=15), csp_nonce())
    nearby = [n for n in index.nearest(record.latitude, record.longitude, 4) if n.station.id != unit.id][:3] \
        if record.latitude is not None else []
    return render_template("maps/station.html", unit=unit, record=record, map=rendered, nearby=nearby,
                           in_person=IN_PERSON)


@bp.get("/commissariats/departement/<code>")
def department(code: str):
    code = code.upper()[:3]
    kind, _ = _filters()
    if not services.department_exists(db.session, code):
        abort(404)
    records = services.department_records(db.session, code, kind)
    _map_page()
    rendered = render(build_map(_tiles(), _markers(records)), csp_nonce()) if records else None
    return render_template("maps/department.html", code=code, name=services.department_name(db.session, code),
                           records=records, map=rendered, kind=kind)
