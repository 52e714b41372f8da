"""The widgets' pages (/widgets/…), the refusal page and the loader script.

Caching: a widget's answer depends on who frames it (the refusal page for an
unregistered ``Referer``) and on the registry, which may change at any time;
so it is ``private, max-age=60`` with ``Vary: Referer, Sec-Fetch-Dest``: no
shared cache may give one site's answer to another, and a withdrawal reaches
a browser within a minute. Nothing else varies: no cookie is read or set
(``/widgets/`` is in ``accounts.sessions.SESSIONLESS_PREFIXES``), no session,
no CSRF (GET forms only).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template, request

from catalogue.services import entry_url
from portal.extensions import db
from portal.params import repeated_parameter
from portal.security import csp_replace, limiter, mark_sensitive
from search import services as search_services
from search.engine import SearchUnavailable
from widgets import registry, services
from widgets.services import Options, WidgetError

bp = Blueprint("widgets", __name__, url_prefix="/widgets")

widget_rate_limit = limiter.shared_limit(lambda: current_app.config["WIDGET_RATE_LIMIT"], scope="widgets")
# The same budget as the portal's search page (search.views' scope "search"): the widget is another door to it.
search_rate_limit = limiter.shared_limit(lambda: current_app.config["SEARCH_RATE_LIMIT"], scope="search")
LOADER = Path("static") / "js" / "widget_loader.js"
# The builder page, where a mairie learns how to register its site (widgets.builder, helper C's blueprint).
MAIRIES_PATH = "/mairies"


def _own_origin() -> str:
    return request.host_url.rstrip("/")


def _embedder() -> str | None:
    return services.embedder(request.headers.get("Sec-Fetch-Dest"), request.headers.get("Referer"),
                             {_own_origin()})


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, max-age=60"
    response.vary.update(("Referer", "Sec-Fetch-Dest"))
    return response


def _refusal(status: int) -> Response:
    """The refusal page: no data, framable by anyone so that the citizen reads why, links to /mairies."""
    csp_replace("frame-ancestors", "*")
    response = Response(render_template("widgets/refused.html", mairies_url=MAIRIES_PATH), status=status)
    return _cached(response)


def _error(message: str, status: int = 400, title: str = "Widget mal configuré") -> Response:
    """A French error inside the frame, framable by the sites that may frame the commune's widgets, and by a
    registered site (of another commune) that got the parameters wrong, so that its webmaster sees why."""
    reg = registry.current(db.session)
    embedding = _embedder()
    if embedding is not None and embedding not in reg.origins:
        return _refusal(403)
    ancestors = services.frame_ancestors(reg, request.args.get("commune"))
    if embedding is not None and embedding not in ancestors:
        ancestors = (*ancestors, embedding)
    csp_replace("frame-ancestors", *ancestors)
    scheme, compact = services.lenient_theme(request.args)
    response = Response(render_template("widgets/error.html", title=title, message=message, scheme=scheme,
                                        compact=compact, status=status, mairies_url=MAIRIES_PATH), status=status)
    return _cached(response)


def _widget(name: str) -> tuple[Options | None, Response | None]:
    """Read the options and decide who may frame the answer; returns the options, or the response to send."""
    reason = repeated_parameter(request.args)
    if reason:
        return None, _error(reason)
    try:
        options = services.parse_options(db.session, name, request.args)
    except WidgetError as exc:
        return None, _error(exc.message)
    reg = registry.current(db.session)
    code = options.commune.code_insee
    if services.refused(reg, code, _embedder()):
        return None, _refusal(403)
    csp_replace("frame-ancestors", *services.frame_ancestors(reg, code))
    g.widget_parents = services.parent_origins(reg, code, _own_origin())
    return options, None


def _page(template: str, options: Options, status: int = 200, **context) -> Response:
    html = render_template(template, options=options, entry_url=entry_url,
                           parent_origins=g.get("widget_parents", ()), **context)
    return _cached(Response(html, status=status))


@bp.errorhandler(429)
def _too_many(exc):
    return _error("Ce widget a reçu trop de demandes en peu de temps. Patientez une minute puis rechargez la page.",
                  429, "Trop de demandes")


@bp.get("/recherche")
@widget_rate_limit
@search_rate_limit
def recherche():
    """The search box; with ``resultats=widget`` and ``q``, the first results inside the frame.

    A query that leads to a page about violence gets that page's protection
    (no referrer, nothing kept by the browser), as on the portal. Searches made
    in a widget are not recorded in the editors' statistics: the statistics'
    visitor key and result-click redirect belong to the portal's own pages.
    """
    options, refusal = _widget("recherche")
    if refusal:
        return refusal
    results, sensitive, unavailable = None, False, False
    if options.resultats == "widget" and options.q:
        try:
            results, sensitive = search_services.search_and_sensitivity(db.session, options.q,
                                                                        limit=services.SEARCH_RESULTS_SHOWN)
        except SearchUnavailable:
            current_app.logger.error("search index unavailable (widget)")
            unavailable = True
        if sensitive:
            mark_sensitive()
    return _page("widgets/recherche.html", options, 503 if unavailable else 200, results=results,
                 sensitive=sensitive, unavailable=unavailable)


@bp.get("/situations")
@widget_rate_limit
def situations():
    options, refusal = _widget("situations")
    if refusal:
        return refusal
    return _page("widgets/situations.html", options, events=services.situations(db.session))


@bp.get("/unites")
@widget_rate_limit
def unites():
    options, refusal = _widget("unites")
    if refusal:
        return refusal
    limit = services.UNITS_SHOWN_COMPACT if options.compact else services.UNITS_SHOWN
    return _page("widgets/unites.html", options,
                 found=services.nearest_units(db.session, options.commune, limit, with_plan=options.carte))


@bp.get("/demarche")
@widget_rate_limit
def demarche():
    options, refusal = _widget("demarche")
    if refusal:
        return refusal
    return _page("widgets/demarche.html", options, entries=services.procedures(db.session, options.demarches))


@bp.get("/urgences")
@widget_rate_limit
def urgences():
    options, refusal = _widget("urgences")
    if refusal:
        return refusal
    return _page("widgets/urgences.html", options, emergency=services.emergency(db.session, options.commune))


@bp.get("/non-autorise")
@widget_rate_limit
def non_autorise():
    """The refusal page at its own address (the builder links to it; a site may be sent to it)."""
    return _refusal(200)


@cache
def _loader_source(root: str) -> bytes:
    return (Path(root) / LOADER).read_bytes()


@bp.get("/loader.js")
def loader():
    """The loader at a stable address (not fingerprinted: mairies paste it once), cached an hour; a static
    file, unlimited as the portal's other assets are (a 429 here would be an HTML page where a script belongs).

    It finds the portal's origin from its own ``src``, so the same file serves every host name.
    """
    response = Response(_loader_source(current_app.root_path), content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.add_etag()
    return response.make_conditional(request)
