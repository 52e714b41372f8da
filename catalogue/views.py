"""The catalogue's pages: the home page and its life events, procedures, fiches, sources (the API: api.views)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, redirect, render_template
from flask_login import login_required

from accounts.services import current_identity
from catalogue import services
from maps import services as maps
from portal.extensions import db
from portal.security import mark_sensitive

bp = Blueprint("catalogue", __name__)

# The portal's own online services shown on the home page, in this order.
FEATURED = ("plainte-en-ligne", "visio-plainte", "tchat-police", "thesee", "pharos", "17cyber")


@bp.get("/")
def home():
    entries = {e.slug: e for e in services.own_procedures(db.session)}
    featured = [entries[slug] for slug in FEATURED if slug in entries]
    return render_template(
        "catalogue/home.html", life_events=services.life_events(db.session), featured=featured
    )


@bp.get("/situations/<slug>")
def life_event(slug: str):
    event = services.life_event(db.session, slug)
    if event is None:
        abort(404)
    if event.status != "published":
        return _gone("life_event")
    if event.sensitive:
        mark_sensitive()
    return render_template("catalogue/life_event.html", event=event)


@bp.get("/sources")
def sources():
    own = len(services.own_procedures(db.session))
    return render_template(
        "catalogue/sources.html",
        own_count=own,
        fiche_count=services.published_count(db.session) - own,
        stations=maps.data_summary(db.session),
    )


@bp.get("/demarches/")
def index():
    procedures = services.own_procedures(db.session)
    return render_template(
        "catalogue/index.html",
        procedures=procedures,
        fiche_count=services.published_count(db.session) - len(procedures),
    )


def _gone(kind: str, note: str | None = None, replaced: bool = False):
    """410: the address existed and was withdrawn on purpose (search engines drop it), with where to go.

    The template words it by ``kind`` ("procedure" | "life_event"); ``replaced``: a procedure whose
    replacement is no longer published either (the page says so when the editors left no note).
    """
    return render_template("catalogue/gone.html", kind=kind, note=note, replaced=replaced), 410


def _retired_or_404(slug: str):
    """A retired procedure: 301 to its replacement while that is published, else the 410 page; else 404."""
    entry = services.retired(db.session, slug)
    if entry is None:
        abort(404)
    replacement = services.published(db.session, entry.superseded_by) if entry.superseded_by else None
    if replacement is not None:
        return redirect(services.entry_url(replacement), 301)
    return _gone("procedure", entry.retired_note, replaced=bool(entry.superseded_by))


@bp.get("/demarches/<slug>")
def procedure(slug: str):
    entry = services.published(db.session, slug)
    if entry is None:
        return _retired_or_404(slug)
    if entry.is_fiche:
        return redirect(services.entry_url(entry), 301)
    if entry.sensitive:
        mark_sensitive()
    return render_template(
        "catalogue/procedure.html",
        entry=entry,
        sections=services.sections(entry),
        sources=services.resolve_sources(db.session, entry.sources),
    )


@bp.get("/demarches/<slug>/commencer")
@login_required
def start(slug: str):
    """Where a procedure that needs an identity begins: the identity is there, read-only.

    Signing in (FranceConnect or the e-mail alternative) brings the person
    back here, to exactly this address.
    """
    entry = services.published(db.session, slug)
    if entry is None or entry.is_fiche or not entry.requires_franceconnect:
        abort(404)
    if entry.sensitive:
        mark_sensitive()
    response = current_app.make_response(
        render_template("catalogue/start.html", entry=entry, identity=current_identity())
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/fiches/<slug>")
def fiche(slug: str):
    entry = services.published(db.session, slug)
    if entry is None:  # a hidden fiche too: 404, as if it had never been imported
        return _retired_or_404(slug)
    if not entry.is_fiche:
        return redirect(services.entry_url(entry), 301)
    if entry.sensitive:  # service-public.fr fiches on violence (catalogue.loader.fiche_is_sensitive)
        mark_sensitive()
    replacement = services.published(db.session, entry.superseded_by) if entry.superseded_by else None
    return render_template(
        "catalogue/fiche.html",
        entry=entry,
        replacement=replacement,
        dated=entry.is_dated(date.today(), current_app.config["FICHE_MAX_AGE_DAYS"]),
    )
