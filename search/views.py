"""The search page (full page or htmx fragment) and the link that counts a followed result (the API: api.views)."""

from __future__ import annotations

import math

from flask import Blueprint, abort, current_app, redirect, request, url_for
from sqlalchemy import select

from catalogue.models import Procedure
from catalogue.services import entry_url
from portal.errors import UserError
from portal.extensions import db, end_reads
from portal.htmx import render, wants_fragment
from portal.params import page_number, small_integer
from portal.security import limiter, mark_sensitive
from search import analytics, services
from search.engine import MAX_QUERY_CHARS, SearchUnavailable

bp = Blueprint("search", __name__)

PER_PAGE = 10
PREVIEW_SIZE = 5
MAX_PAGE = 100


def _search_limit() -> str:
    return current_app.config["SEARCH_RATE_LIMIT"]


# One budget per visitor for the page, its live updates, its result links and the API (api.views, same scope).
search_rate_limit = limiter.shared_limit(_search_limit, scope="search")

# The ids of the search forms (templates/search/_form.html, the header's): an htmx request they trigger is a
# search sent by the citizen; one the search box triggers is the live results of typing, never recorded.
SUBMIT_TRIGGERS = frozenset({"search-form", "header-search"})
# A later page of a recorded search carries its token, so that its clicks count for it (and no new search is).
TOKEN_PARAM = "recherche"
# Where a result link leads: the catalogue entry, named by its slug, its address built here.
TARGET_PARAM = "vers"


def _sent_by_the_citizen() -> bool:
    """A full page (Enter, the button, the header's form, a link) or htmx submitting a search form: not the
    live results of typing, the home page's preview, nor a page htmx restores from its history."""
    if request.args.get("apercu") == "1" or request.headers.get("HX-History-Restore-Request") == "true":
        return False
    return not wants_fragment() or request.headers.get("HX-Trigger") in SUBMIT_TRIGGERS


def _search_token(query: str, total: int, page: int) -> str | None:
    """The token the result links carry: a later page's, or a new one when this search is recorded."""
    carried = request.args.get(TOKEN_PARAM, "")
    if analytics.TOKEN.fullmatch(carried):
        return carried
    if page != 1 or not _sent_by_the_citizen():
        return None
    client = analytics.Client(request.remote_addr or "", request.headers.get("User-Agent", "")[:500])
    try:
        end_reads(db.session)  # the search's reads; what they loaded stays for the page
        token = analytics.record_search(db.session, query, total, client)
        db.session.commit()
    except Exception as exc:  # the search must not fail for its statistics; the query is never logged
        db.session.rollback()
        current_app.logger.warning("search analytics: search not recorded (%s)", type(exc).__name__)
        return None
    return token


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

    A search the citizen sent is recorded for the editors' statistics (search.analytics:
    scrubbed query, day, number of results, visitor key), never the live results of typing;
    its result links then go through ``follow``, which counts the click.
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
               "sensitive": False, "search_token": None}
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
            token = _search_token(results.query, results.total, page)
            context.update(
                query=results.query, results=results, shortcut=found.shortcut, life_events=found.life_events,
                sensitive=found.sensitive, search_token=token,
                hits=[{"slug": h.slug, "kind": h.kind, "title": h.title, "summary": h.summary,
                       "url": entry_url(kind=h.kind, slug=h.slug),
                       "link": url_for("search.follow", token=token, rank=offset + i, **{TARGET_PARAM: h.slug})
                       if token else entry_url(kind=h.kind, slug=h.slug)}
                      for i, h in enumerate(results.hits, start=1)],
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


@bp.get("/recherche/resultat/<token>/<rank>")
@search_rate_limit
def follow(token: str, rank: str):
    """303 to the result a citizen chose from a recorded search, counting the click: the statistics see
    it without JavaScript. The target is the catalogue entry named by ``vers``, looked up and its address
    built here (never taken from the request); a bad token or rank only goes uncounted; 404 for an entry
    that is not on the portal.
    """
    slug = request.args.get(TARGET_PARAM, "")[:80]
    entry = db.session.execute(
        select(Procedure.kind, Procedure.slug)
        .where(Procedure.slug == slug, Procedure.status.in_(("published", "retired")))
    ).first()
    if entry is None:
        abort(404)
    position = small_integer(rank)
    # HEAD: a link checker or a prefetch, not a citizen's choice.
    if request.method == "GET" and position is not None and analytics.TOKEN.fullmatch(token):
        try:
            end_reads(db.session)
            analytics.record_click(db.session, token, position)
            db.session.commit()
        except Exception as exc:  # the citizen still gets the page
            db.session.rollback()
            current_app.logger.warning("search analytics: click not recorded (%s)", type(exc).__name__)
    response = redirect(entry_url(kind=entry.kind, slug=entry.slug), 303)
    response.headers["Cache-Control"] = "no-store"  # each click counts; nothing to keep
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
