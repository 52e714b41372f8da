"""Settings: embedded defaults, then environment variables, then a test mapping.

Production is the default environment (``PORTAL_ENV`` unset): it refuses to
start, with one error that lists every problem, on anything unsafe there
(no secret or database, no explicit ``TRUSTED_PROXIES``, per-process rate
limits, the local outbox or FranceConnect, SMTP without TLS). ``make run``
sets ``PORTAL_ENV=development``, which fills in safe local defaults. Every
variable is listed in ``.env.example``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from portal.crypto import KeyFormatError, parse_keys
from portal.extensions import utc

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


def _franceconnect_settings(settings: dict, production: bool, problems: list[str]) -> None:
    """Fill in the local FranceConnect outside production; refuse it in production."""
    if production:
        missing = [k for k in ("PUBLIC_URL", "FRANCECONNECT_ISSUER", "FRANCECONNECT_CLIENT_ID",
                               "FRANCECONNECT_CLIENT_SECRET") if not settings.get(k)]
        if missing:
            problems.append(f"{', '.join(missing)} : obligatoire(s) en production.")
        local_secret = settings["FRANCECONNECT_CLIENT_SECRET"] == DEV_FRANCECONNECT_CLIENT_SECRET
        if (settings["FRANCECONNECT_ISSUER"] and _is_local(settings["FRANCECONNECT_ISSUER"])) or local_secret:
            problems.append("FRANCECONNECT_ISSUER : le FranceConnect local est refusé en production ; indiquer "
                            "le vrai FranceConnect en https (https://oidc.franceconnect.gouv.fr/api/v2) et ses "
                            "identifiants.")
        if settings.get("PUBLIC_URL") and not settings["PUBLIC_URL"].startswith("https://"):
            problems.append("PUBLIC_URL : doit commencer par https:// en production.")
    settings["PUBLIC_URL"] = (settings.get("PUBLIC_URL") or dev_public_url()).rstrip("/")
    settings["FRANCECONNECT_ISSUER"] = settings["FRANCECONNECT_ISSUER"] or local_franceconnect_issuer()
    settings["FRANCECONNECT_CLIENT_ID"] = settings["FRANCECONNECT_CLIENT_ID"] or DEV_FRANCECONNECT_CLIENT_ID
    settings["FRANCECONNECT_CLIENT_SECRET"] = (settings["FRANCECONNECT_CLIENT_SECRET"]
                                               or DEV_FRANCECONNECT_CLIENT_SECRET)


def _agents_oidc_settings(settings: dict, production: bool, problems: list[str]) -> None:
    """The agents' OpenID provider (ProConnect), optional: when its issuer is set, its client must be too."""
    issuer = (settings.get("AGENTS_OIDC_ISSUER") or "").strip().rstrip("/")
    settings["AGENTS_OIDC_ISSUER"] = issuer
    if not issuer:
        return
    missing = [k for k in ("AGENTS_OIDC_CLIENT_ID", "AGENTS_OIDC_CLIENT_SECRET") if not settings.get(k)]
    if missing:
        problems.append(f"{', '.join(missing)} : obligatoire(s) quand AGENTS_OIDC_ISSUER est indiqué.")
    if production and _is_local(issuer):
        problems.append("AGENTS_OIDC_ISSUER : une adresse https:// publique en production (ProConnect : "
                        "https://auth.agentconnect.gouv.fr/api/v2 ou celle de son environnement), jamais un "
                        "fournisseur local.")
    if production and settings.get("AGENTS_OIDC_CLIENT_SECRET") == DEV_FRANCECONNECT_CLIENT_SECRET:
        problems.append("AGENTS_OIDC_CLIENT_SECRET : le secret du FranceConnect local est refusé en production.")


def _production_problems(settings: dict, proxies_explicit: bool) -> list[str]:
    """What would make production unsafe; the portal refuses to start and lists them all at once."""
    problems = []
    if not proxies_explicit:
        problems.append("TRUSTED_PROXIES : à indiquer explicitement (1 derrière un proxy TLS, 0 sans proxy) ; "
                        "sans lui, tous les visiteurs partagent l'adresse du proxy (limites de débit) et HSTS "
                        "n'est jamais envoyé.")
    if not settings["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "redis+sentinel://")):
        problems.append("RATELIMIT_STORAGE_URI : un stockage partagé (redis://…) est obligatoire en production ; "
                        "en mémoire, chaque processus tiendrait ses propres compteurs.")
    if settings["MAIL_BACKEND"] != "smtp":
        problems.append("MAIL_BACKEND : seul smtp est accepté en production (la boîte locale montrerait les "
                        "codes de connexion).")
    elif not (settings["MAIL_USE_TLS"] or settings["MAIL_USE_SSL"]):
        problems.append("MAIL_USE_TLS / MAIL_USE_SSL : le relais SMTP doit être joint en TLS vérifié "
                        "(les codes de connexion passent par courriel).")
    if settings["SECRET_KEY"] and len(settings["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY : 32 caractères aléatoires au moins.")
    if settings["WIDGET_ALLOW_LOOPBACK_ORIGINS"]:
        problems.append("WIDGET_ALLOW_LOOPBACK_ORIGINS : réservé au développement et aux tests (les widgets ne "
                        "s'intègrent en production que dans des sites https).")
    if not str(settings.get("MAIRIES_CONTACT") or "").strip():
        problems.append("MAIRIES_CONTACT : obligatoire en production (l'adresse à laquelle une mairie demande son "
                        "inscription pour les widgets, affichée sur /mairies).")
    if not settings["SESSION_COOKIE_SECURE"]:
        problems.append("SESSION_COOKIE_SECURE : ne peut pas être désactivé en production (le cookie de session "
                        "ne doit voyager qu'en HTTPS).")
    return problems


def _proxy_count(value: Any, problems: list[str]) -> int:
    """TRUSTED_PROXIES as a whole number of proxies, 0 or more."""
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    problems.append(f"TRUSTED_PROXIES : un nombre entier de proxys, 0 ou plus, pas {text!r}.")
    return 0


def _allowed_hosts(settings: dict, production: bool) -> list[str] | None:
    """Host names the portal answers for: PUBLIC_URL's host in production unless ALLOWED_HOSTS says more."""
    listed = [h.strip() for h in (settings.get("ALLOWED_HOSTS") or "").split(",") if h.strip()]
    if listed:
        return listed
    if production:
        return [urlsplit(settings["PUBLIC_URL"]).hostname or ""]
    return None


# Who publishes and hosts the portal, whom to write to: facts the code cannot know. They come from
# the environment, are required in production, and get clearly-labelled local values elsewhere.
LEGAL_SETTINGS = {
    "PUBLISHER_NAME": "Éditeur non renseigné (instance de développement locale)",
    "PUBLISHER_ADDRESS": "Adresse non renseignée (instance de développement locale)",
    "PUBLICATION_DIRECTOR": "Non renseigné (instance de développement locale)",
    "HOSTING_PROVIDER": "Poste de développement local (aucun hébergeur)",
    "HOSTING_ADDRESS": "Non renseignée (instance de développement locale)",
    "PRIVACY_CONTACT": "donnees-personnelles@portail-citoyen.local",
    "LOG_RETENTION": "durée non renseignée (instance de développement locale)",
    "SECURITY_CONTACT": "mailto:securite@portail-citoyen.local",
}
# RFC 9116: Expires should be less than a year ahead.
SECURITY_TXT_MAX_AHEAD = timedelta(days=365)
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")
EMAIL_ADDRESS = re.compile(r"^[^@\s:,]+@[^@\s,]+\.[^@\s,]+$")


def _contact_uri(value: str) -> str:
    """security.txt's Contact is a URI: a bare e-mail address becomes mailto:."""
    value = value.strip()
    return f"mailto:{value}" if EMAIL_ADDRESS.match(value) else value


def _trust_settings(settings: dict, production: bool, problems: list[str]) -> None:
    """Legal identities, the personal-data and security contacts, and security.txt's fields."""
    for name, local_value in LEGAL_SETTINGS.items():
        if not str(settings.get(name) or "").strip():
            if production:
                problems.append(f"{name} : obligatoire en production (mentions légales, données personnelles, "
                                "security.txt ; voir .env.example).")
            settings[name] = local_value
    contacts = [_contact_uri(c) for c in settings["SECURITY_CONTACT"].split(",") if c.strip()]
    if not contacts or not all(c.startswith(("mailto:", "https://", "tel:")) and " " not in c for c in contacts):
        problems.append("SECURITY_CONTACT : une ou plusieurs adresses mailto:, https:// ou tel:, séparées par "
                        "des virgules.")
    settings["SECURITY_TXT_CONTACTS"] = contacts
    privacy = settings["PRIVACY_CONTACT"].strip()
    if not (EMAIL_ADDRESS.match(privacy) or (privacy.startswith("https://") and " " not in privacy)):
        problems.append("PRIVACY_CONTACT : une adresse électronique ou une adresse https:// (formulaire).")
    languages = [t.strip() for t in settings["SECURITY_TXT_LANGUAGES"].split(",")]
    if not all(LANGUAGE_TAG.match(t) for t in languages):
        problems.append("SECURITY_TXT_LANGUAGES : des étiquettes de langue séparées par des virgules (fr, en).")
    settings["SECURITY_TXT_LANGUAGES"] = ", ".join(languages)
    settings["SECURITY_TXT_EXPIRES_AT"] = None
    expires = settings.get("SECURITY_TXT_EXPIRES")
    if expires:
        try:
            when = expires if isinstance(expires, datetime) else datetime.fromisoformat(str(expires))
        except ValueError:
            problems.append("SECURITY_TXT_EXPIRES : une date ISO 8601 (2027-06-30 ou 2027-06-30T00:00:00Z).")
            return
        when = utc(when)
        now = datetime.now(UTC)
        if not now < when <= now + SECURITY_TXT_MAX_AHEAD:
            problems.append("SECURITY_TXT_EXPIRES : dans le futur et à moins d'un an (RFC 9116) ; laisser vide "
                            "pour une date calculée.")
        settings["SECURITY_TXT_EXPIRES_AT"] = when.astimezone(UTC)


def _map_tiles_settings(settings: dict, problems: list[str]) -> None:
    """The tile server is the one origin map pages may load from: an https URL with {z}, {x} and {y}."""
    url = settings["MAP_TILES_URL"]
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or not all(k in url for k in ("{z}", "{x}", "{y}")):
        problems.append("MAP_TILES_URL : une adresse https avec {z}, {x} et {y} "
                        "(https://tile.openstreetmap.org/{z}/{x}/{y}.png par défaut).")


def _video_url_settings(settings: dict, production: bool, problems: list[str]) -> None:
    """The visio-plainte "Rejoindre" link: {room} and no other replacement field; in production a real https service."""
    template = str(settings.get("VIDEO_URL_TEMPLATE") or "")
    rest = template.replace("{room}", "")
    if "{room}" not in template or "{" in rest or "}" in rest:
        problems.append("VIDEO_URL_TEMPLATE : l'adresse des salles de visioconférence doit contenir {room} (le nom "
                        "de la salle) et aucune autre accolade, par exemple https://visio.example.gouv.fr/{room}.")
        return
    parts = urlsplit(template.replace("{room}", "salle"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append("VIDEO_URL_TEMPLATE : une adresse http(s) complète, par exemple "
                        "https://visio.example.gouv.fr/{room}.")
    elif production and (parts.scheme != "https" or parts.hostname == "visio.invalid"):
        problems.append("VIDEO_URL_TEMPLATE : en production, l'adresse https du service de visioconférence réel "
                        "(pas https://visio.invalid/{room}, la valeur de développement).")


def _encryption_settings(settings: dict, production: bool, problems: list[str]) -> None:
    """DATA_ENCRYPTION_KEYS as a list of keys; production must give its own."""
    value = settings["DATA_ENCRYPTION_KEYS"]
    if isinstance(value, list | tuple):
        return
    try:
        settings["DATA_ENCRYPTION_KEYS"] = parse_keys(value)
    except KeyFormatError as exc:
        problems.append(f"DATA_ENCRYPTION_KEYS : {exc}.")
        settings["DATA_ENCRYPTION_KEYS"] = []
        return
    if production and not settings["DATA_ENCRYPTION_KEYS"]:
        problems.append("DATA_ENCRYPTION_KEYS : obligatoire en production (les plaintes sont chiffrées au repos ; "
                        "`flask complaints new-key` en crée une).")


def _analytics_settings(settings: dict, problems: list[str]) -> None:
    """k-anonymity needs k of 2 at least: with 1, a query typed by a single person would be shown."""
    if int(settings["ANALYTICS_MIN_VISITORS"]) < 2:
        problems.append("ANALYTICS_MIN_VISITORS : 2 au moins (5 par défaut) ; en dessous, une recherche tapée "
                        "par une seule personne serait montrée aux rédacteurs.")
    if int(settings["ANALYTICS_RETENTION_DAYS"]) < 1:
        problems.append("ANALYTICS_RETENTION_DAYS : 1 jour au moins (30 par défaut).")
    # The daily counts must outlive the longest report (30 days) and the raw events they are rolled up from
    # (otherwise the roll-up would recreate them from events not yet purged).
    floor = max(30, int(settings["ANALYTICS_RETENTION_DAYS"]))
    if int(settings["ANALYTICS_SUMMARY_RETENTION_DAYS"]) < floor:
        problems.append(f"ANALYTICS_SUMMARY_RETENTION_DAYS : {floor} jours au moins (90 par défaut) : la plus longue "
                        "période des statistiques (30 jours) et la durée de conservation des recherches "
                        "(ANALYTICS_RETENTION_DAYS).")


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
        # STARTTLS (port 587) or implicit TLS (MAIL_USE_SSL, port 465); the relay's certificate is always
        # verified, against the system's authorities or MAIL_CA_FILE.
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS"), default=True),
        "MAIL_USE_SSL": _flag(env.get("MAIL_USE_SSL"), default=False),
        "MAIL_CA_FILE": env.get("MAIL_CA_FILE") or None,
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
        # Legal notice, personal data page and security.txt's Contact (LEGAL_SETTINGS): required in production.
        **{name: env.get(name, "") for name in LEGAL_SETTINGS},
        # /.well-known/security.txt (RFC 9116). Contact (SECURITY_CONTACT): mailto:, https: or tel:,
        # comma-separated. Expires: ISO 8601, less than a year ahead; unset, 180 days from today.
        "SECURITY_TXT_EXPIRES": env.get("SECURITY_TXT_EXPIRES", ""),
        "SECURITY_TXT_LANGUAGES": env.get("SECURITY_TXT_LANGUAGES", "fr"),
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
        "TRUSTED_PROXIES": env.get("TRUSTED_PROXIES", "0"),
        # Host names the portal answers for (comma-separated); in production, PUBLIC_URL's by default.
        # Any other Host header gets a 400, so it never reaches an absolute URL.
        "ALLOWED_HOSTS": env.get("ALLOWED_HOSTS", ""),
        # Case data (complaints, messages, statements, identities) sealed at rest (portal/crypto.py):
        # URL-safe base64 keys of 32 bytes, comma-separated, newest first. Required in production;
        # elsewhere a key is derived from SECRET_KEY. `flask complaints new-key` prints one.
        "DATA_ENCRYPTION_KEYS": env.get("DATA_ENCRYPTION_KEYS", ""),
        # Retention (flask complaints purge): unsubmitted drafts, then closed cases, in days.
        "DRAFT_RETENTION_DAYS": int(env.get("DRAFT_RETENTION_DAYS", "30")),
        "CLOSED_CASE_RETENTION_DAYS": int(env.get("CLOSED_CASE_RETENTION_DAYS", "180")),
        # Search analytics (search/analytics.py): raw searches (scrubbed query, day, visitor key) are kept this
        # many days, their daily counts SUMMARY days (at least 30, the longest report, and RETENTION); editors
        # see a query only once this many distinct visitors typed it on one day of the period shown. 2 at least.
        "ANALYTICS_RETENTION_DAYS": int(env.get("ANALYTICS_RETENTION_DAYS", "30")),
        "ANALYTICS_SUMMARY_RETENTION_DAYS": int(env.get("ANALYTICS_SUMMARY_RETENTION_DAYS", "90")),
        "ANALYTICS_MIN_VISITORS": int(env.get("ANALYTICS_MIN_VISITORS", "5")),
        # The video service of visio-plainte hearings, outside the portal: {room} is replaced by the
        # booking's own unguessable room name.
        "VIDEO_URL_TEMPLATE": env.get("VIDEO_URL_TEMPLATE", "https://visio.invalid/{room}"),
        # Agents (officers, editors, administrators): a session of their own, shorter than citizens'.
        "AGENT_SESSION_IDLE_MINUTES": int(env.get("AGENT_SESSION_IDLE_MINUTES", "15")),
        "AGENT_SESSION_ABSOLUTE_HOURS": int(env.get("AGENT_SESSION_ABSOLUTE_HOURS", "8")),
        # Failed sign-ins before an agent's account is locked, and for how long.
        "AGENT_MAX_FAILURES": int(env.get("AGENT_MAX_FAILURES", "5")),
        "AGENT_LOCK_MINUTES": int(env.get("AGENT_LOCK_MINUTES", "15")),
        # Agents' sign-in attempts per visitor address, on top of the per-account lockout.
        "AGENT_SIGN_IN_RATE_LIMIT": env.get("AGENT_SIGN_IN_RATE_LIMIT", "10 per minute"),
        # Mairies' widgets (widgets/): how long each process keeps the registry of mairies and their sites'
        # origins (a registration or a withdrawal reaches every worker within this delay), whether http
        # loopback origins may be registered (development and tests only), and the address a mairie writes
        # to for its registration (shown on /mairies; required in production).
        "WIDGET_ORIGINS_CACHE_SECONDS": float(env.get("WIDGET_ORIGINS_CACHE_SECONDS", "30")),
        "WIDGET_ALLOW_LOOPBACK_ORIGINS": _flag(env.get("WIDGET_ALLOW_LOOPBACK_ORIGINS"), default=not production),
        "MAIRIES_CONTACT": env.get("MAIRIES_CONTACT", ""),
        # The widgets' pages, and the public API /api/v1/ (one budget per client address for the whole API).
        "WIDGET_RATE_LIMIT": env.get("WIDGET_RATE_LIMIT", "300 per minute"),
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "300 per minute"),
        # In production, agents may sign in with an OpenID provider (ProConnect) instead of a password.
        "AGENTS_OIDC_ISSUER": env.get("AGENTS_OIDC_ISSUER", ""),
        "AGENTS_OIDC_CLIENT_ID": env.get("AGENTS_OIDC_CLIENT_ID", ""),
        "AGENTS_OIDC_CLIENT_SECRET": env.get("AGENTS_OIDC_CLIENT_SECRET", ""),
    }
    settings.update(overrides)

    problems: list[str] = []
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        if production:
            problems.append("DATABASE_URL : obligatoire en production.")
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.db'}"
    if not settings["SECRET_KEY"]:
        if production:
            problems.append("SECRET_KEY : obligatoire en production (32 caractères aléatoires au moins).")
        else:
            settings["SECRET_KEY"] = _dev_secret(instance)
    settings["TRUSTED_PROXIES"] = _proxy_count(settings["TRUSTED_PROXIES"], problems)
    if settings["MAIL_CA_FILE"] and not Path(settings["MAIL_CA_FILE"]).is_file():
        problems.append(f"MAIL_CA_FILE : {settings['MAIL_CA_FILE']} n'est pas un fichier lisible.")
    _franceconnect_settings(settings, production, problems)
    _agents_oidc_settings(settings, production, problems)
    _trust_settings(settings, production, problems)
    _map_tiles_settings(settings, problems)
    _video_url_settings(settings, production, problems)
    _encryption_settings(settings, production, problems)
    _analytics_settings(settings, problems)
    if production:
        problems += _production_problems(settings, "TRUSTED_PROXIES" in env or "TRUSTED_PROXIES" in overrides)
    if problems:
        raise ConfigError("Configuration refusée (PORTAL_ENV=" + portal_env + ") :\n- " + "\n- ".join(problems))
    settings["TRUSTED_HOSTS"] = _allowed_hosts(settings, production)
    options = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
    # SQL parameters hold session data, codes and identities: never in a log or an exception message.
    options["hide_parameters"] = True
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if settings["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # A Redis that stops answering must cost a request 0.2 s, not hang it.
        settings.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.2, "socket_timeout": 0.2})
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
        # Options given in DATABASE_URL (?options=-csearch_path%3D…) are kept, the timeout added to them.
        given = make_url(settings["SQLALCHEMY_DATABASE_URI"]).query.get("options", "")
        options.setdefault(
            "connect_args", {"connect_timeout": 3, "options": f"{given} -c statement_timeout=5000".strip()}
        )
        options.setdefault("pool_timeout", 5)
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return settings
