"""Security headers, the per-request CSP nonce and rate limits.

Every response gets a strict Content-Security-Policy whose script and style
sources are 'self' plus a nonce drawn for that response. A view that needs
more (a map's tile server, a widget's embedding origins) widens it for itself
with ``csp_extend``; nothing widens it globally.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.errors import UserError, error_response

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
CSP_REPORT_PATH = "/csp-report"
# Where the quick-exit button's beacon goes (portal.views.quick_exit).
QUICK_EXIT_PATH = "/sortie-rapide"
log = logging.getLogger(__name__)

limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    headers_enabled=True,
    strategy="moving-window",
)


def csp_nonce() -> str:
    nonce = getattr(g, "csp_nonce", None)
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def forget_on_quick_exit(app, session_key: str) -> None:
    """Have the quick exit erase this key of the visitor's server-side session (answers about violence)."""
    keys = app.extensions.setdefault("quick_exit_keys", [])
    if session_key not in keys:
        keys.append(session_key)


def csp_allow(directive: str, source: str) -> None:
    """Add a source to one directive of this response's policy only."""
    values = g.setdefault("csp_extra", {}).setdefault(directive, [])
    if source not in values:
        values.append(source)


def csp_replace(directive: str, *sources: str) -> None:
    """Set one directive of this response's policy to exactly ``sources`` (a widget's frame-ancestors,
    which replace 'none': 'none' cannot be combined with a source)."""
    g.setdefault("csp_replaced", {})[directive] = list(sources)


def csp_extend(**sources: str) -> Callable:
    """Let one view add sources to CSP directives, e.g. ``img_src="https://tiles.example"``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            for directive, value in sources.items():
                csp_allow(directive.replace("_", "-"), value)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def no_store(response: Response) -> Response:
    """Neither the back button nor a shared computer's cache may bring the page back (pages with case data)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def mark_sensitive() -> None:
    """A page about violence: quick-exit button, no referrer for the next site, nothing kept by the browser.

    (``set_security_headers`` applies ``no_store`` to the response of the request that called it.)
    """
    g.sensitive = True
    g.referrer_policy = "no-referrer"


def shared_limits_available() -> bool:
    """Whether the rate-limit store every worker shares answers (always true for the in-memory one)."""
    try:
        return bool(limiter.storage.check())
    except Exception:  # any failure of the store's client is the store being down
        return False


def require_shared_limits(title: str, message: str) -> Callable:
    """Fail closed: an abuse-sensitive view refuses to serve while its limits cannot be shared.

    When Redis stops answering, Flask-Limiter falls back to counters kept in
    each process, which is right for public pages (they keep answering) but
    would multiply by the number of workers what a visitor may try on, say,
    login codes. Those views answer 503 with ``title`` and ``message`` instead.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not shared_limits_available():
                log.error("rate-limit store unavailable: %s refused", request.endpoint)
                return error_response(503, message, title=title)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def content_security_policy() -> str:
    nonce = csp_nonce()
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'", f"'nonce-{nonce}'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "report-uri": [CSP_REPORT_PATH],
        "report-to": ["csp"],
    }
    directives.update(g.get("csp_replaced", {}))
    for directive, values in g.get("csp_extra", {}).items():
        directives.setdefault(directive, ["'self'"]).extend(values)
    return "; ".join(f"{d} {' '.join(v)}" for d, v in directives.items())


def set_security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["Reporting-Endpoints"] = f'csp="{CSP_REPORT_PATH}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Violence pages send no referrer at all: the next site must not learn where the visitor was.
    response.headers["Referrer-Policy"] = g.get("referrer_policy", "strict-origin-when-cross-origin")
    policy = PERMISSIONS_POLICY
    if g.get("permissions_policy_geolocation"):
        # The station finder's "autour de moi": asked of the visitor only when they click it.
        policy = policy.replace("geolocation=()", "geolocation=(self)")
    response.headers["Permissions-Policy"] = policy
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if g.get("sensitive"):
        no_store(response)
    return response


def refuse_nul_characters() -> None:
    """A NUL character has no place in a visitor's input, and PostgreSQL refuses it in text (a 500)."""
    values = [request.path, *request.args.keys(), *(v for vs in request.args.listvalues() for v in vs)]
    if request.method != "GET" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *(v for vs in request.form.listvalues() for v in vs)]
    if any("\x00" in value for value in values):
        raise UserError(400, "La demande contient un caractère nul, qui n'a pas sa place dans une adresse ni "
                             "dans un formulaire.")


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # The visitor's address and the scheme; never X-Forwarded-Host, which some proxies pass through from
        # the visitor: the proxy forwards the Host header itself, and only ALLOWED_HOSTS are answered.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    limiter.init_app(app)
    # Flask-Limiter logs each limit reached with its key, a visitor's address: only its warnings are kept.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
