"""The search page (full page or htmx fragment) and the search API."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify, request

from catalogue import services as catalogue
from catalogue.views import entry_url
from maps.services import station_shortcut
from portal.errors import UserError
from portal.extensions import db
from portal.htmx import render
from portal.params import page_number, small_integer
from portal.security import limiter
from search import services
from search.engine import MAX_QUERY_CHARS, SearchUnavailable

bp = Blueprint("search", __name__)

PER_PAGE = 10
PREVIEW_SIZE = 5
MAX_PAGE = 100
API_MAX_LIMIT = 50


def _search_limit() -> str:
    return current_app.config["SEARCH_RATE_LIMIT"]


# One budget per visitor for the page, its live updates and the API.
search_rate_limit = limiter.shared_limit(_search_limit, scope="search")


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """1 … 4 5 6 … 20: the first, last and neighbouring pages; None marks a gap."""
    wanted = {1, pages, page - 1, page, page + 1}
    numbers: list[int | None] = []
    for n in range(1, pages + 1):
        if n in wanted:
            if numbers and numbers[-1] is not None and n - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(n)
    return numbers


@bp.get("/recherche")
@search_rate_limit
def results():
    query = request.args.get("q", "")[: MAX_QUERY_CHARS * 2].strip()
    preview = request.args.get("apercu") == "1"
    page = page_number(request.args.get("page"))
    if page > MAX_PAGE:
        raise UserError(400, f"Les résultats s'arrêtent à la page {MAX_PAGE}. Précisez votre recherche.")
    per_page = PREVIEW_SIZE if preview else PER_PAGE
    offset = (page - 1) * per_page
    context = {"query": query, "results": None, "hits": [], "page": page, "pages": 0,
               "offset": offset, "preview": preview, "error": False, "life_events": [], "shortcut": None}
    status = 200
    if query:
        try:
            found = services.search(query, limit=per_page, offset=offset)
        except SearchUnavailable:
            current_app.logger.error("search index unavailable")
            context["error"] = True
            status = 503
        else:
            context["query"] = found.query
            context["results"] = found
            context["hits"] = [
                {"slug": h.slug, "kind": h.kind, "title": h.title, "summary": h.summary,
                 "url": entry_url(kind=h.kind, slug=h.slug)}
                for h in found.hits
            ]
            context["pages"] = min(math.ceil(found.total / per_page), MAX_PAGE)
            context["page_numbers"] = _page_numbers(page, context["pages"])
            if found.total == 0:
                context["life_events"] = catalogue.life_events(db.session)
            context["shortcut"] = station_shortcut(db.session, found.query)
    return render("search/results.html", "search/_results.html", status=status, **context)


@bp.get("/api/v1/search")
@search_rate_limit
def api_search():
    """``{"query", "total", "results": [{"slug", "title", "summary", "url", "kind"}], "suggestion"}``."""
    query = request.args.get("q", "").strip()
    if not query:
        raise UserError(400, "Le paramètre q (le texte recherché) est obligatoire.")
    limit = small_integer(request.args.get("limit", "10"))
    if limit is None or not 1 <= limit <= API_MAX_LIMIT:
        raise UserError(400, f"Le paramètre limit doit être un nombre entier entre 1 et {API_MAX_LIMIT}.")
    found = services.search(query[: MAX_QUERY_CHARS * 2], limit=limit)
    return jsonify(
        {
            "query": found.query,
            "total": found.total,
            "results": [
                {"slug": h.slug, "title": h.title, "summary": h.summary,
                 "url": entry_url(kind=h.kind, slug=h.slug, external=True), "kind": h.kind}
                for h in found.hits
            ],
            "suggestion": found.suggestion,
        }
    )
