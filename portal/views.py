"""Citizen-facing pages that are not a catalogue entry: home, life events, sources, health."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from catalogue import services as catalogue
from portal.extensions import db
from portal.security import mark_sensitive
from search import services as search
from search.engine import SearchUnavailable

bp = Blueprint("portal", __name__)

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
