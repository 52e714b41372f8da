"""The agents' space: sign-in (password + TOTP, or ProConnect + TOTP), sign-out, the console's home, the journal."""

from __future__ import annotations

import logging
import secrets

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from accounts.franceconnect import LoginRefused, ProviderUnavailable
from agents import audit, passwords, proconnect, services
from agents.access import require_role
from agents.models import ROLES, Agent
from portal.errors import error_response
from portal.extensions import db
from portal.htmx import render
from portal.redirects import local_path
from portal.security import limiter, require_shared_limits

bp = Blueprint("agents", __name__, url_prefix="/agents")
log = logging.getLogger("agents.audit")

REFUSED = ("Adresse électronique, mot de passe ou code incorrect. Au bout de plusieurs erreurs, le compte est "
           "verrouillé quelques minutes.")
# After ProConnect: one message for a wrong, replayed or late code and a locked account.
CODE_REFUSED = ("Code incorrect ou déjà utilisé. Saisissez le code affiché en ce moment par votre application "
                "d'authentification. Au bout de plusieurs erreurs, le compte est verrouillé quelques minutes.")
CODE_MISSING = "Saisissez le code à 6 chiffres de votre application d'authentification."
CODE_MALFORMED = "Le code doit compter 6 chiffres, par exemple 123456."


def _sign_in_limit() -> str:
    return current_app.config["AGENT_SIGN_IN_RATE_LIMIT"]


def _next_url(value: str | None) -> str | None:
    target = local_path(value)
    # Back into the agents' space only, never to the sign-in form itself.
    if target and target.startswith("/agents") and not target.startswith("/agents/connexion"):
        return target
    return None


def _home() -> str:
    return url_for("agents.home")


def _set_cookie(response, token: str):
    response.set_cookie(services.COOKIE_NAME, token, path=services.COOKIE_PATH, httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")
    g.agent_cookie_set = True
    return response


@bp.get("/connexion")
def sign_in():
    next_url = _next_url(request.args.get("next"))
    if services.current_agent() is not None:
        return redirect(next_url or _home(), 303)
    return render_template("agents/sign_in.html", next_url=next_url, errors={}, form={},
                           proconnect=proconnect.enabled(),
                           signed_out=request.args.get("deconnecte") == "1",
                           expired=bool(g.get("agent_cookie_stale")),
                           code_too_late=request.args.get("delai") == "1")


@bp.post("/connexion")
@limiter.limit(_sign_in_limit)
@require_shared_limits("Connexion des agents momentanément indisponible",
                       "La connexion des agents est suspendue quelques instants. Réessayez dans quelques minutes.")
def sign_in_submit():
    if proconnect.enabled():
        # ProConnect replaces the password: the form is not offered, and a forged POST is refused.
        return error_response(403, "La connexion par mot de passe est désactivée : connectez-vous avec "
                              "ProConnect depuis la page de connexion de l'espace agents.",
                              title="Connexion par mot de passe désactivée")
    form = request.form
    next_url = _next_url(form.get("next"))
    email = services.normalise_email(form.get("email"))
    password = form.get("password", "")
    code = passwords.normalise_code(form.get("code"))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Saisissez votre adresse électronique professionnelle."
    elif "@" not in email:
        errors["email"] = "Saisissez une adresse électronique valide, par exemple prenom.nom@interieur.gouv.fr."
    if not password:
        errors["password"] = "Saisissez votre mot de passe."
    if not form.get("code", "").strip():
        errors["code"] = CODE_MISSING
    elif code is None:
        errors["code"] = CODE_MALFORMED
    if errors:
        return render_template("agents/sign_in.html", next_url=next_url, errors=errors,
                               form={"email": email}), 400
    result = services.authenticate(db.session, email, password, code,
                                   writing=lambda: services.own_transaction(db.session))
    if not result.ok:
        # One message for a wrong password, a wrong or replayed code, an unknown e-mail and a locked account.
        return render_template("agents/sign_in.html", next_url=next_url, errors={"form": REFUSED},
                               form={"email": email}), 400
    with services.own_transaction(db.session):
        token = services.open_session(db.session, result.agent)
    return _set_cookie(redirect(next_url or _home(), 303), token)


# --- ProConnect (AGENTS_OIDC_*) --------------------------------------------------------------------

# What ProConnect may return on the callback, and what the agent reads.
CALLBACK_ERRORS = {
    "access_denied": ("Connexion annulée", "Vous êtes revenu sur le portail sans vous connecter avec ProConnect."),
    "server_error": ("ProConnect a rencontré une erreur", "ProConnect n'a pas pu terminer votre connexion."),
    "temporarily_unavailable": ("ProConnect est momentanément indisponible",
                                "ProConnect ne peut pas vous connecter pour le moment."),
}
UNAVAILABLE = "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes."


def _proconnect_error(title: str, message: str, status: int, next_url: str | None = None, retry: bool = True):
    return render_template("agents/proconnect_error.html", title=title, message=message, next_url=next_url,
                           retry=retry), status


def _answers_the_sign_in_under_way() -> bool:
    return proconnect.answers(session.get(proconnect.PENDING_KEY), request.args.get("state", ""))


@bp.post("/connexion/proconnect")
@limiter.limit("20 per minute")
def proconnect_start():
    if not proconnect.enabled():
        return error_response(404)
    next_url = _next_url(request.form.get("next"))
    session.pop(proconnect.SECOND_FACTOR_KEY, None)  # a new sign-in replaces one left at the code page
    try:
        login_request = proconnect.client().begin()
    except ProviderUnavailable:
        return _proconnect_error("Connexion indisponible", UNAVAILABLE, 503, next_url)
    session[proconnect.PENDING_KEY] = proconnect.pending_login(login_request.state, login_request.nonce, next_url)
    return redirect(login_request.url, 303)


@bp.get("/connexion/proconnect/retour")
# Forged returns from a cross-site page count against the limit; the real one (its state) never does.
@limiter.limit("30 per minute", exempt_when=_answers_the_sign_in_under_way)
def proconnect_callback():
    if not proconnect.enabled():
        return error_response(404)
    pending = session.get(proconnect.PENDING_KEY)
    next_url = _next_url(pending.get("next")) if pending else None
    if proconnect.pending_expired(pending):
        session.pop(proconnect.PENDING_KEY, None)
        log.warning("proconnect callback refused: reason=no_pending_login")
        return _proconnect_error("Connexion expirée", "Cette connexion n'est plus en cours : recommencez.", 400)
    # Checked before anything is consumed: a forged link (another state) must not cancel the sign-in under way.
    if not _answers_the_sign_in_under_way():
        log.warning("proconnect callback refused: reason=state_mismatch")
        return _proconnect_error("Connexion refusée", "La réponse reçue ne correspond pas à votre demande de "
                                 "connexion. Recommencez depuis l'espace agents.", 400, next_url)
    if request.args.get("iss") != proconnect.client().issuer:
        # RFC 9207: the answer names who sent it; another provider, or none, is refused (mix-up attack).
        log.warning("proconnect callback refused: reason=iss_mismatch")
        return _proconnect_error("Connexion refusée", "La réponse reçue ne vient pas de ProConnect. Recommencez "
                                 "depuis l'espace agents.", 400, next_url)
    session.pop(proconnect.PENDING_KEY, None)
    error = request.args.get("error")
    if error:
        log.info("proconnect callback error: error=%s", error[:40])
        title, message = CALLBACK_ERRORS.get(error, ("La connexion n'a pas abouti",
                                                     "Une erreur empêche la connexion avec ProConnect."))
        return _proconnect_error(title, message, 503 if error in ("server_error", "temporarily_unavailable")
                                 else 400, next_url)
    code = request.args.get("code", "")
    if not code or len(code) > 512:
        log.warning("proconnect callback refused: reason=no_code")
        return _proconnect_error("Connexion refusée", "La réponse de ProConnect est incomplète.", 400, next_url)
    db.session.rollback()  # no read transaction stays open while ProConnect answers
    try:
        result = proconnect.client().complete(code, pending["nonce"])
    except ProviderUnavailable:
        return _proconnect_error("Connexion indisponible", UNAVAILABLE, 503, next_url)
    except LoginRefused as refused:
        log.warning("proconnect login refused: reason=%s", refused.reason)
        return _proconnect_error("Connexion refusée", "Votre identité n'a pas pu être vérifiée. Par sécurité, "
                                 "la connexion est refusée. Recommencez.", 400, next_url)
    with services.own_transaction(db.session):
        outcome = proconnect.sign_in(db.session, result)
        agent_id = outcome.agent.id if outcome.agent is not None else None
    if outcome.reason == "no_second_factor":
        return _proconnect_error("Connexion impossible", "ProConnect a bien confirmé votre identité, mais aucune "
                                 "application d'authentification (code à 6 chiffres) n'est enregistrée pour votre "
                                 "compte d'agent : la connexion ne peut pas aboutir. Demandez à l'administrateur "
                                 "de votre service d'enregistrer votre application d'authentification.", 403,
                                 retry=False)
    if agent_id is None:
        return _proconnect_error("Accès refusé", "Votre compte ProConnect n'est rattaché à aucun agent actif de "
                                 "l'espace agents. Demandez à l'administrateur de votre service de vous "
                                 "inscrire avec votre adresse électronique professionnelle.", 403, retry=False)
    # ProConnect replaces the password only: no agent session before the portal's own second factor.
    session[proconnect.SECOND_FACTOR_KEY] = proconnect.pending_second_factor(agent_id, next_url, result.id_token)
    return redirect(url_for("agents.second_factor"), 303)


def _pending_second_factor():
    """(pending state, None) while a ProConnect sign-in waits for its code; else (None, redirect to sign in)."""
    pending = session.get(proconnect.SECOND_FACTOR_KEY)
    if not proconnect.second_factor_expired(pending):
        return pending, None
    session.pop(proconnect.SECOND_FACTOR_KEY, None)
    if pending:
        log.info("proconnect second factor expired")
        return None, redirect(url_for("agents.sign_in", next=_next_url(pending.get("next")), delai="1"), 303)
    return None, redirect(url_for("agents.sign_in"), 303)


def _second_factor_page(errors: dict[str, str], status: int = 200):
    return render_template("agents/second_factor.html", errors=errors), status


@bp.get("/connexion/code")
def second_factor():
    if not proconnect.enabled():
        return error_response(404)
    pending, elsewhere = _pending_second_factor()
    return elsewhere or _second_factor_page({})


@bp.post("/connexion/code")
@limiter.limit(_sign_in_limit)
@require_shared_limits("Connexion des agents momentanément indisponible",
                       "La connexion des agents est suspendue quelques instants. Réessayez dans quelques minutes.")
def second_factor_submit():
    if not proconnect.enabled():
        return error_response(404)
    pending, elsewhere = _pending_second_factor()
    if elsewhere:
        return elsewhere
    typed = request.form.get("code", "")
    code = passwords.normalise_code(typed)
    if not typed.strip():
        return _second_factor_page({"code": CODE_MISSING}, 400)
    if code is None:
        return _second_factor_page({"code": CODE_MALFORMED}, 400)
    agent = db.session.get(Agent, pending["agent"])
    if agent is None:  # removed from the database meanwhile
        session.pop(proconnect.SECOND_FACTOR_KEY, None)
        return redirect(url_for("agents.sign_in"), 303)
    result = services.check_second_factor(db.session, agent, code,
                                          writing=lambda: services.own_transaction(db.session))
    if not result.ok:
        return _second_factor_page({"code": CODE_REFUSED}, 400)
    session.pop(proconnect.SECOND_FACTOR_KEY, None)
    with services.own_transaction(db.session):
        token = services.open_session(db.session, result.agent)
    # Kept for ProConnect's logout (its id_token_hint), server-side only.
    session[proconnect.ID_TOKEN_KEY] = pending.get("id_token", "")
    return _set_cookie(redirect(_next_url(pending.get("next")) or _home(), 303), token)


@bp.get("/deconnexion/proconnect/retour")
def proconnect_logout_callback():
    expected = session.pop(proconnect.LOGOUT_STATE_KEY, None)
    confirmed = bool(expected) and secrets.compare_digest(request.args.get("state", "").encode(),
                                                          expected.encode())
    if not confirmed:
        log.warning("proconnect logout not confirmed: reason=state_mismatch")
    return redirect(url_for("agents.sign_in", deconnecte="1"), 303)


@bp.post("/deconnexion")
def sign_out():
    agent = services.current_agent()
    token = request.cookies.get(services.COOKIE_NAME)
    if agent is not None:
        services.close_session(db.session, token)
        audit.record(db.session, agent, "logout", "agent", str(agent.id))
        db.session.commit()
    elif token:
        services.close_session(db.session, token)
        db.session.commit()
    response = redirect(url_for("agents.sign_in", deconnecte="1"), 303)
    # Leaving at the code page (after ProConnect, before the code) ends ProConnect's session all the same.
    pending = session.pop(proconnect.SECOND_FACTOR_KEY, None)
    id_token = session.pop(proconnect.ID_TOKEN_KEY, None) or (pending or {}).get("id_token")
    if id_token and proconnect.enabled():
        # ProConnect's own session (12 hours) must end too, or the next click on its button on this browser
        # signs the agent in again without a word: a browser redirect to its logout, then back here.
        state = secrets.token_hex(32)
        try:
            response = redirect(proconnect.client().logout_url(id_token, state), 303)
            session[proconnect.LOGOUT_STATE_KEY] = state
        except ProviderUnavailable:
            log.warning("proconnect logout skipped: provider unavailable")
    response.delete_cookie(services.COOKIE_NAME, path=services.COOKIE_PATH)
    return response


# The back office's pages (editorial), for editors, reviewers and administrators.
EDITORIAL_LINKS = (
    ("editorial.dashboard", "Contenus",
     "Rédiger, relire et publier les démarches et les situations ; masquer ou rattacher les fiches."),
    ("editorial.rule_list", "Règles de recherche", "Synonymes, meilleures réponses et résultats à repousser."),
    ("editorial.analytics", "Statistiques de recherche",
     "Ce que les citoyens recherchent, et ce qu'ils ne trouvent pas."),
)


@bp.get("/")
@require_role()
def home():
    agent = services.current_agent()
    views = current_app.view_functions
    links = []
    if agent.has_role("officer"):
        if "console.list_cases" in views:
            links.append(("Dossiers de l'unité", url_for("console.list_cases"),
                          "Les plaintes en ligne et visio-plaintes reçues par votre unité."))
        if "console.agenda" in views:
            links.append(("Agenda des visio-plaintes", url_for("console.agenda"),
                          "Les créneaux publiés et les rendez-vous pris."))
    if any(agent.has_role(role) for role in ("editor", "reviewer", "admin")):
        for endpoint, label, description in EDITORIAL_LINKS:
            if endpoint in views:
                links.append((label, url_for(endpoint), description))
    if agent.has_role("admin"):
        links.append(("Journal d'audit", url_for("agents.journal"),
                      "Qui a fait quoi, et quand, dans l'espace agents."))
    return render_template("agents/home.html", agent=agent, unit=services.unit_of(db.session, agent),
                           role_labels=[ROLES[r] for r in agent.roles if r in ROLES], links=links)


@bp.get("/journal")
@require_role("admin")
def journal():
    action = request.args.get("action", "").strip()[:60]
    target = request.args.get("cible", "").strip()[:80]
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    page = audit.events(db.session, action=action, target=target, page=page_number)
    return render("agents/journal.html", "agents/_journal.html", page=page, action=action, target=target,
                  actions=audit.known_actions(db.session), labels=audit.ACTION_LABELS,
                  target_text=audit.target_text, unit_names=audit.unit_names(db.session, page.events))
