"""A citizen's case page in Mon espace: history, messages, reply to "complément demandé", receipt.

Another citizen's reference answers 404, exactly like an unknown one
(``complaints.cases.citizen_case``).
"""

from __future__ import annotations

import logging

from flask import make_response, redirect, request, url_for
from flask_login import current_user, login_required

from complaints import offences, online, receipt, space
from complaints.cases import citizen_case
from complaints.models import KINDS, Case
from complaints.views import account_key, bp, own_case, private_page
from portal.extensions import db, end_reads
from portal.security import limiter, mark_sensitive, no_store

log = logging.getLogger("complaints.cases")
MAX_REPLY = 2000


def _render_case(case: Case, errors: dict | None = None, reply_text: str = "", status: int = 200):
    from maps.models import Station

    if case.kind == "visio_plainte":
        mark_sensitive()  # violence, threats, harassment: the quick exit, nothing kept by the browser
    unit = db.session.get(Station, case.unit_id)
    bookings = [view for view in space.bookings_of(db.session, current_user.id) if view.case.id == case.id]
    sections = online.describe(case.details, unit.name if unit else case.unit_id) \
        if case.kind == "plainte_en_ligne" else []
    return private_page(
        "complaints/case.html", status, case=case, unit=unit, sections=sections, bookings=bookings,
        kinds=KINDS, offences=offences, space=space, errors=errors or {}, reply_text=reply_text,
        next_action=space.next_action(case), max_reply=MAX_REPLY,
    )


@bp.get("/mon-espace/dossiers/<reference>")
@login_required
def show_case(reference: str):
    return _render_case(own_case(reference))


@bp.post("/mon-espace/dossiers/<reference>/complement")
@login_required
@limiter.limit("20 per hour", key_func=account_key)
@limiter.limit("60 per hour")
def reply_case(reference: str):
    case = own_case(reference)
    if case.status != "complement_demande":
        return redirect(url_for("complaints.show_case", reference=case.reference), 303)
    message = (request.form.get("message") or "").replace("\r\n", "\n").strip()
    error = None
    if not message:
        error = "Écrivez votre réponse à l’unité."
    elif len(message) > MAX_REPLY:
        error = f"Votre réponse doit faire {MAX_REPLY} caractères au plus (elle en fait {len(message)})."
    elif online.contains_card_number(message):
        error = online.PAN_EXPLANATION
    if error:
        return _render_case(case, {"message": error}, online.scrub(message[:MAX_REPLY + 100]), status=400)
    end_reads(db.session)  # on SQLite, the reply's UPDATE must begin its own transaction
    if not space.reply(db.session, case, message):
        return _render_case(citizen_case(db.session, current_user.id, reference),
                            {"message": "L’unité a modifié votre dossier entre-temps : il n’attend plus de réponse."},
                            online.scrub(message[:MAX_REPLY + 100]), status=409)
    db.session.commit()
    log.info("complement received: reference=%s", case.reference)
    return redirect(url_for("complaints.show_case", reference=case.reference, reponse="envoyee") + "#historique",
                    303)


@bp.get("/mon-espace/dossiers/<reference>/recepisse.pdf")
@login_required
@limiter.limit("30 per minute", key_func=account_key)
def download_receipt(reference: str):
    from maps.models import Station

    case = own_case(reference)
    pdf = receipt.render_pdf(case, db.session.get(Station, case.unit_id))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="recepisse-{case.reference}.pdf"'
    return no_store(response)
