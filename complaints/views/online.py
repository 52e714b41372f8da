"""Plainte en ligne: start page, one step per screen, summary, submission, acknowledgement.

Every page works without JavaScript (POST → 303 → GET); htmx only adds the
commune suggestions. The draft lives on the server (complaints.online), and
every page that shows it sends ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from accounts.services import current_identity
from complaints import offences, online
from complaints.cases import citizen_case, notify_citizen
from complaints.views import account_key, bp, own_case, private_page
from maps.services import station_names
from portal.extensions import db
from portal.htmx import render
from portal.security import limiter

log = logging.getLogger("complaints.online")
LAST_REFERENCE_KEY = "pel_last_reference"


def _finder_limit() -> str:
    return current_app.config["FINDER_RATE_LIMIT"]


def _draft_data() -> dict:
    draft = online.get_draft(db.session, current_user.id)
    return dict(draft.data or {}) if draft else {}


def _common(step: str | None = None) -> dict:
    return {"steps": online.STEPS, "step": step, "step_titles": online.STEP_TITLES,
            "step_number": online.STEP_SLUGS.index(step) + 1 if step in online.STEP_SLUGS else None,
            "identity": current_identity(), "offences": offences, "online": online}


def _back_to_summary() -> bool:
    return request.values.get("retour") == online.SUMMARY


@bp.get("/plainte-en-ligne")
def start_online():
    """Who can use it, what to have at hand; sign in first, or resume a draft."""
    draft = _draft_data() if current_user.is_authenticated else {}
    resume = None
    if draft:
        resume = online.first_incomplete(draft) or online.SUMMARY
    return private_page("complaints/online/start.html", draft=draft, resume=resume, **_common())


@bp.get("/plainte-en-ligne/reprendre")
@login_required
def resume_online():
    draft = _draft_data()
    if not draft:
        return redirect(url_for("complaints.start_online"))
    step = online.first_incomplete(draft)
    if step is None:
        return redirect(url_for("complaints.show_online_summary"))
    return redirect(url_for("complaints.edit_online_step", step=step))


def _step_context(step: str, draft: dict, values: dict | None = None, errors: dict | None = None,
                  suggestions: list | None = None) -> dict:
    context = {**_common(step), "draft": draft, "values": values if values is not None else draft,
               "errors": errors or {}, "suggestions": suggestions or [],
               "back_to_summary": _back_to_summary(), "previous": online.previous_step(step)}
    if step == "faits":
        context["choices"] = offences.offences_for(online.KIND)
    elif step == "objets":
        items = (values or draft).get("items") or []
        wanted = request.args.get("lignes", type=int) or 0
        rows = min(online.MAX_ITEMS, max(len(items), wanted, 1))
        if values is not None and "rows" in values:
            rows = values["rows"]
        context.update(rows=rows, item_types=online.ITEM_TYPES, card_blocking=online.CARD_BLOCKING,
                       phone_blocking=online.PHONE_BLOCKING)
    elif step == "unite":
        context["choices"] = online.unit_choices(db.session, draft)
    return context


@bp.get("/plainte-en-ligne/<step>")
@login_required
def edit_online_step(step: str):
    if step not in online.STEP_SLUGS:
        abort(404)
    draft = _draft_data()
    if step != "faits" and not draft:
        return redirect(url_for("complaints.start_online"))
    values = draft
    if step == "lieu" and request.args.get("commune"):
        values = {**draft, "commune_query": request.args.get("commune", "")[:100]}
    elif step == "objets":
        values = {**draft, "items": draft.get("items") or []}
    return private_page(f"complaints/online/step_{step}.html", **_step_context(step, draft, values))


def _form_values(step: str) -> dict:
    """What the citizen typed, to show it back with the errors."""
    form = request.form
    if step == "objets":
        rows = online.item_rows(form)
        filled = [i for i, r in enumerate(rows, 1) if any(r[f] for f in online.ITEM_FIELDS if f != "type")]
        count = max([1, *filled])
        rows = [{field: online.scrub(value) for field, value in row.items()} for row in rows[:count]]
        return {"items": rows, "rows": count}
    if step == "lieu":
        return {"commune_query": form.get("commune", "")[:100], "address": online.scrub(form.get("address", "")[:300])}
    # A full card number typed by mistake is never written back into the page.
    return {key: online.scrub(form.get(key, "")[:online.MAX_NARRATIVE + 100]) for key in form if key != "csrf_token"}


@bp.post("/plainte-en-ligne/<step>")
@login_required
@limiter.limit("120 per minute")
def save_online_step(step: str):
    if step not in online.STEP_SLUGS:
        abort(404)
    draft = _draft_data()
    if step != "faits" and not draft:
        return redirect(url_for("complaints.start_online"), 303)
    result, suggestions = online.validate_step(db.session, step, request.form, draft)
    if not result.ok:
        db.session.rollback()
        context = _step_context(step, draft, _form_values(step), result.errors, suggestions)
        return private_page(f"complaints/online/step_{step}.html", status=400, **context)
    values = dict(result.values)
    if step == "lieu" and values.get("code_insee") != draft.get("code_insee"):
        values["unit_id"] = None  # another commune: the unit is chosen again among its nearest
    online.save_draft(db.session, current_user.id, values)
    db.session.commit()
    log.info("draft step saved: step=%s account=%s", step, current_user.id)
    if step == "objets" and request.form.get("action") == "ajouter":
        rows = min(online.MAX_ITEMS, len(values["items"]) + 1)
        return redirect(url_for("complaints.edit_online_step", step="objets", lignes=rows,
                                retour=online.SUMMARY if _back_to_summary() else None), 303)
    merged = {**draft, **{k: v for k, v in values.items() if v is not None}}
    if _back_to_summary():
        missing = online.first_incomplete(merged)
        if missing:
            return redirect(url_for("complaints.edit_online_step", step=missing, retour=online.SUMMARY), 303)
        return redirect(url_for("complaints.show_online_summary"), 303)
    following = online.next_step(step)
    if following == online.SUMMARY:
        return redirect(url_for("complaints.show_online_summary"), 303)
    return redirect(url_for("complaints.edit_online_step", step=following), 303)


@bp.get("/plainte-en-ligne/communes")
@limiter.limit(_finder_limit)
def suggest_communes():
    """Communes matching what is typed (the station finder's gazetteer), as links that fill the place step."""
    from maps import services as maps

    gazetteer, _ = maps.finder(db.session)
    typed = request.args.get("commune", "").strip()[:100]
    return render("complaints/online/communes.html", "complaints/online/_communes.html",
                  suggestions=gazetteer.complete(typed), typed=typed)


def _summary_context(draft: dict, errors: dict | None = None) -> dict:
    unit_id = draft.get("unit_id")
    unit_name = station_names(db.session, [unit_id]).get(unit_id, "") if unit_id else ""
    return {**_common(online.SUMMARY), "draft": draft, "unit_name": unit_name, "errors": errors or {},
            "item_types": online.ITEM_TYPES}


@bp.get("/plainte-en-ligne/recapitulatif")
@login_required
def show_online_summary():
    draft = _draft_data()
    if not draft:
        return redirect(url_for("complaints.start_online"))
    missing = online.first_incomplete(draft)
    if missing:
        return redirect(url_for("complaints.edit_online_step", step=missing))
    return private_page("complaints/online/summary.html", **_summary_context(draft))


@bp.post("/plainte-en-ligne/envoyer")
@login_required
@limiter.limit("5 per hour", key_func=account_key)
@limiter.limit("30 per hour")
def submit_online():
    draft = _draft_data()
    if not draft:
        last = session.get(LAST_REFERENCE_KEY)
        if last and citizen_case(db.session, current_user.id, last):
            return redirect(url_for("complaints.show_online_done", reference=last), 303)
        return redirect(url_for("complaints.start_online"), 303)
    if request.form.get("certify") != "oui":
        errors = {"certify": "Cochez la case pour certifier l’exactitude de votre déclaration."}
        return private_page("complaints/online/summary.html", status=400, **_summary_context(draft, errors))
    identity = current_identity()
    try:
        case = online.submit(db.session, current_user.id, identity)
    except online.Incomplete as missing:
        return redirect(url_for("complaints.edit_online_step", step=missing.step), 303)
    except online.NothingToSubmit:
        last = session.get(LAST_REFERENCE_KEY)
        if last:
            return redirect(url_for("complaints.show_online_done", reference=last), 303)
        return redirect(url_for("complaints.start_online"), 303)
    session[LAST_REFERENCE_KEY] = case.reference
    log.info("case submitted: reference=%s account=%s", case.reference, current_user.id)
    unit_name = station_names(db.session, [case.unit_id]).get(case.unit_id, case.unit_id)
    mailed = notify_citizen(case, *online.acknowledgement(case, unit_name))
    return redirect(url_for("complaints.show_online_done", reference=case.reference,
                            courriel="envoye" if mailed else "non-envoye"), 303)


@bp.get("/plainte-en-ligne/deposee/<reference>")
@login_required
def show_online_done(reference: str):
    from maps.models import Station

    case = own_case(reference)
    unit = db.session.get(Station, case.unit_id)
    return private_page("complaints/online/done.html", case=case, unit=unit, identity=current_identity(),
                 mailed=request.args.get("courriel") == "envoye")


@bp.post("/mon-espace/brouillons/<kind>/supprimer")
@login_required
def delete_draft(kind: str):
    if kind not in ("plainte_en_ligne", "visio_plainte"):
        abort(404)
    online.delete_draft(db.session, current_user.id, kind)
    db.session.commit()
    return redirect(url_for("accounts.space"), 303)
