"""Which sites may embed which commune's widgets, and which origins the public API answers with CORS.

The registry is read from the database and kept in each process for
``WIDGET_ORIGINS_CACHE_SECONDS`` (30 s by default): a registration, a new
origin or a withdrawal reaches every worker and every host within that delay,
with no cross-process machinery. The process that made the change forgets its
copy at once (``invalidate``).
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import idna
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from widgets.models import Mairie

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_ORIGIN_CHARS = 200
# A DNS label after IDNA encoding: letters, digits, hyphens, not starting or ending with a hyphen.
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.ASCII)
NUMERIC_LABEL = re.compile(r"^(?:\d+|0x[0-9a-f]*)$", re.ASCII)


class OriginError(ValueError):
    """Why a text is not an origin a mairie may register, in French."""


def normalize_origin(text: str, allow_loopback: bool = False) -> str:
    """``"HTTPS://Www.Mairie-Exemple.fr/"`` → ``"https://www.mairie-exemple.fr"``; raises ``OriginError``.

    An origin is exact: https, a host name, an optional port; no path, query,
    user name or wildcard. ``http://`` is accepted for loopback hosts only, and
    only when ``allow_loopback`` (development and tests).
    """
    value = (text or "").strip()
    if not value:
        raise OriginError("Indiquez l'origine du site, par exemple https://www.mairie-exemple.fr.")
    if len(value) > MAX_ORIGIN_CHARS:
        raise OriginError(f"Une origine compte au plus {MAX_ORIGIN_CHARS} caractères.")
    if "*" in value:
        raise OriginError(f"« {value} » : les jokers (*) ne sont pas acceptés ; indiquez chaque site exactement.")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise OriginError(f"« {value} » n'est pas une adresse de site valide.") from None
    scheme = parts.scheme.lower()
    if port == 0:
        raise OriginError(f"« {value} » : le port 0 ne désigne aucun site.")
    if parts.username is not None or parts.password is not None:
        raise OriginError(f"« {value} » : une origine ne contient ni identifiant ni mot de passe.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise OriginError(f"« {value} » : indiquez seulement le protocole et le nom du site, sans chemin "
                          "(par exemple https://www.mairie-exemple.fr).")
    host = (parts.hostname or "").lower()
    if not host:
        raise OriginError(f"« {value} » n'est pas une adresse de site valide.")
    if host.startswith("[") or ":" in host:
        host = f"[{host.strip('[]')}]"
    loopback = host in LOOPBACK_HOSTS
    if loopback and not allow_loopback:
        raise OriginError(f"« {value} » désigne cet ordinateur, pas le site d'une mairie.")
    if scheme == "http" and loopback:
        pass
    elif scheme != "https":
        raise OriginError(f"« {value} » : seuls les sites en https peuvent intégrer les widgets.")
    if not loopback:
        host = _host_name(host, value)
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def _host_name(host: str, value: str) -> str:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise OriginError(f"« {value} » : indiquez le nom du site, pas une adresse IP.")
    try:
        # UTS #46 without transitional mapping, as browsers write the Origin header: "straße.fr" is
        # xn--strae-oqa.fr, never strasse.fr (Python's own "idna" codec, IDNA 2003, would say the latter).
        encoded = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise OriginError(f"« {value} » : le nom du site n'est pas valide.") from None
    labels = encoded.split(".")
    if len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        raise OriginError(f"« {value} » : le nom du site n'est pas valide.")
    if NUMERIC_LABEL.match(labels[-1]):
        # "127.1", "0x7f.0.0.1": browsers read these as IP addresses (WHATWG URL, "ends in a number").
        raise OriginError(f"« {value} » : indiquez le nom du site, pas une adresse IP.")
    return encoded


@dataclass(frozen=True)
class Registry:
    """Active registrations: each commune's origins, and every registered origin."""

    by_commune: dict[str, tuple[str, ...]] = field(default_factory=dict)
    origins: frozenset[str] = frozenset()

    def origins_for(self, code_insee: str) -> tuple[str, ...]:
        return self.by_commune.get(code_insee, ())

    def allows(self, code_insee: str, origin: str) -> bool:
        return origin in self.by_commune.get(code_insee, ())


def load(session: Session) -> Registry:
    mairies = session.execute(
        select(Mairie).where(Mairie.active.is_(True)).options(selectinload(Mairie.origins))
    ).scalars()
    by_commune = {m.code_insee: tuple(o.origin for o in m.origins) for m in mairies}
    return Registry(by_commune, frozenset(o for origins in by_commune.values() for o in origins))


class RegistryCache:
    """One process's copy of the registry, reloaded after ``ttl`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._loaded_at = 0.0

    def get(self, session: Session, ttl: float) -> Registry:
        now = time.monotonic()
        registry = self._registry
        if registry is not None and now - self._loaded_at < ttl:
            return registry
        with self._lock:
            if self._registry is None or time.monotonic() - self._loaded_at >= ttl:
                self._registry = load(session)
                self._loaded_at = time.monotonic()
            return self._registry

    def invalidate(self) -> None:
        with self._lock:
            self._registry = None


def _cache() -> RegistryCache:
    return current_app.extensions.setdefault("widget_registry", RegistryCache())


def current(session: Session) -> Registry:
    """The registry, at most ``WIDGET_ORIGINS_CACHE_SECONDS`` old."""
    return _cache().get(session, float(current_app.config["WIDGET_ORIGINS_CACHE_SECONDS"]))


def invalidate() -> None:
    """After a change in this process: its next request reads the database again."""
    _cache().invalidate()


def loopback_allowed() -> bool:
    return bool(current_app.config["WIDGET_ALLOW_LOOPBACK_ORIGINS"])
