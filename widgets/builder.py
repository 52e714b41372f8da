"""The builder page for mairies' webmasters (/mairies): pick the commune and a widget, see it, copy the snippet.

A GET form that works without JavaScript; with htmx, the preview and snippets (``_builder_result.html``)
follow each change. The reading of the form (``read_form``), the commune's resolution and the snippets are
plain functions; the view only renders them. The page also says whether the commune's mairie is
registered (``widgets.registry``) and how to ask for a registration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, current_app, request, url_for
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from catalogue import services as catalogue
from maps import services as maps
from maps.models import Commune
from maps.places import CODE_INSEE, POSTCODE, DepartmentQuery, MalformedPlace, PlaceError
from portal.extensions import db
from portal.htmx import render
from portal.security import limiter
from widgets import registry, services

bp = Blueprint("mairies", __name__)
# Finding a commune by name is the finder's work (maps): the same budget per visitor, shared with /commissariats.
finder_rate_limit = limiter.shared_limit(lambda: current_app.config["FINDER_RATE_LIMIT"], scope="finder")

# name → (label, what it shows, the iframe's title, its starting height in px), as the loader has them
# (static/js/widget_loader.js).
# What the builder says of each widget; its address, title and height are services.WIDGETS'.
WIDGETS = {
    "recherche": ("Recherche", "La recherche du portail : les démarches de police et de gendarmerie."),
    "situations": ("Situations", "Le menu « Que vous arrive-t-il ? » : vol, violences, arnaque…"),
    "unites": ("Unités proches", "Les commissariats et brigades les plus proches de la commune, avec leurs horaires."),
    "demarche": ("Démarches choisies", "Une à six démarches du portail, en fiches courtes."),
    "urgences": ("Urgences", "Les numéros d'urgence (17, 112, 114) et les unités proches."),
}
THEMES = {"clair": "Clair", "sombre": "Sombre"}
RESULTS = {"portail": "Les résultats s'ouvrent sur le portail, dans un nouvel onglet",
           "widget": "Les résultats s'affichent dans le widget"}
MAX_DEMARCHES = services.MAX_PROCEDURES
MAP_EXTRA_HEIGHT = 240
SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"
MAX_TEXT = 100


@dataclass(frozen=True)
class CommuneChoice:
    code_insee: str
    label: str  # "Le Mans (72)"
    detail: str = ""  # why it is proposed: "code postal 72100", "code INSEE 72100"
    name: str = ""  # "Le Mans"

    @property
    def of_name(self) -> str:
        return services.of_commune(self.name)


@dataclass
class BuilderForm:
    """What the webmaster chose, checked; ``errors`` maps a field to its French message."""

    text: str = ""
    commune: CommuneChoice | None = None
    choices: list[CommuneChoice] = field(default_factory=list)
    widget: str = "recherche"
    theme: str = "clair"
    compact: bool = False
    carte: bool = False
    demarches: list[str] = field(default_factory=list)
    resultats: str = "portail"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """A widget can be shown: a commune, and nothing to correct."""
        return self.commune is not None and not self.errors


def _choice(commune: Commune, detail: str = "") -> CommuneChoice:
    return CommuneChoice(commune.code_insee, f"{commune.name} ({commune.department_code})", detail, commune.name)


def find_commune(session: Session, text: str) -> tuple[CommuneChoice | None, list[CommuneChoice], str | None]:
    """(the commune, the communes to choose from, the French reason) for a name, a postcode or an INSEE code.

    Exactly one match is the commune; several (homonyms, a postcode shared by several communes, a code that
    is an INSEE code and another commune's postcode) are offered to choose from, never guessed.
    """
    text = " ".join((text or "").split())[:MAX_TEXT]
    if not text:
        return None, [], None
    found: dict[str, CommuneChoice] = {}
    code = text.upper()
    if CODE_INSEE.match(code) and (commune := session.get(Commune, code)) is not None:
        found[code] = _choice(commune, f"code INSEE {code}")
    gazetteer, _ = maps.finder(session)
    postcode = "0" + text if text.isascii() and text.isdigit() and len(text) == 4 else text
    if POSTCODE.match(postcode):
        for entry in gazetteer.by_postcode.get(postcode, []):
            if entry.code_insee not in found and (commune := session.get(Commune, entry.code_insee)):
                found[entry.code_insee] = _choice(commune, f"code postal {postcode}")
        if not found:
            return None, [], (f"« {text} » n'est ni un code postal ni un code INSEE connu : vérifiez-le, ou "
                              "indiquez le nom de la commune.")
    else:
        try:
            place = gazetteer.resolve(text)
        except DepartmentQuery:
            return None, [], f"« {text} » est un département : indiquez une commune."
        except PlaceError as error:
            return None, _suggested(session, gazetteer, error.suggestions), error.message
        except MalformedPlace:
            return None, [], "Indiquez le nom de la commune, son code postal ou son code INSEE."
        if place.code_insee is None:
            return None, [], "Indiquez le nom de la commune, son code postal ou son code INSEE (pas une position)."
        if (commune := session.get(Commune, place.code_insee)) is not None:
            found[commune.code_insee] = _choice(commune)
        for other in _suggested(session, gazetteer, place.alternatives):
            found.setdefault(other.code_insee, other)
    choices = list(found.values())
    if len(choices) == 1:
        return choices[0], [], None
    return None, choices, None


def _suggested(session: Session, gazetteer, suggestions) -> list[CommuneChoice]:
    """The communes the finder's suggestions name (a département suggested is left out)."""
    found = []
    for suggestion in suggestions:
        try:
            place = gazetteer.resolve(suggestion.query, fuzzy=False)
        except (PlaceError, MalformedPlace):
            continue
        if place.code_insee and (commune := session.get(Commune, place.code_insee)) is not None:
            found.append(_choice(commune))
    return found


def read_form(session: Session, args: MultiDict, procedures: dict[str, str]) -> BuilderForm:
    """The builder's query string, checked: unknown values become French messages, never a 500."""
    form = BuilderForm(text=" ".join(args.get("q", "").split())[:MAX_TEXT])
    chosen = args.get("commune", "").strip().upper()[:6]  # one more than a code: "72181x" is no code
    commune = session.get(Commune, chosen) if CODE_INSEE.match(chosen) else None
    if commune is not None and (not form.text or form.text == _choice(commune).label):
        form.commune, form.text = _choice(commune), _choice(commune).label  # a choice, not edited since
    elif form.text:
        form.commune, form.choices, reason = find_commune(session, form.text)
        if reason:
            form.errors["q"] = reason
        elif form.commune:
            form.text = form.commune.label
    elif chosen:
        form.errors["q"] = "Ce code INSEE ne correspond à aucune commune : indiquez le nom de la commune."
    widget = args.get("widget", "recherche")
    if widget in WIDGETS:
        form.widget = widget
    else:
        form.errors["widget"] = "Choisissez l'un des cinq widgets proposés."
    form.theme = args.get("theme") if args.get("theme") in THEMES else "clair"
    form.compact = args.get("compact") == "1"
    form.carte = args.get("carte") == "1"
    form.resultats = args.get("resultats") if args.get("resultats") in RESULTS else "portail"
    wanted = list(dict.fromkeys(slug.strip() for raw in args.getlist("demarches")[:50]
                                for slug in raw.split(",") if slug.strip()))
    form.demarches = [slug for slug in wanted if slug in procedures][:MAX_DEMARCHES]
    if form.widget == "demarche":
        if any(slug not in procedures for slug in wanted):
            form.errors["demarches"] = "Une des démarches demandées n'existe pas ou n'est plus publiée : choisissez " \
                                       "dans la liste."
        elif len(wanted) > MAX_DEMARCHES:
            form.errors["demarches"] = f"Choisissez {MAX_DEMARCHES} démarches au plus."
        elif not wanted:
            form.errors["demarches"] = f"Choisissez au moins une démarche ({MAX_DEMARCHES} au plus)."
    return form


def widget_params(form: BuilderForm) -> list[tuple[str, str]]:
    """The widget's query parameters (docs/widgets.md), only those its widget reads."""
    params = [("commune", form.commune.code_insee if form.commune else "")]
    if form.theme != "clair":
        params.append(("theme", form.theme))
    if form.compact:
        params.append(("compact", "1"))
    if form.widget == "unites" and form.carte:
        params.append(("carte", "1"))
    if form.widget == "demarche":
        params.append(("demarches", ",".join(form.demarches)))
    if form.widget == "recherche":
        params.append(("resultats", form.resultats))
    return params


def widget_path(form: BuilderForm) -> str:
    return f"/widgets/{form.widget}?{urlencode(widget_params(form), safe=',')}"


def height(form: BuilderForm) -> int:
    base = services.WIDGETS[form.widget].height
    return base + (MAP_EXTRA_HEIGHT if form.widget == "unites" and form.carte else 0)


def _attribute(value: str) -> str:
    """A value for a double-quoted HTML attribute of the snippet (the snippet is text the mairie pastes)."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def loader_snippet(form: BuilderForm, public_url: str) -> str:
    """The loader form: one script for the page, one ``<div>`` per widget (data-* = the widget's parameters)."""
    params = [(name, value) for name, value in widget_params(form) if name != "theme"]
    params.insert(1, ("theme", form.theme))  # always said, so that the webmaster sees the choice in the code
    attributes = [("data-portail-widget", form.widget)] + [(f"data-{name}", value) for name, value in params]
    div = " ".join(f'{name}="{_attribute(value)}"' for name, value in attributes)
    return (f'<script src="{_attribute(public_url)}/widgets/loader.js" defer></script>\n'
            f"<div {div}></div>")


def iframe_snippet(form: BuilderForm, public_url: str) -> str:
    """The plain iframe: what the loader would write, with a fixed height (no resizing without the loader)."""
    return (f'<iframe src="{_attribute(public_url + widget_path(form))}"\n'
            f'        title="{_attribute(services.WIDGETS[form.widget].title)} (Portail citoyen)"\n'
            f'        width="100%" height="{height(form)}" loading="lazy"\n'
            f'        sandbox="{SANDBOX}"\n'
            f'        referrerpolicy="strict-origin"></iframe>')


def contact() -> tuple[str, str | None]:
    """(MAIRIES_CONTACT as written, its link: mailto: for an address, itself for https://; None if neither)."""
    value = (current_app.config.get("MAIRIES_CONTACT") or "").strip()
    if value.startswith("https://"):
        return value, value
    if value.startswith("mailto:"):
        return value.removeprefix("mailto:"), value
    if "@" in value and " " not in value:
        return value, f"mailto:{value}"
    return value, None


def choice_url(form: BuilderForm, code_insee: str) -> str:
    """The builder for another commune, the widget and options kept (the links of the communes to choose)."""
    return url_for("mairies.builder", commune=code_insee, widget=form.widget, theme=form.theme,
                   compact="1" if form.compact else None, carte="1" if form.carte else None,
                   resultats=form.resultats, demarches=form.demarches or None)


@bp.get("/mairies")
@finder_rate_limit
def builder():
    procedures = {p.slug: p.title for p in catalogue.own_procedures(db.session)}
    form = read_form(db.session, request.args, procedures)
    origins = registry.current(db.session).origins_for(form.commune.code_insee) if form.commune else ()
    public_url = current_app.config["PUBLIC_URL"]
    contact_text, contact_link = contact()
    return render("widgets/builder.html", "widgets/_builder_result.html", form=form, widgets=WIDGETS,
                  themes=THEMES, results=RESULTS, procedures=procedures, max_demarches=MAX_DEMARCHES,
                  origins=origins, preview=widget_path(form) if form.ready else None,
                  preview_height=height(form),
                  loader=loader_snippet(form, public_url) if form.ready else None,
                  iframe=iframe_snippet(form, public_url) if form.ready else None,
                  public_url=public_url, contact_text=contact_text, contact_link=contact_link,
                  sandbox=SANDBOX, choice_url=choice_url)
