"""The search page (full page or htmx fragment) and the search API."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify, request, url_for

from catalogue.services import entry_url
from portal.errors import UserError
from portal.extensions import db
from portal.htmx import render, wants_fragment
from portal.params import page_number, small_integer
from portal.security import limiter, mark_sensitive
from search import services
from search.engine import MAX_QUERY_CHARS, SearchUnavailable

bp = Blueprint("search", __name__)

PER_PAGE = 10
PREVIEW_SIZE = 5
MAX_PAGE = 100
API_MAX_LIMIT = 50
# The API reaches as deep as the pages do: 100 pages of 10.
API_MAX_OFFSET = MAX_PAGE * PER_PAGE


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
    """Raises 400 for a bad page number; answers 503 (with the page) when the index is unreadable.

    A query that leads to a page about violence gets that page's protection:
    quick exit, no referrer, nothing kept by the browser, a title without the
    query, and no address with the query in the history: a live fragment tells
    htmx to write the neutral /recherche instead (an earlier, ordinary fragment of
    the same typing may have written its own query: "mon" before "mon mari"), and
    the full page carries a marker for portal.js to do the same (Enter, or the
    header's search form). Without JavaScript the address stays as the browser
    wrote it: only the title and the caching are neutral then.
    """
    query = request.args.get("q", "")[: MAX_QUERY_CHARS * 2].strip()
    preview = request.args.get("apercu") == "1"
    page = page_number(request.args.get("page"))
    if page > MAX_PAGE:
        raise UserError(400, f"Les résultats s'arrêtent à la page {MAX_PAGE}. Précisez votre recherche.")
    per_page = PREVIEW_SIZE if preview else PER_PAGE
    offset = (page - 1) * per_page
    context = {"query": query, "results": None, "hits": [], "page": page, "pages": 0,
               "offset": offset, "preview": preview, "error": False, "life_events": [], "shortcut": None,
               "sensitive": False}
    status = 200
    if query:
        try:
            found = services.results_page(db.session, query, limit=per_page, offset=offset)
        except SearchUnavailable:
            current_app.logger.error("search index unavailable")
            context["error"] = True
            status = 503
        else:
            results = found.results
            context.update(
                query=results.query, results=results, shortcut=found.shortcut, life_events=found.life_events,
                sensitive=found.sensitive,
                hits=[{"slug": h.slug, "kind": h.kind, "title": h.title, "summary": h.summary,
                       "url": entry_url(kind=h.kind, slug=h.slug)} for h in results.hits],
                pages=min(math.ceil(results.total / per_page), MAX_PAGE),
            )
            context["page_numbers"] = _page_numbers(page, context["pages"])
    if context["sensitive"]:
        mark_sensitive()
    response = render("search/results.html", "search/_results.html", status=status, **context)
    if context["sensitive"] and wants_fragment():
        # The results page's search box replaces the address as one types (hx-replace-url): not with
        # this query, nor with the one an earlier fragment wrote. The home page's preview writes none.
        response.headers["HX-Replace-Url"] = "false" if preview else url_for("search.results")
    return response


def _bounded_integer(name: str, default: str, low: int, high: int) -> int:
    value = small_integer(request.args.get(name, default))
    if value is None or not low <= value <= high:
        raise UserError(400, f"Le paramètre {name} doit être un nombre entier entre {low} et {high}.")
    return value


@bp.get("/api/v1/search")
@search_rate_limit
def api_search():
    """``{"query", "total", "offset", "limit", "results": [{"slug", "title", "summary", "url", "kind"}],
    "suggestion", "next"}``; ``next`` is the address of the following results, null after the last.

    Raises 400 (French JSON) without ``q``, or for a ``limit`` outside 1..50 or an
    ``offset`` outside 0..1000; 503 when the index is unreadable.
    """
    query = request.args.get("q", "").strip()
    if not query:
        raise UserError(400, "Le paramètre q (le texte recherché) est obligatoire.")
    limit = _bounded_integer("limit", "10", 1, API_MAX_LIMIT)
    offset = _bounded_integer("offset", "0", 0, API_MAX_OFFSET)
    found = services.search(query[: MAX_QUERY_CHARS * 2], limit=limit, offset=offset)
    following = offset + limit
    has_next = following < min(found.total, API_MAX_OFFSET + 1)
    return jsonify(
        {
            "query": found.query,
            "total": found.total,
            "offset": offset,
            "limit": limit,
            "results": [
                {"slug": h.slug, "title": h.title, "summary": h.summary,
                 "url": entry_url(kind=h.kind, slug=h.slug, external=True), "kind": h.kind}
                for h in found.hits
            ],
            "suggestion": found.suggestion,
            "next": url_for("search.api_search", q=found.query, limit=limit, offset=following)
            if has_next else None,
        }
    )
