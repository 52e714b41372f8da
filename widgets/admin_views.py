"""Administrators register mairies and their sites' origins (/agents/mairies).

Thin views over ``widgets.admin``: every change is a POST carrying the CSRF token, answered 303 to the
mairie's page with a notice; a refusal shows the form again with the French reason beside each field.
After a commit the process forgets its copy of the registry (``registry.invalidate``): the widgets and the
API of this worker follow at once, the others within ``WIDGET_ORIGINS_CACHE_SECONDS``. The pages do not
exist for agents who are not administrators (404).
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from agents.access import require_role
from agents.services import current_agent
from portal.errors import Refused
from portal.extensions import db, end_reads
from portal.security import no_store
from widgets import admin, registry

bp = Blueprint("mairies_console", __name__, url_prefix="/agents")

admin_only = require_role("admin", hidden_unless=("admin",))
MAIRIE = "/mairies/<int(max=2147483647):mairie_id>"  # bounded: a longer number is a 404, not an overflow
NOTICES = {
    "inscrite": "La mairie est inscrite : ses sites peuvent intégrer les widgets de la commune (tous les "
                "serveurs du portail le savent dans la minute).",
    "modifiee": "L'inscription est modifiée (tous les serveurs du portail le savent dans la minute).",
    "inchangee": "Rien n'a changé : l'inscription est telle qu'elle était.",
    "activee": "L'inscription est réactivée : les sites de la mairie peuvent de nouveau intégrer les widgets.",
    "desactivee": "L'inscription est désactivée : les sites de la mairie reçoivent la page « Widget non "
                  "autorisé » au lieu des widgets, et leurs pages ne peuvent plus lire l'API depuis leur JavaScript "
                  "(dans la minute).",
    "supprimee": "L'inscription est supprimée. Le journal d'audit en garde la trace.",
}
ALREADY = "Cette commune vient d'être inscrite par une autre personne : retrouvez-la dans la liste des mairies."
CONFIRM_REMOVAL = "Cochez la case pour confirmer la suppression : elle ne peut pas être annulée."


@bp.app_context_processor
def _menu():
    """The administrators' entry of the agents' menu (templates/agents/_header.html)."""

    def mairies_menu(agent) -> list[tuple[str, str, tuple[str, ...]]]:
        if agent is None or not agent.has_role("admin"):
            return []
        return [("Mairies et widgets", url_for("mairies_console.list_mairies"), ("mairies_console.",))]

    return {"mairies_menu": mairies_menu}


def _page(template: str, status: int = 200, **context):
    return no_store(make_response(render_template(template, **context), status))


def _mairie(mairie_id: int):
    found = admin.mairie(db.session, mairie_id)
    if found is None:
        abort(404)
    return found


def _form(mairie=None, values: dict | None = None, errors: dict | None = None, notice: str | None = None,
          status: int = 200):
    if values is None:
        values = {"code_insee": "", "name": "", "contact": "", "origins": ""}
        if mairie is not None:
            values = {"code_insee": mairie.code_insee, "name": mairie.name, "contact": mairie.contact,
                      "origins": "\n".join(o.origin for o in mairie.origins)}
    commune = admin.commune_name(db.session, mairie.code_insee) if mairie is not None else None
    return _page("widgets/admin/form.html", status=status, mairie=mairie, commune=commune, values=values,
                 errors=errors or {}, notice=notice, max_origins=admin.MAX_ORIGINS,
                 loopback=registry.loopback_allowed())


def _posted() -> dict[str, str]:
    return {name: request.form.get(name, "")[:4000] for name in ("code_insee", "name", "contact", "origins")}


def _errors(refused: Refused) -> dict[str, str]:
    return getattr(refused, "errors", None) or {refused.field or "general": refused.message}


def admin_notice(code: str) -> str | None:
    return NOTICES.get(code)


def _commit() -> None:
    db.session.commit()
    registry.invalidate()


@bp.get("/mairies")
@admin_only
def list_mairies():
    return _page("widgets/admin/list.html", rows=admin.mairies(db.session),
                 notice=admin_notice(request.args.get("fait", "")))


@bp.get("/mairies/nouvelle")
@admin_only
def new_mairie():
    return _form()


@bp.post("/mairies/nouvelle")
@admin_only
def create_mairie():
    values = _posted()
    agent = current_agent()
    end_reads(db.session)
    try:
        created = admin.register(db.session, agent, values["code_insee"], values["name"], values["contact"],
                                 values["origins"], allow_loopback=registry.loopback_allowed())
        _commit()
    except Refused as refused:
        db.session.rollback()
        return _form(values=values, errors=_errors(refused), status=refused.status)
    except IntegrityError:  # another administrator registered the commune at the same moment
        db.session.rollback()
        return _form(values=values, errors={"code_insee": ALREADY}, status=409)
    return redirect(url_for("mairies_console.edit_mairie", mairie_id=created.id, fait="inscrite"), 303)


@bp.get(MAIRIE)
@admin_only
def edit_mairie(mairie_id: int):
    return _form(_mairie(mairie_id), notice=admin_notice(request.args.get("fait", "")))


@bp.post(MAIRIE)
@admin_only
def save_mairie(mairie_id: int):
    values = _posted()
    agent = current_agent()
    end_reads(db.session)
    found = _mairie(mairie_id)
    try:
        changed = admin.update(db.session, agent, found, values["name"], values["contact"], values["origins"],
                               allow_loopback=registry.loopback_allowed())
        _commit()
    except Refused as refused:
        db.session.rollback()
        values["code_insee"] = found.code_insee
        return _form(found, values=values, errors=_errors(refused), status=refused.status)
    return redirect(url_for("mairies_console.edit_mairie", mairie_id=mairie_id,
                            fait="modifiee" if changed else "inchangee"), 303)


@bp.post(MAIRIE + "/activer")
@admin_only
def activate_mairie(mairie_id: int):
    return _switch(mairie_id, True)


@bp.post(MAIRIE + "/desactiver")
@admin_only
def deactivate_mairie(mairie_id: int):
    return _switch(mairie_id, False)


def _switch(mairie_id: int, active: bool):
    agent = current_agent()
    end_reads(db.session)
    admin.set_active(db.session, agent, _mairie(mairie_id), active)
    _commit()
    return redirect(url_for("mairies_console.edit_mairie", mairie_id=mairie_id,
                            fait="activee" if active else "desactivee"), 303)


@bp.post(MAIRIE + "/supprimer")
@admin_only
def remove_mairie(mairie_id: int):
    agent = current_agent()
    end_reads(db.session)
    found = _mairie(mairie_id)
    if request.form.get("confirmer") != "1":
        return _form(found, errors={"confirmer": CONFIRM_REMOVAL}, status=400)
    admin.remove(db.session, agent, found)
    _commit()
    return redirect(url_for("mairies_console.list_mairies", fait="supprimee"), 303)
