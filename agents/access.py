"""Who may open agents' pages: the guard of every /agents/ URL and the role check of each view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from flask import g, redirect, request

from agents.models import ROLES
from agents.services import COOKIE_NAME, COOKIE_PATH, current_agent
from portal.errors import error_response
from portal.redirects import local_path

PREFIX = "/agents"
SIGN_IN_PATH = "/agents/connexion"
# Open to anyone: the sign-in form (and its answer), ProConnect's way in and back, the code page after
# ProConnect (it needs ProConnect's pending sign-in, see agents.views.second_factor), and the sign-out.
OPEN_PATHS = frozenset({"/agents/connexion", "/agents/deconnexion", "/agents/connexion/proconnect",
                        "/agents/connexion/proconnect/retour", "/agents/connexion/code",
                        "/agents/deconnexion/proconnect/retour"})
RESERVED_TITLE = "Accès réservé"


def is_agents_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def sign_in_redirect():
    """303 to the sign-in form, with this page (a local path) to come back to."""
    here = request.full_path if request.query_string else request.path
    target = local_path(here)
    url = SIGN_IN_PATH + ("?" + urlencode({"next": target}) if target and target != SIGN_IN_PATH else "")
    return redirect(url, 303)


def refuse_non_agents():
    """before_request: every /agents/ URL but the sign-in pages needs an agent's session."""
    if not is_agents_path(request.path):
        return None
    g.agent_page = True
    if request.path in OPEN_PATHS or current_agent() is not None:
        return None
    if request.method in ("GET", "HEAD"):
        return sign_in_redirect()
    return error_response(403, "Cette action est réservée aux agents connectés à l'espace agents.",
                          title=RESERVED_TITLE)


def agent_page_headers(response):
    """after_request: agents' pages are never stored nor indexed; a stale agent cookie is removed."""
    if g.get("agent_page"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    if g.get("agent_cookie_stale") and not g.get("agent_cookie_set"):
        response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response


def require_role(*roles: str, hidden_unless: tuple[str, ...] = ()) -> Callable:
    """Let the view run for an agent holding one of ``roles`` (any agent when none is given).

    No agent: redirect to the sign-in form (GET) or 403. An agent without the
    role: the French 403 page "Accès réservé" — or, if they hold none of
    ``hidden_unless`` either, 404, as if the page did not exist (officers are
    never shown the editors' back office).
    """
    unknown = [role for role in (*roles, *hidden_unless) if role not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            agent = current_agent()
            if agent is None:
                if request.method in ("GET", "HEAD"):
                    return sign_in_redirect()
                return error_response(403, "Cette action est réservée aux agents connectés.",
                                      title=RESERVED_TITLE)
            if hidden_unless and not any(agent.has_role(role) for role in hidden_unless):
                return error_response(404)
            if roles and not any(agent.has_role(role) for role in roles):
                needed = ", ".join(ROLES[role].lower() for role in roles)
                return error_response(403, f"Cette page est réservée aux agents ayant le rôle : {needed}.",
                                      title=RESERVED_TITLE)
            return view(*args, **kwargs)

        return wrapper

    return decorator
