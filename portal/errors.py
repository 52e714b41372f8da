"""French error pages, ``application/problem+json`` (RFC 9457) under /api/, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Demande incorrecte", "La demande envoyée n'est pas valide."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "La page que vous cherchez n'existe pas ou a été déplacée."),
    405: ("Méthode non autorisée", "Cette adresse ne permet pas cette opération."),
    410: ("Contenu retiré", "Ce contenu a été retiré du portail."),
    413: ("Envoi trop volumineux", "Les données envoyées dépassent la taille autorisée."),
    429: ("Trop de demandes",
          "Vous avez fait trop de demandes en peu de temps. Patientez une minute puis réessayez."),
    500: ("Erreur du service",
          "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez dans quelques instants."),
    503: ("Service momentanément indisponible",
          "Ce service est momentanément indisponible. Réessayez dans quelques minutes."),
}


class UserError(Exception):
    """Bad input from a visitor: answered with ``status`` and a French explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Refused(Exception):
    """A step an agent or a citizen cannot take now; ``message`` says why, in French, ``field`` names the
    form field it belongs to, ``status`` is the HTTP answer (400 bad input, 403 not theirs to take,
    409 the object's state or a concurrent change)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


PROBLEM_MIMETYPE = "application/problem+json"
# RFC 9457: no semantics beyond the status code; a problem with members of its own names its type.
BLANK_TYPE = "about:blank"
# Where an API client's wording differs from a visitor's page.
API_MESSAGES = {
    404: ("Ressource introuvable", "Aucune ressource de l'API ne correspond à cette adresse."),
    405: ("Méthode non autorisée", "L'API ne répond qu'aux requêtes GET (et HEAD, OPTIONS)."),
    429: ("Trop de demandes", "Vous avez fait trop de demandes en peu de temps depuis cette adresse : réessayez "
                              "après le délai indiqué par l'en-tête Retry-After (en secondes)."),
}


def wants_problem() -> bool:
    """The public API answers errors as problem details; /healthz keeps its own small JSON."""
    return request.path.startswith("/api/")


def wants_json() -> bool:
    return wants_problem() or request.path == "/healthz"


def problem_response(status: int, detail: str | None = None, title: str | None = None,
                     type_: str = BLANK_TYPE, **members) -> Response:
    """An RFC 9457 problem in French: ``type``, ``title``, ``status``, ``detail``, ``instance`` (the path,
    without the query string, which may say something about a person), then ``members`` (extensions)."""
    default_title, default = API_MESSAGES.get(status) or MESSAGES.get(status, MESSAGES[500])
    body = {"type": type_, "title": title or default_title, "status": status, "detail": detail or default,
            "instance": request.path, **members}
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def error_response(status: int, message: str | None = None, hint: str | None = None, title: str | None = None):
    if wants_problem():
        return problem_response(status, message, title)
    default_title, default = MESSAGES.get(status, MESSAGES[500])
    title, message = title or default_title, message or default
    if wants_json():
        return jsonify({"error": message, "status": status}), status
    return render_template("errors/error.html", title=title, message=message, hint=hint, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # Werkzeug's English descriptions are never shown; each status has its French text.
        response = make_response(error_response(exc.code or 500))
        allowed = getattr(exc, "valid_methods", None)
        if exc.code == 405 and allowed:  # RFC 9110: a 405 says which methods the address accepts
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(UserError)
    def _user_error(exc: UserError):
        return error_response(exc.status, exc.message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)
