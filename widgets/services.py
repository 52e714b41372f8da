"""What the widgets show and who may frame them: plain functions, no ``request``, tested directly.

A widget is configured by its URL only (``commune`` and a few options), so
that the same address gives the same page to every citizen: no cookie, no
session, nothing kept on the device. The options are read here into an
``Options`` value, or refused with a French ``WidgetError`` (a 400 inside the
frame). Whether the embedder may frame the widget is decided from the mairies'
registry (``widgets.registry``) and the request's ``Referer``, whose origin the
view passes in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalogue import services as catalogue
from catalogue.models import LifeEvent, LifeEventProcedure, Procedure
from maps import services as maps
from maps.hours import timezone_for
from maps.models import Commune
from maps.places import CODE_INSEE, Place
from maps.services import Nearby, StationRecord
from widgets.registry import Registry


@dataclass(frozen=True)
class WidgetKind:
    """A widget: its address (``/widgets/<name>``), the iframe's title, and a height that fits it without JS."""

    name: str
    title: str
    height: int
    options: tuple[str, ...]


# The loader (static/js/widget_loader.js) and the builder's snippets use the same names, titles and heights.
WIDGETS = {
    "recherche": WidgetKind("recherche", "Rechercher une démarche de police ou de gendarmerie", 260,
                            ("resultats", "q")),
    "situations": WidgetKind("situations", "Démarches de police et de gendarmerie selon votre situation", 640, ()),
    "unites": WidgetKind("unites", "Commissariats et brigades de gendarmerie les plus proches", 640, ("carte",)),
    "demarche": WidgetKind("demarche", "Démarches de police et de gendarmerie", 320, ("demarches",)),
    "urgences": WidgetKind("urgences", "Numéros d'urgence et unités de police et de gendarmerie les plus proches",
                           560, ()),
}
THEMES = {"clair": "light", "sombre": "dark"}
RESULTS_MODES = ("portail", "widget")
MAX_PROCEDURES = 6
UNITS_SHOWN = 5
UNITS_SHOWN_COMPACT = 3
SEARCH_RESULTS_SHOWN = 5
MAX_QUERY_CHARS = 200
# The portal's procedures ("plainte-en-ligne") and service-public.fr's fiches ("F34123").
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}$", re.ASCII)
DEFAULT_PORTS = {"http": 80, "https": 443}
# The numbers shown by the urgences widget, in this order (their text is the appels-urgence procedure's).
EMERGENCY_NUMBERS = ("17", "112", "114")
EMERGENCY_PROCEDURE = "appels-urgence"
# When that procedure is not published: its text as loaded from the catalogue's content.
EMERGENCY_FALLBACK = (
    {"number": "17", "label": "Police secours",
     "detail": "Police ou gendarmerie, pour une infraction en cours ou une personne en danger."},
    {"number": "112", "label": "Numéro d'urgence européen",
     "detail": "Depuis tout téléphone, partout dans l'Union européenne."},
    {"number": "114", "label": "Urgence par SMS",
     "detail": "Pour les personnes sourdes, malentendantes ou qui ne peuvent pas parler (danger, handicap). "
               "Envoyez un SMS, le correspondant vous répond par écrit."},
)


class WidgetError(ValueError):
    """An option the widget cannot take, said in French (answered 400 inside the frame)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


VOWELS = "aeiouyàâäéèêëîïôöùûüœæAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ"


def of_commune(name: str) -> str:
    """"du Mans", "des Lilas", "de l'Haÿ-les-Roses", "d'Angers", "de Laval": after "la mairie"."""
    name = name.strip()
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if name.startswith(article):
            return contracted + name[len(article):]
    if name.startswith(("L'", "L’")):
        return f"de l'{name[2:]}"
    return f"d'{name}" if name[:1] in VOWELS else f"de {name}"


@dataclass(frozen=True)
class CommuneInfo:
    """The commune a widget is configured for, and its town hall's position (None when the data has none)."""

    code_insee: str
    name: str
    department: str
    latitude: float | None
    longitude: float | None
    position_note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.department})"

    @property
    def of_name(self) -> str:
        return of_commune(self.name)

    @property
    def place(self) -> Place:
        return Place(self.label, self.latitude, self.longitude, self.code_insee, self.department,
                     position_note=self.position_note)


@dataclass(frozen=True)
class Options:
    """A widget's configuration, read from its URL."""

    widget: str
    commune: CommuneInfo
    theme: str = "clair"
    compact: bool = False
    carte: bool = False
    resultats: str = "portail"
    demarches: tuple[str, ...] = ()
    q: str = ""

    @property
    def scheme(self) -> str:
        """DSFR's ``data-fr-scheme`` / ``data-fr-theme`` value."""
        return THEMES[self.theme]

    def params(self, **changes) -> dict[str, str]:
        """The widget's URL parameters (defaults left out), to rebuild its address or its form."""
        values = {"commune": self.commune.code_insee, "theme": self.theme, "compact": "1" if self.compact else "",
                  "carte": "1" if self.carte else "", "resultats": self.resultats,
                  "demarches": ",".join(self.demarches), **changes}
        defaults = {"theme": "clair", "resultats": "portail"}
        wanted = {"commune", "theme", "compact", *WIDGETS[self.widget].options} - {"q"}
        return {k: v for k, v in values.items() if k in wanted and v and defaults.get(k) != v}


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str, message: str) -> str:
    value = (args.get(name) or "").strip()
    if not value:
        return default
    if value not in allowed:
        raise WidgetError(message)
    return value


def _flag(args: Mapping[str, str], name: str, message: str) -> bool:
    return _choice(args, name, ("0", "1"), "0", message) == "1"


def lenient_theme(args: Mapping[str, str]) -> tuple[str, bool]:
    """The scheme and density of an error page: the asked ones when valid, else light and normal."""
    theme = THEMES.get((args.get("theme") or "").strip(), "light")
    return theme, (args.get("compact") or "").strip() == "1"


def commune(session: Session, code: str) -> CommuneInfo | None:
    """The commune of an INSEE code ("72181", "2A004"), or None."""
    code = (code or "").strip().upper()
    if not CODE_INSEE.match(code):
        return None
    row = session.get(Commune, code)
    if row is None:
        return None
    return CommuneInfo(row.code_insee, row.name, row.department_code, row.latitude, row.longitude,
                       row.position_note or "")


def parse_options(session: Session, widget: str, args: Mapping[str, str]) -> Options:
    """Read a widget's options from its URL; raises WidgetError (French) for a missing or wrong one.

    Parameters the widget does not use are ignored (a site may add its own, a
    builder may send them all); a value the widget cannot take is refused,
    never silently replaced, so that the mairie's webmaster sees the mistake.
    """
    code = (args.get("commune") or "").strip()
    if not code:
        raise WidgetError("Le paramètre commune (le code INSEE de la commune, par exemple 72181 pour Le Mans) "
                          "est obligatoire.")
    if not CODE_INSEE.match(code.upper()):
        raise WidgetError("Le paramètre commune doit être un code INSEE à cinq caractères, par exemple 72181 "
                          "pour Le Mans (ce n'est pas le code postal).")
    found = commune(session, code)
    if found is None:
        raise WidgetError("Aucune commune n'a ce code INSEE. Vérifiez-le sur la page de la commune à l'INSEE "
                          "(ce n'est pas le code postal).")
    theme = _choice(args, "theme", tuple(THEMES), "clair", "Le paramètre theme doit être « clair » ou « sombre ».")
    compact = _flag(args, "compact", "Le paramètre compact doit être « 1 » (affichage resserré) ou « 0 ».")
    options = Options(widget, found, theme, compact)
    if widget == "unites":
        carte = _flag(args, "carte", "Le paramètre carte doit être « 1 » (afficher un plan) ou « 0 ».")
        options = Options(widget, found, theme, compact, carte=carte)
    elif widget == "recherche":
        mode = _choice(args, "resultats", RESULTS_MODES, "portail",
                       "Le paramètre resultats doit être « widget » (résultats dans le cadre) ou « portail » "
                       "(résultats sur le portail, dans une nouvelle fenêtre).")
        query = " ".join((args.get("q") or "").split())[:MAX_QUERY_CHARS]
        options = Options(widget, found, theme, compact, resultats=mode, q=query)
    elif widget == "demarche":
        options = Options(widget, found, theme, compact, demarches=procedure_slugs(session, args.get("demarches")))
    return options


def procedure_slugs(session: Session, text: str | None) -> tuple[str, ...]:
    """``"plainte-en-ligne,pharos"`` → the slugs, each a published entry; 1 to MAX_PROCEDURES; raises WidgetError."""
    slugs = tuple(dict.fromkeys(s.strip() for s in (text or "").split(",") if s.strip()))
    if not slugs:
        raise WidgetError("Le paramètre demarches est obligatoire : indiquez une à six démarches, séparées par "
                          "des virgules (par exemple demarches=plainte-en-ligne,pharos).")
    if len(slugs) > MAX_PROCEDURES:
        raise WidgetError(f"Le paramètre demarches compte au plus {MAX_PROCEDURES} démarches.")
    if not all(SLUG.match(s) for s in slugs):
        raise WidgetError("Le paramètre demarches contient un nom de démarche mal formé (lettres, chiffres et "
                          "tirets, séparés par des virgules, comme dans l'adresse de la démarche sur le portail).")
    published = set(session.scalars(select(Procedure.slug).where(Procedure.slug.in_(slugs),
                                                                  Procedure.status == "published")))
    unknown = [s for s in slugs if s not in published]
    if unknown:
        raise WidgetError("Ces démarches n'existent pas ou ne sont pas publiées sur le portail : "
                          f"{', '.join(unknown)}.")
    return slugs


# -- who may frame a widget ---------------------------------------------------------------------------------


def origin_of(url: str | None) -> str | None:
    """The origin of a URL as browsers write it ("https://www.lemans.fr"), or None if it has none."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def embedder(fetch_dest: str | None, referer: str | None, own_origins: set[str]) -> str | None:
    """The origin of the site framing this request when the browser says so, and it is not the portal.

    Only an iframe request (``Sec-Fetch-Dest: iframe``) names its embedder in
    its ``Referer`` (the loader asks for ``strict-origin``). A request without
    them (an old browser, a site that sends no referrer) is left to the
    ``frame-ancestors`` policy, which the browser enforces anyway.
    """
    if (fetch_dest or "").lower() != "iframe":
        return None
    origin = origin_of(referer)
    if origin is None or origin in own_origins:
        return None
    return origin


def refused(registry: Registry, code: str, embedding_origin: str | None) -> bool:
    """Whether a foreign site frames a widget of a commune that did not register it (any commune: an
    unknown code is registered for nobody)."""
    return embedding_origin is not None and not registry.allows((code or "").strip().upper(), embedding_origin)


def frame_ancestors(registry: Registry, code: str | None) -> tuple[str, ...]:
    """A widget's ``frame-ancestors``: the portal (the builder's preview) and the commune's mairie's sites."""
    return ("'self'", *registry.origins_for((code or "").strip().upper()))


def parent_origins(registry: Registry, code: str, own_origin: str) -> tuple[str, ...]:
    """Who the frame's script may tell its height: the sites that may frame it, and the portal."""
    return (own_origin, *registry.origins_for(code))


# -- what each widget shows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A unit as the widgets show it: today's hours and whether it is open, from maps' official data."""

    record: StationRecord
    distance_km: float | None
    open_now: bool | None
    status: str
    today: str | None  # "8 h – 12 h, 14 h – 18 h", "Fermé aujourd'hui", None when hours are unknown
    number: int = 0  # its mark on the plan

    @property
    def phone_link(self) -> str:
        return "".join(c for c in self.record.phone if c.isdigit() or c == "+")

    @property
    def kind_label(self) -> str:
        return "Police nationale" if self.record.kind == "police" else "Gendarmerie nationale"


def unit_of(nearby: Nearby | StationRecord, at: datetime | None = None, number: int = 0) -> Unit:
    record = nearby.station if isinstance(nearby, Nearby) else nearby
    distance = nearby.distance_km if isinstance(nearby, Nearby) else None
    today = None
    if record.schedule is not None:
        local = (at or datetime.now(timezone_for(record.department))).astimezone(timezone_for(record.department))
        today = record.schedule.hours_on(local.date()) or "Fermé aujourd'hui"
    return Unit(record, distance, record.open_now(at), record.status(at), today, number)


@dataclass(frozen=True)
class Units:
    """The units nearest the town hall, or the département's when the data does not place the commune."""

    commune: CommuneInfo
    units: list[Unit]
    located: bool
    plan: Plan | None = None


def nearest_units(session: Session, info: CommuneInfo, limit: int, with_plan: bool = False,
                  at: datetime | None = None) -> Units:
    found = _near(session, info, limit, None, at)
    units = [unit_of(u, at, i) for i, u in enumerate(found, start=1)]
    located = info.place.located
    plan = build_plan(info, units) if with_plan and located else None
    return Units(info, units, located, plan)


def _near(session: Session, info: CommuneInfo, limit: int, kind: str | None,
          at: datetime | None) -> list[Nearby | StationRecord]:
    """The units nearest the town hall, or the département's first when the data does not place it."""
    found = maps.find_for_commune(session, info.code_insee, limit, kind, at=at)
    if found is None:
        return []
    return found.nearby or found.department_units[:limit]


@dataclass(frozen=True)
class Emergency:
    numbers: list[dict[str, str]]
    police: Unit | None
    gendarmerie: Unit | None


def emergency(session: Session, info: CommuneInfo, at: datetime | None = None) -> Emergency:
    """17, 112 and 114 (the text of the portal's appels-urgence procedure), and the nearest police unit and
    gendarmerie unit: the nearest, not the competent one, which no open data gives."""
    entry = catalogue.published(session, EMERGENCY_PROCEDURE)
    contacts = {c.get("number"): c for c in (entry.contacts if entry else [])}
    numbers = [contacts.get(n) or dict(f) for n, f in zip(EMERGENCY_NUMBERS, EMERGENCY_FALLBACK, strict=True)]

    def nearest(kind: str) -> Unit | None:
        found = _near(session, info, 1, kind, at)
        return unit_of(found[0], at) if found else None

    return Emergency(numbers, nearest("police"), nearest("gendarmerie"))


def situations(session: Session) -> list[LifeEvent]:
    """The life events of the portal's menu, their published procedures loaded with them."""
    return list(session.scalars(
        select(LifeEvent).where(LifeEvent.status == "published").order_by(LifeEvent.position)
        .options(selectinload(LifeEvent.procedure_links).selectinload(LifeEventProcedure.procedure))
    ))


def procedures(session: Session, slugs: tuple[str, ...]) -> list[Procedure]:
    """The published entries named by ``slugs``, in that order."""
    found = {p.slug: p for p in session.scalars(
        select(Procedure).where(Procedure.slug.in_(slugs), Procedure.status == "published"))}
    return [found[s] for s in slugs if s in found]


# -- the units' small plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPoint:
    x: float
    y: float
    number: int  # 0: the town hall
    label: str


@dataclass(frozen=True)
class Plan:
    """A plan drawn by the server (SVG): the town hall and the numbered units, north up, with a scale.

    No tiles: a tile server would learn which commune's page each citizen
    reads, and the frame would make requests outside the portal.
    """

    width: int
    height: int
    points: list[PlanPoint] = field(default_factory=list)
    scale_km: float = 1.0
    scale_px: float = 0.0
    scale_label: str = ""
    description: str = ""


PLAN_WIDTH, PLAN_HEIGHT, PLAN_MARGIN = 320, 200, 24
KM_PER_DEGREE = 111.32


def _nice_scale(km: float) -> float:
    """A round distance (0.5, 1, 2, 5, 10… km) near a quarter of the plan's width."""
    if km <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(km))
    return min((s * power for s in (1, 2, 5, 10)), key=lambda s: abs(s - km))


def build_plan(info: CommuneInfo, units: list[Unit]) -> Plan | None:
    """Equirectangular projection around the town hall: good enough over a few kilometres."""
    placed = [u for u in units if u.record.latitude is not None]
    if info.latitude is None or not placed:
        return None
    cos = math.cos(math.radians(info.latitude))

    def km(lat: float, lon: float) -> tuple[float, float]:
        return (lon - info.longitude) * KM_PER_DEGREE * cos, (lat - info.latitude) * KM_PER_DEGREE

    coordinates = [(0.0, 0.0)] + [km(u.record.latitude, u.record.longitude) for u in placed]
    xs, ys = [c[0] for c in coordinates], [c[1] for c in coordinates]
    span_x, span_y = max(max(xs) - min(xs), 0.5), max(max(ys) - min(ys), 0.5)
    ratio = min((PLAN_WIDTH - 2 * PLAN_MARGIN) / span_x, (PLAN_HEIGHT - 2 * PLAN_MARGIN) / span_y)
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def point(x: float, y: float) -> tuple[float, float]:
        return (round(PLAN_WIDTH / 2 + (x - mid_x) * ratio, 1), round(PLAN_HEIGHT / 2 - (y - mid_y) * ratio, 1))

    points = [PlanPoint(*point(0.0, 0.0), 0, f"Mairie {info.of_name}")]
    points += [PlanPoint(*point(*km(u.record.latitude, u.record.longitude)), u.number, u.record.name)
               for u in placed]
    scale = _nice_scale((PLAN_WIDTH - 2 * PLAN_MARGIN) / ratio / 4)
    description = (f"Plan sans fond de carte : la mairie {info.of_name} et les unités numérotées "
                   f"comme dans la liste ; nord en haut ; l'échelle représente {_distance_text(scale)}.")
    return Plan(PLAN_WIDTH, PLAN_HEIGHT, points, scale, round(scale * ratio, 1), _distance_text(scale), description)


def _distance_text(km: float) -> str:
    if km < 1:
        return f"{round(km * 1000)} m"
    return f"{km:g} km".replace(".", ",")
