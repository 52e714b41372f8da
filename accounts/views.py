"""Sign-in (FranceConnect first, e-mail code as the alternative), sign-out, "Mon espace"."""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from accounts import codes, services, space_sections
from accounts import space as my_data
from accounts.franceconnect import LoginRefused, ProviderUnavailable
from accounts.mail import MailUnavailable, send_mail
from accounts.models import OutboxMessage
from portal.extensions import db
from portal.redirects import local_path
from portal.security import limiter, mark_sensitive, no_store, require_shared_limits

bp = Blueprint("accounts", __name__)
audit = logging.getLogger("accounts.audit")

PENDING_KEY = "fc_login"
LOGOUT_STATE_KEY = "logout_state"
# FranceConnect's own interaction lasts 30 minutes; a login left pending longer is dropped.
PENDING_SECONDS = 30 * 60
# What FranceConnect may return on the callback, and what the citizen reads.
CALLBACK_ERRORS = {
    "access_denied": ("Connexion annulée",
                      "Vous êtes revenu sur le portail sans vous connecter avec FranceConnect."),
    "server_error": ("FranceConnect a rencontré une erreur",
                     "FranceConnect n'a pas pu terminer votre connexion."),
    "temporarily_unavailable": ("FranceConnect est momentanément indisponible",
                                "FranceConnect ne peut pas vous connecter pour le moment."),
}


def _next(default: str | None = None) -> str:
    return local_path(request.values.get("next")) or default or url_for("accounts.space")


def _email_key() -> str:
    """Rate-limit key for code requests: the address asked for, under a keyed hash (the key lands in Redis)."""
    email = codes.normalize_email(request.form.get("email", "")) or "invalide"
    return codes.keyed_hash(current_app.secret_key, "login-code-limit", email)


def _login_code_limit() -> str:
    return current_app.config["LOGIN_CODE_RATE_LIMIT"]


def _login_error(title: str, message: str, status: int, next_url: str | None = None):
    return render_template("accounts/login_error.html", title=title, message=message,
                           next_url=next_url or local_path(request.values.get("next"))), status


@bp.get("/connexion")
def login():
    # A citizen signed in by e-mail may still confirm their identity with FranceConnect.
    if current_user.is_authenticated and current_user.signed_in_with_franceconnect:
        return redirect(_next())
    return render_template("accounts/login.html", next_url=local_path(request.args.get("next")),
                           expired=getattr(session, "expired", False),
                           signed_in_by_email=current_user.is_authenticated)


@bp.post("/connexion/franceconnect")
@limiter.limit("20 per minute")
def franceconnect_start():
    next_url = local_path(request.form.get("next"))
    try:
        login_request = services.franceconnect().begin()
    except ProviderUnavailable:
        return _login_error("Connexion indisponible",
                            "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes, "
                            "ou connectez-vous avec votre adresse électronique.", 503, next_url)
    session[PENDING_KEY] = {"state": login_request.state, "nonce": login_request.nonce,
                            "next": next_url, "at": time.time()}
    return redirect(login_request.url, 303)


def _answers_the_sign_in_under_way() -> bool:
    """FranceConnect's real answer (its state is the one kept for this browser)."""
    pending = session.get(PENDING_KEY)
    return bool(pending) and secrets.compare_digest(request.args.get("state", "").encode(),
                                                    pending["state"].encode())


@bp.get("/connexion/franceconnect/retour")
# A cross-site page can make a browser fetch forged returns until the limit is reached: the real one is
# never refused for it.
@limiter.limit("30 per minute", exempt_when=_answers_the_sign_in_under_way)
def franceconnect_callback():
    pending = session.get(PENDING_KEY)
    next_url = pending.get("next") if pending else None
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        audit.warning("franceconnect callback refused: reason=no_pending_login")
        return _login_error("Connexion expirée", "Cette connexion n'est plus en cours : recommencez.", 400)
    # Checked before anything is consumed: a forged link (another state) must not cancel the
    # citizen's sign-in under way.
    if not _answers_the_sign_in_under_way():
        audit.warning("franceconnect callback refused: reason=state_mismatch")
        return _login_error("Connexion refusée", "La réponse reçue ne correspond pas à votre demande de "
                            "connexion. Recommencez depuis le portail.", 400, next_url)
    if request.args.get("iss") != services.franceconnect().issuer:
        # RFC 9207, which FranceConnect v2 supports: every answer names who sent it; one that names another
        # provider, or none, is refused (mix-up attack).
        audit.warning("franceconnect callback refused: reason=iss_mismatch")
        return _login_error("Connexion refusée", "La réponse reçue ne vient pas de FranceConnect. Recommencez "
                            "depuis le portail.", 400, next_url)
    session.pop(PENDING_KEY, None)
    error = request.args.get("error")
    if error:
        audit.info("franceconnect callback error: error=%s", error[:40])
        title, message = CALLBACK_ERRORS.get(error, ("La connexion n'a pas abouti",
                                                     "Une erreur empêche la connexion avec FranceConnect."))
        status = 503 if error in ("server_error", "temporarily_unavailable") else 400
        return _login_error(title, message, status, next_url)
    code = request.args.get("code", "")
    if not code or len(code) > 512:
        audit.warning("franceconnect callback refused: reason=no_code")
        return _login_error("Connexion refusée", "La réponse de FranceConnect est incomplète.", 400, next_url)
    db.session.rollback()  # no read transaction stays open while FranceConnect answers (up to 4 calls)
    try:
        result = services.franceconnect().complete(code, pending["nonce"])
    except ProviderUnavailable:
        return _login_error("Connexion indisponible", "FranceConnect ne répond pas pour le moment. "
                            "Réessayez dans quelques minutes, ou connectez-vous avec votre adresse "
                            "électronique.", 503, next_url)
    except LoginRefused as refused:
        audit.warning("franceconnect login refused: reason=%s", refused.reason)
        return _login_error("Connexion refusée", "Votre identité n'a pas pu être vérifiée. Par sécurité, "
                            "la connexion est refusée. Recommencez, ou connectez-vous avec votre "
                            "adresse électronique.", 400, next_url)
    services.sign_in_with_franceconnect(db.session, result)
    return redirect(next_url or url_for("accounts.space"))


@bp.post("/connexion/email")
@limiter.limit(_login_code_limit)
@limiter.limit(_login_code_limit, key_func=_email_key)
@require_shared_limits("Connexion par courriel momentanément indisponible",
                       "L'envoi de codes de connexion est suspendu quelques instants. Réessayez dans quelques "
                       "minutes, ou connectez-vous avec FranceConnect.")
def email_start():
    next_url = local_path(request.form.get("next"))
    email = codes.normalize_email(request.form.get("email", ""))
    if email is None:
        return render_template("accounts/login.html", next_url=next_url,
                               email_error="Saisissez une adresse électronique valide, par exemple "
                                           "nom@exemple.fr.",
                               email=request.form.get("email", "")[:254]), 400
    reference, code = codes.issue(db.session, email, current_app.secret_key, replaces=session.get(codes.SESSION_KEY))
    session[codes.SESSION_KEY] = reference
    try:
        send_mail(email, "Votre code de connexion au Portail citoyen",
                  f"Bonjour,\n\nVotre code de connexion au Portail citoyen est : {code}\n\n"
                  "Il est valable 10 minutes. Si vous n'avez pas demandé ce code, ignorez ce message.\n")
    except MailUnavailable:
        codes.discard(db.session, session.pop(codes.SESSION_KEY, None))
        return _login_error("Envoi impossible", "Le code n'a pas pu être envoyé. Réessayez dans "
                            "quelques minutes, ou connectez-vous avec FranceConnect.", 503, next_url)
    return redirect(url_for("accounts.email_code", next=next_url), 303)


@bp.get("/connexion/email/code")
def email_code():
    waiting = codes.pending(db.session, session.get(codes.SESSION_KEY))
    if waiting is None:
        return redirect(url_for("accounts.login", next=local_path(request.args.get("next"))))
    return render_template("accounts/email_code.html", pending=waiting,
                           next_url=local_path(request.args.get("next")))


@bp.post("/connexion/email/code")
@limiter.limit("10 per minute")
def email_verify():
    next_url = local_path(request.form.get("next"))
    reference = session.get(codes.SESSION_KEY)
    try:
        email = codes.verify(db.session, reference, request.form.get("code", ""), current_app.secret_key)
    except codes.CodeError as refused:
        audit.info("email code refused")
        waiting = codes.pending(db.session, reference)
        if waiting is None:
            session.pop(codes.SESSION_KEY, None)
            return _login_error("Code refusé", str(refused), 400, next_url)
        return render_template("accounts/email_code.html", pending=waiting, next_url=next_url,
                               code_error=str(refused)), 400
    session.pop(codes.SESSION_KEY, None)
    services.sign_in_with_email(db.session, email)
    return redirect(next_url or url_for("accounts.space"))


@bp.post("/deconnexion")
def logout():
    id_token = services.sign_out()
    if not id_token:
        return redirect(url_for("accounts.logged_out"), 303)
    state = secrets.token_hex(32)
    session[LOGOUT_STATE_KEY] = state
    try:
        target = services.franceconnect().logout_url(id_token, state)
    except ProviderUnavailable:
        session.pop(LOGOUT_STATE_KEY, None)
        return redirect(url_for("accounts.logged_out", franceconnect="indisponible"), 303)
    return redirect(target, 303)


@bp.get("/deconnexion/retour")
def logout_callback():
    expected = session.pop(LOGOUT_STATE_KEY, None)
    confirmed = bool(expected) and secrets.compare_digest(request.args.get("state", ""), expected)
    if not confirmed:
        audit.warning("franceconnect logout not confirmed: reason=state_mismatch")
    return redirect(url_for("accounts.logged_out", franceconnect="ok" if confirmed else "non-confirme"), 303)


@bp.get("/deconnexion/terminee")
def logged_out():
    response = current_app.make_response(render_template(
        "accounts/logged_out.html", franceconnect=request.args.get("franceconnect")))
    # Nothing of the session stays in the browser's storage (htmx history, caches).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/mon-espace")
@login_required
def space():
    """The citizen's identity, then each feature's section (``accounts.SpaceSection``), in its own partial."""
    sections = []
    for section in space_sections():
        sections.append((section, section.context(db.session, current_user)))
        if section.sensitive(db.session, current_user):
            mark_sensitive()
    return no_store(current_app.make_response(render_template(
        "accounts/space.html", identity=services.current_identity(), sections=sections)))


@bp.get("/mon-espace/mes-donnees")
@login_required
def show_my_data():
    """Everything the portal holds about the citizen, as a page to read: French labels, dates in Paris time."""
    sections = space_sections()
    if any(section.sensitive(db.session, current_user) for section in sections):
        mark_sensitive()  # e.g. the description of violence in a visio-plainte: the quick exit is there
    now = datetime.now(UTC)
    own = my_data.own_share(current_user, services.current_identity(), now)
    shares = my_data.shares(db.session, current_user, sections, now)
    return no_store(current_app.make_response(render_template(
        "accounts/my_data.html", data=own, shares=shares, readable=my_data.readable,
        exported_at=my_data.readable_value("exported_at", own["exported_at"]))))


@bp.get("/mon-espace/mes-donnees.json")
@login_required
@limiter.limit("30 per minute")
def download_my_data():
    """The same, as a JSON file to keep."""
    data = my_data.export(db.session, current_user, services.current_identity(), space_sections())
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="mes-donnees-portail-citoyen.json"'
    return no_store(response)


def outbox():
    """The local outbox of development and tests (registered only there, see accounts.init_app)."""
    messages = db.session.scalars(
        db.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(20)
    ).all()
    return render_template("accounts/outbox.html", messages=messages)
