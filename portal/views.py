"""The portal's own pages: health, accessibility, CSP reports, and what a trusted public site publishes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, jsonify, render_template, request, session, url_for
from limits import parse_many

from portal import health
from portal.extensions import csrf
from portal.security import CSP_REPORT_PATH, QUICK_EXIT_PATH, limiter

bp = Blueprint("portal", __name__)
log = logging.getLogger(__name__)
MAX_CSP_REPORT_BYTES = 16_384

@bp.get("/healthz")
def healthz():
    """200 once the database and every registered part (the search index) answer; 503 with what failed."""
    checks = health.results()
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok"} if healthy else {"status": "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503


@bp.get("/accessibilite")
def accessibility():
    return render_template("portal/accessibility.html")


def _origin(url: str) -> str:
    """What was blocked, without paths or query strings: an origin or a keyword ("inline")."""
    if not url or "://" not in url:
        return (url or "")[:40]
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[x/": a browser never sends it, a forger might
        return "invalide"
    return f"{parts.scheme}://{parts.netloc}"[:200]


def _path(url: str) -> str:
    """The page a report came from, without its query string (it could hold a search)."""
    try:
        return urlsplit(url).path[:200]
    except ValueError:
        return "invalide"


def _csp_reports(payload) -> list[dict]:
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        r = payload["csp-report"]
        return [{"page": r.get("document-uri"), "directive": r.get("effective-directive")
                 or r.get("violated-directive"), "blocked": r.get("blocked-uri")}]
    if isinstance(payload, list):
        return [
            {"page": r["body"].get("documentURL"), "directive": r["body"].get("effectiveDirective"),
             "blocked": r["body"].get("blockedURL")}
            for r in payload
            if isinstance(r, dict) and r.get("type") == "csp-violation" and isinstance(r.get("body"), dict)
        ]
    return []


@bp.post(QUICK_EXIT_PATH)
@limiter.limit("30 per minute")
def quick_exit():
    """The quick-exit button also tells the server (a beacon, JavaScript only) to forget what the
    visitor answered about violence in this session: whoever opens the browser next finds nothing.

    Features name the session keys to forget with ``portal.security.forget_on_quick_exit``.
    """
    for key in current_app.extensions.get("quick_exit_keys", ()):
        session.pop(key, None)
    return "", 204


@bp.post(CSP_REPORT_PATH)
@csrf.exempt
@limiter.limit("60 per minute")
def csp_report():
    """Browsers report Content-Security-Policy violations here (no CSRF token: they cannot send one).

    Only the page's path, the directive and the blocked origin are logged:
    never a query string, which could hold what a citizen searched for.
    """
    if (request.content_length or 0) > MAX_CSP_REPORT_BYTES:
        abort(413)
    payload = request.get_json(force=True, silent=True)
    for report in _csp_reports(payload):
        log.warning(
            "csp violation: page=%s directive=%s blocked=%s",
            _path(str(report["page"] or "")),
            str(report["directive"] or "")[:60],
            _origin(str(report["blocked"] or "")),
        )
    return "", 204


# -- One trusted address: robots.txt, security.txt, legal notice, personal data, cookies -------------

# Never crawled: signing in and out, the citizen's own pages and a procedure's signed-in start,
# development pages, search results (a query can be personal) and machine endpoints.
# tests/portal/test_trust.py checks that every route needing a sign-in, and every accounts route, is here.
ROBOTS_DISALLOW = ("/connexion", "/deconnexion", "/mon-espace", "/demarches/*/commencer", "/dev/", "/agents",
                   "/plainte-en-ligne/", "/visio-plainte/", "/porter-plainte/",
                   "/recherche", "/api/", "/healthz", "/csp-report")
SECURITY_TXT_PATH = "/.well-known/security.txt"
# Without SECURITY_TXT_EXPIRES, security.txt is valid this long from today (RFC 9116: less than a year).
SECURITY_TXT_DAYS = 180
# The page on fake messages and scams (a catalogue entry, so that the search finds it).
SCAM_PAGE_SLUG = "reconnaitre-message-officiel"
# What each FranceConnect scope brings, in the words of the personal data page.
SCOPE_LABELS = {
    "openid": "un identifiant qui vous désigne pour ce portail seulement",
    "given_name": "vos prénoms",
    "family_name": "votre nom de naissance",
    "preferred_username": "votre nom d'usage",
    "birthdate": "votre date de naissance",
    "gender": "votre sexe",
    "birthplace": "votre commune de naissance (son code officiel)",
    "birthcountry": "votre pays de naissance (son code officiel)",
    "email": "votre adresse électronique",
}


def _plain_text(body: str):
    return current_app.response_class(body, mimetype="text/plain")


@bp.get("/robots.txt")
def robots_txt():
    """Public pages may be indexed; sign-in, personal, development and search pages may not."""
    return _plain_text("\n".join(["User-agent: *", *(f"Disallow: {p}" for p in ROBOTS_DISALLOW)]) + "\n")


@bp.get(SECURITY_TXT_PATH)
def security_txt():
    """RFC 9116: whom to tell about a vulnerability, in text/plain; charset=utf-8."""
    config = current_app.config
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    expires = config["SECURITY_TXT_EXPIRES_AT"] or today + timedelta(days=SECURITY_TXT_DAYS)
    lines = [
        "# Failles de sécurité du portail seulement. Faux message ou arnaque : "
        + config["PUBLIC_URL"] + url_for("catalogue.procedure", slug=SCAM_PAGE_SLUG),
        *(f"Contact: {contact}" for contact in config["SECURITY_TXT_CONTACTS"]),
        f"Expires: {expires:%Y-%m-%dT%H:%M:%SZ}",
        f"Preferred-Languages: {config['SECURITY_TXT_LANGUAGES']}",
        f"Canonical: {config['PUBLIC_URL']}{SECURITY_TXT_PATH}",
    ]
    return _plain_text("\n".join(lines) + "\n")


def _legal_context() -> dict:
    return {"local_values": current_app.config["PORTAL_ENV"] != "production", "scam_slug": SCAM_PAGE_SLUG,
            "tiles_host": urlsplit(current_app.config["MAP_TILES_URL"]).hostname}


@bp.get("/mentions-legales")
def legal_notice():
    return render_template("portal/legal_notice.html", **_legal_context())


def _minutes(limit: str) -> int:
    """The longest window of a rate limit such as "3 per 10 minutes", in whole minutes."""
    return max(-(-item.get_expiry() // 60) for item in parse_many(limit))


@bp.get("/donnees-personnelles")
def personal_data():
    config = current_app.config
    scopes = [SCOPE_LABELS.get(s, s) for s in config["FRANCECONNECT_SCOPES"].split()]
    # Route limits written in the code (sign-in, CSP reports) count per minute.
    windows = [1] + [_minutes(config[k]) for k in ("SEARCH_RATE_LIMIT", "FINDER_RATE_LIMIT", "LOGIN_CODE_RATE_LIMIT")]
    return render_template("portal/personal_data.html", scopes=scopes, counted_minutes=max(windows),
                           login_code_minutes=_minutes(config["LOGIN_CODE_RATE_LIMIT"]), **_legal_context())


def _cookies() -> list[dict]:
    """The cookies the portal may set, named as this configuration names them."""
    app = current_app._get_current_object()
    interface, config = app.session_interface, app.config
    found = [{
        "name": interface.get_cookie_name(app),
        "purpose": "Garde votre connexion d'une page à l'autre. Il ne contient qu'un identifiant tiré au hasard : "
                   "ce qu'il désigne reste sur le serveur. Il n'est déposé que lorsqu'il y a quelque chose à garder "
                   "(une connexion en cours, un compte connecté).",
        "duration": f"Jusqu'à la fermeture du navigateur. La session prend fin sur le serveur à la déconnexion, "
                    f"après {config['SESSION_IDLE_MINUTES']} minutes sans activité ou au bout de "
                    f"{config['SESSION_ABSOLUTE_HOURS']} heures.",
    }]
    if hasattr(interface, "token_cookie_name"):  # the CSRF token of anonymous visitors (accounts.sessions)
        found.append({
            "name": interface.token_cookie_name(app),
            "purpose": "Protège les formulaires du portail (connexion) contre la falsification de requêtes : il "
                       "contient un jeton aléatoire signé par le serveur, et rien qui vous concerne.",
            "duration": "Jusqu'à la fermeture du navigateur.",
        })
    return found


@bp.get("/gestion-des-cookies")
def cookies():
    return render_template("portal/cookies.html", cookies=_cookies(), **_legal_context())
