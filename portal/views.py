"""Citizen-facing pages that are not a catalogue entry: home, life events, sources, health."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from catalogue import services as catalogue
from maps import services as maps
from portal.extensions import csrf, db
from portal.security import CSP_REPORT_PATH, limiter, mark_sensitive
from search import services as search
from search.engine import SearchUnavailable

bp = Blueprint("portal", __name__)
log = logging.getLogger(__name__)
MAX_CSP_REPORT_BYTES = 16_384

# The portal's own online services shown on the home page, in this order.
FEATURED = ("plainte-en-ligne", "visio-plainte", "tchat-police", "thesee", "pharos", "17cyber")


@bp.get("/")
def home():
    entries = {e.slug: e for e in catalogue.own_procedures(db.session)}
    featured = [entries[slug] for slug in FEATURED if slug in entries]
    return render_template(
        "portal/home.html", life_events=catalogue.life_events(db.session), featured=featured
    )


@bp.get("/situations/<slug>")
def life_event(slug: str):
    event = catalogue.life_event(db.session, slug)
    if event is None:
        abort(404)
    if event.sensitive:
        mark_sensitive()
    return render_template("portal/life_event.html", event=event)


@bp.get("/sources")
def sources():
    own = len(catalogue.own_procedures(db.session))
    return render_template(
        "portal/sources.html",
        own_count=own,
        fiche_count=catalogue.published_count(db.session) - own,
        stations=maps.data_summary(db.session),
    )


@bp.get("/healthz")
def healthz():
    """200 once the database and the search index both answer; 503 with what failed otherwise."""
    checks = {"database": "ok", "search": "ok"}
    try:
        db.session.execute(select(1))
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    try:
        search.engine().search("plainte", limit=1)
    except SearchUnavailable:
        checks["search"] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok"} if healthy else {"status": "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503


@bp.get("/accessibilite")
def accessibility():
    return render_template("portal/accessibility.html")


def _origin(url: str) -> str:
    """What was blocked, without paths or query strings: an origin or a keyword ("inline")."""
    if not url or "://" not in url:
        return (url or "")[:40]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"[:200]


def _csp_reports(payload) -> list[dict]:
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        r = payload["csp-report"]
        return [{"page": r.get("document-uri"), "directive": r.get("effective-directive")
                 or r.get("violated-directive"), "blocked": r.get("blocked-uri")}]
    if isinstance(payload, list):
        return [
            {"page": r["body"].get("documentURL"), "directive": r["body"].get("effectiveDirective"),
             "blocked": r["body"].get("blockedURL")}
            for r in payload
            if isinstance(r, dict) and r.get("type") == "csp-violation" and isinstance(r.get("body"), dict)
        ]
    return []


@bp.post(CSP_REPORT_PATH)
@csrf.exempt
@limiter.limit("60 per minute")
def csp_report():
    """Browsers report Content-Security-Policy violations here (no CSRF token: they cannot send one).

    Only the page's path, the directive and the blocked origin are logged:
    never a query string, which could hold what a citizen searched for.
    """
    if (request.content_length or 0) > MAX_CSP_REPORT_BYTES:
        abort(413)
    payload = request.get_json(force=True, silent=True)
    for report in _csp_reports(payload):
        log.warning(
            "csp violation: page=%s directive=%s blocked=%s",
            urlsplit(str(report["page"] or "")).path[:200],
            str(report["directive"] or "")[:60],
            _origin(str(report["blocked"] or "")),
        )
    return "", 204
