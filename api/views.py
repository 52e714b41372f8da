"""The public API /api/v1/ and its readable documentation page /developpeurs/api.

Thin views: each parses and bounds its parameters (a French 400 otherwise), calls one function of
``api.services`` and chooses the caching policy. Errors are problem details (``portal.errors``).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from api import openapi, services
from api.http import PRIVATE, PUBLIC, cache_for
from maps import services as maps
from maps.places import CODE_INSEE, DepartmentQuery, MalformedPlace, PlaceError
from portal.errors import UserError, problem_response
from portal.extensions import db
from portal.params import repeated_parameter, small_integer
from portal.security import limiter, mark_sensitive

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs = Blueprint("api_docs", __name__)

# One budget per client address for the whole API (every route of the blueprint).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api")(bp)
# On top of it, the search's and the finder's budgets, shared with their pages (same scopes as
# search.views and maps.views); ``override_defaults=False`` keeps the blueprint's budget counted too.
search_rate_limit = limiter.shared_limit(lambda: current_app.config["SEARCH_RATE_LIMIT"], scope="search",
                                         override_defaults=False)
finder_rate_limit = limiter.shared_limit(lambda: current_app.config["FINDER_RATE_LIMIT"], scope="finder",
                                         override_defaults=False)


@bp.before_request
def _one_value_per_parameter():
    """``?q=a&q=b``: which one was meant is a guess the API does not make (a French 400)."""
    reason = repeated_parameter(request.args)
    if reason:
        raise UserError(400, reason)


def _bounded(name: str, default: int, low: int, high: int) -> int:
    """``?name=`` as an integer in low..high (``default`` when absent); raises a French 400 otherwise."""
    raw = request.args.get(name)
    value = default if raw is None else small_integer(raw)
    if value is None or not low <= value <= high:
        raise UserError(400, f"Le paramètre {name} doit être un nombre entier entre {low} et {high}.")
    return value


# The spaces a text parameter loses at both ends: ASCII ones only, as the document's pattern says.
SPACES = " \t\n\v\f\r"


def _required(name: str, what: str) -> str:
    value = request.args.get(name, "").strip(SPACES)
    if not value:
        raise UserError(400, f"Le paramètre {name} ({what}) est obligatoire.")
    return value


def _gone(retired: services.Retired, endpoint: str):
    """A withdrawn entry, as the site answers it: 301 to its published replacement, else 410."""
    if retired.replacement:
        return redirect(url_for(endpoint, slug=retired.replacement), 301)
    return problem_response(410, retired.note or "Ce contenu a été retiré du portail.")


@bp.get("/search")
@search_rate_limit
def search():
    """Search the catalogue; never recorded in the editors' statistics. 503 when the index is unreadable."""
    query = _required("q", "le texte recherché")
    limit = _bounded("limit", 10, 1, services.SEARCH_MAX_LIMIT)
    offset = _bounded("offset", 0, 0, services.SEARCH_MAX_OFFSET)
    body, sensitive = services.search_results(db.session, query, limit, offset)
    if sensitive:
        # As on the portal's results page: nothing kept by the browser, no referrer for the next site.
        mark_sensitive()
    else:
        cache_for(PRIVATE)
    return jsonify(body)


@bp.get("/procedures")
def procedures():
    body = services.procedures_page(db.session, _bounded("page", 1, 1, services.MAX_PAGE))
    cache_for(PUBLIC)
    return jsonify(body)


@bp.get("/procedures/<slug>")
def procedure(slug: str):
    found = services.procedure(db.session, slug)
    if found is None:
        return problem_response(404, f"Aucune démarche ni fiche publiée n'a l'identifiant « {slug[:80]} ».")
    if isinstance(found, services.Retired):
        return _gone(found, "api.procedure")
    cache_for(PUBLIC)
    return jsonify(found)


@bp.get("/life-events")
def life_events():
    body = services.life_events(db.session)
    cache_for(PUBLIC)
    return jsonify(body)


@bp.get("/life-events/<slug>")
def life_event(slug: str):
    found = services.life_event(db.session, slug)
    if found is None:
        return problem_response(404, f"Aucune situation n'a l'identifiant « {slug[:80]} ».")
    if isinstance(found, services.Retired):
        return problem_response(410, "Cette situation a été retirée du portail.")
    cache_for(PUBLIC)
    return jsonify(found)


@bp.get("/communes")
@finder_rate_limit
def communes():
    """Communes whose name or postcode begins with ``q`` (a short list for an autocomplete)."""
    text = _required("q", "début du nom ou du code postal")[:100]
    limit = _bounded("limit", services.COMMUNES_DEFAULT_LIMIT, 1, services.COMMUNES_MAX_LIMIT)
    body = services.communes(db.session, text, limit)
    cache_for(PUBLIC)
    return jsonify(body)


@bp.get("/communes/<code_insee>")
@finder_rate_limit
def commune(code_insee: str):
    found = services.commune(db.session, code_insee) if CODE_INSEE.match(code_insee) else None
    if found is None:
        return problem_response(404, f"Aucune commune n'a le code INSEE « {code_insee[:10]} ».")
    cache_for(PUBLIC)
    return jsonify(found)


def _place_problem(exc: PlaceError):
    """404 for a place the finder does not know, with the places it may have meant (an extension member)."""
    return problem_response(
        404, exc.message, title="Lieu introuvable",
        type_=url_for("api_docs.reference", _external=True) + "#lieu-introuvable",
        suggestions=[{"label": s.label, "q": s.query} for s in exc.suggestions],
    )


@bp.get("/stations/nearest")
@finder_rate_limit
def nearest():
    """The units nearest to ``q`` (postcode, commune, "lat,lon") or to ``commune`` (an INSEE code):
    exactly one of the two. A five-digit ``q`` is a postcode, hence ``commune``."""
    query = request.args.get("q", "").strip(SPACES)
    code = request.args.get("commune", "")
    if query and code:
        raise UserError(400, "Indiquez soit le paramètre q, soit le paramètre commune, pas les deux.")
    if not query and not code:
        raise UserError(400, "Le paramètre q (code postal, commune ou « lat,lon ») ou le paramètre commune "
                             "(code INSEE) est obligatoire.")
    limit = _bounded("limit", services.NEAREST_DEFAULT_LIMIT, 1, services.NEAREST_MAX_LIMIT)
    kind = request.args.get("type")
    if kind not in (None, "police", "gendarmerie"):
        raise UserError(400, "Le paramètre type doit être « police » ou « gendarmerie ».")
    opened = request.args.get("ouvert")
    if opened not in (None, "0", "1"):
        raise UserError(400, "Le paramètre ouvert vaut 1 (seulement les unités ouvertes en ce moment) ou 0.")
    open_now = opened == "1"
    if code:
        if not CODE_INSEE.match(code):
            raise UserError(400, "Le paramètre commune doit être un code INSEE : cinq chiffres (ou 2A, 2B et "
                                 "trois chiffres en Corse).")
        found = maps.find_for_commune(db.session, code, limit, kind, open_now)
        if found is None:
            return problem_response(404, f"Aucune commune n'a le code INSEE « {code} ».")
    else:
        try:
            found = maps.find(db.session, query, limit, kind, open_now)
        except (MalformedPlace, DepartmentQuery) as exc:
            raise UserError(400, str(exc)) from exc
        except PlaceError as exc:
            return _place_problem(exc)
    cache_for(PRIVATE)
    return jsonify(services.nearest(db.session, found, limit))


@bp.get("/openapi.json")
def openapi_document():
    cache_for(PUBLIC)
    return jsonify(openapi.document(request.url_root.rstrip("/")))


@docs.get("/developpeurs/api")
def reference():
    """The readable page, rendered from the same document as /api/v1/openapi.json."""
    return render_template("api/reference.html", api=openapi.reference(request.url_root.rstrip("/")))
