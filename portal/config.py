"""Settings: embedded defaults, then environment variables, then a test mapping.

Production is the default environment (``PORTAL_ENV`` unset): it refuses to
start without an explicit ``SECRET_KEY`` and ``DATABASE_URL``. ``make run``
sets ``PORTAL_ENV=development``, which fills in safe local defaults. Every
variable is listed in ``.env.example``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("production", "development", "test")

# The local FranceConnect (local_franceconnect/) that development and tests sign in with.
DEV_FRANCECONNECT_CLIENT_ID = "portail-citoyen-local"
DEV_FRANCECONNECT_CLIENT_SECRET = "secret-du-franceconnect-local-ne-pas-utiliser-en-production"
DEFAULT_SCOPES = "openid given_name family_name birthdate gender birthplace birthcountry email"


def dev_public_url() -> str:
    """Where the portal answers in development (``make run``: http://127.0.0.1:$PORT)."""
    return os.environ.get("PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}").rstrip("/")


def local_franceconnect_issuer() -> str:
    return f"http://127.0.0.1:{os.environ.get('LOCAL_FC_PORT', '5001')}/api/v2"


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return not url.startswith("https://") or host in {"localhost", "127.0.0.1", "::1"} or host.endswith(".local")


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret(instance: Path) -> str:
    """A random key kept in instance/ so development sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _franceconnect_settings(settings: dict, production: bool) -> None:
    """Fill in the local FranceConnect outside production; refuse it in production."""
    if production:
        missing = [k for k in ("PUBLIC_URL", "FRANCECONNECT_ISSUER", "FRANCECONNECT_CLIENT_ID",
                               "FRANCECONNECT_CLIENT_SECRET") if not settings.get(k)]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set in production (PORTAL_ENV=production).")
        local_secret = settings["FRANCECONNECT_CLIENT_SECRET"] == DEV_FRANCECONNECT_CLIENT_SECRET
        if _is_local(settings["FRANCECONNECT_ISSUER"]) or local_secret:
            raise ConfigError(
                "Production refuses the local FranceConnect: FRANCECONNECT_ISSUER must be the real "
                "FranceConnect over https (https://oidc.franceconnect.gouv.fr/api/v2)."
            )
    settings["PUBLIC_URL"] = (settings.get("PUBLIC_URL") or dev_public_url()).rstrip("/")
    settings["FRANCECONNECT_ISSUER"] = settings["FRANCECONNECT_ISSUER"] or local_franceconnect_issuer()
    settings["FRANCECONNECT_CLIENT_ID"] = settings["FRANCECONNECT_CLIENT_ID"] or DEV_FRANCECONNECT_CLIENT_ID
    settings["FRANCECONNECT_CLIENT_SECRET"] = (settings["FRANCECONNECT_CLIENT_SECRET"]
                                               or DEV_FRANCECONNECT_CLIENT_SECRET)


def _map_tiles_settings(settings: dict) -> None:
    """The tile server is the one origin map pages may load from: an https URL with {z}, {x} and {y}."""
    url = settings["MAP_TILES_URL"]
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or not all(k in url for k in ("{z}", "{x}", "{y}")):
        raise ConfigError("MAP_TILES_URL must be an https URL with {z}, {x} and {y} "
                          "(https://tile.openstreetmap.org/{z}/{x}/{y}.png by default).")


def load_settings(instance_path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict:
    instance = Path(instance_path)
    env = os.environ
    overrides = dict(overrides or {})
    portal_env = overrides.get("PORTAL_ENV") or env.get("PORTAL_ENV", "production")
    if portal_env not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {portal_env!r}")
    production = portal_env == "production"

    settings: dict[str, Any] = {
        "PORTAL_ENV": portal_env,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL"),
        "SEARCH_INDEX_DIR": env.get("SEARCH_INDEX_DIR", str(instance / "search-index")),
        "PORTAL_DATA_DIR": env.get("PORTAL_DATA_DIR", str(ROOT.parent / "shared" / "data")),
        "SEARCH_EVAL_FILE": env.get(
            "SEARCH_EVAL_FILE", str(ROOT.parent / "shared" / "search-eval" / "queries-public.tsv")
        ),
        # Where the quick-exit button of the violence pages sends the visitor.
        "QUICK_EXIT_URL": env.get("QUICK_EXIT_URL", "https://meteofrance.com/"),
        # Fiches older than this are shown with a "may be out of date" notice.
        "FICHE_MAX_AGE_DAYS": int(env.get("FICHE_MAX_AGE_DAYS", "365")),
        # FranceConnect v2. Development and tests use the local FranceConnect;
        # production must name the real one (https://oidc.franceconnect.gouv.fr/api/v2).
        "PUBLIC_URL": env.get("PUBLIC_URL"),
        "FRANCECONNECT_ISSUER": env.get("FRANCECONNECT_ISSUER"),
        "FRANCECONNECT_CLIENT_ID": env.get("FRANCECONNECT_CLIENT_ID"),
        "FRANCECONNECT_CLIENT_SECRET": env.get("FRANCECONNECT_CLIENT_SECRET"),
        "FRANCECONNECT_SCOPES": env.get("FRANCECONNECT_SCOPES", DEFAULT_SCOPES),
        "FRANCECONNECT_TIMEOUT": float(env.get("FRANCECONNECT_TIMEOUT", "5")),
        # Sessions: 30 minutes without activity, 12 hours in all.
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_ABSOLUTE_HOURS": int(env.get("SESSION_ABSOLUTE_HOURS", "12")),
        # E-mail: kept in the local outbox (page /dev/boite-mail and console) in
        # development and tests; sent by SMTP in production.
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "smtp" if production else "outbox"),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "587")),
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS"), default=True),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Portail citoyen <ne-pas-repondre@portail-citoyen.local>"),
        # One-time codes sent for the e-mail sign-in, per visitor address and per e-mail.
        "LOGIN_CODE_RATE_LIMIT": env.get("LOGIN_CODE_RATE_LIMIT", "3 per 10 minutes"),
        # Map tiles: the only requests the portal lets leave for another site.
        # Default OpenStreetMap; the State's IGN Géoplateforme "Plan IGN" is documented in .env.example.
        "MAP_TILES_URL": env.get("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "MAP_TILES_ATTRIBUTION": env.get(
            "MAP_TILES_ATTRIBUTION",
            '&copy; les contributeurs d\'<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        ),
        "MAP_TILES_MAX_ZOOM": int(env.get("MAP_TILES_MAX_ZOOM", "19")),
        # Address shown on the accessibility statement for reporting a barrier.
        "ACCESSIBILITY_CONTACT": env.get("ACCESSIBILITY_CONTACT", ""),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SESSION_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), default=production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JSON_AS_ASCII": False,
        # Rate limits: in memory per process by default; Redis in production
        # (redis://...), falling back to memory if Redis stops answering.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SEARCH_RATE_LIMIT": env.get("SEARCH_RATE_LIMIT", "120 per minute"),
        # One budget per visitor for the station finder, its suggestions and its API.
        "FINDER_RATE_LIMIT": env.get("FINDER_RATE_LIMIT", "300 per minute"),
        # Reverse proxies in front of the portal whose X-Forwarded-* headers are trusted
        # (client address for rate limits, HTTPS for HSTS and secure cookies). 0: none.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
    }
    settings.update(overrides)

    if not settings["SQLALCHEMY_DATABASE_URI"]:
        if production:
            raise ConfigError("DATABASE_URL must be set in production (PORTAL_ENV=production).")
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.db'}"
    if not settings["SECRET_KEY"]:
        if production:
            raise ConfigError("SECRET_KEY must be set in production (PORTAL_ENV=production).")
        settings["SECRET_KEY"] = _dev_secret(instance)
    _franceconnect_settings(settings, production)
    _map_tiles_settings(settings)
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault(
            "connect_args", {"connect_timeout": 3, "options": "-c statement_timeout=5000"}
        )
        options.setdefault("pool_timeout", 5)
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return settings
