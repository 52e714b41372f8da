"""What editors can change, one adapter per entity type: its form's fields, its live content, its rules.

The workflow (``editorial.workflow``) knows revisions only; this module knows
how a revision's ``data`` (a plain dict with the form's keys) is read from the
live row, validated, written back to it on publication and shown in a
preview. Procedures and life events are the catalogue's; search rules are
the search's (``search.tuning`` reads, validates and writes them).

Data values are JSON: strings, booleans, integers, lists of strings and lists
of small dicts (contacts, links, sources). Empty text is "", never None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from catalogue.loader import CONTENT_DIR, FICHE_ID_RE, SLUG_RE, content_hash
from catalogue.markdown import allowed_url
from catalogue.models import (
    CHANNELS,
    Institution,
    LifeEvent,
    LifeEventProcedure,
    Procedure,
    RelatedProcedure,
)
from editorial.models import Revision
from portal import outbox
from portal.redirects import local_path
from search.models import RULE_KINDS, SearchRule

FIELD_KINDS = ("text", "markdown", "list", "bool", "choice", "slugs", "contacts", "links", "sources", "channels")
MARKDOWN_HELP = ("Texte simple. Une ligne vide sépare deux paragraphes ; « - » en début de ligne pour une liste, "
                 "« 1. » pour des étapes, « ## » pour un intertitre, **gras**, *italique*, "
                 "[texte du lien](https://…).")
MAX_TEXT = 20_000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .]{0,24}$")
ICON_RE = re.compile(r"^fr-icon-[a-z0-9-]+$")
# A Markdown link's address, to name the links the renderer would refuse (shown as text) before they are published.
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]*)")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str  # one of FIELD_KINDS
    help: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, French label)
    new_only: bool = False  # set when the entity is created, read-only after (a page's address)


@dataclass(frozen=True)
class EntityKind:
    name: str
    label: str
    fields: tuple[FieldSpec, ...]
    # Part of the data and of the diff, set by another form than the edit form (a retirement).
    extra_fields: tuple[FieldSpec, ...] = ()

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        return self.fields + self.extra_fields

    def field(self, name: str) -> FieldSpec:
        for spec in self.all_fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


@cache
def _institution_choices() -> tuple[tuple[str, str], ...]:
    # Institutions come from the content files only (editors choose, never create them).
    import yaml

    with (CONTENT_DIR / "institutions.yaml").open(encoding="utf-8") as handle:
        rows = yaml.safe_load(handle) or []
    return (("", "Aucune"),) + tuple((row["slug"], row["name"]) for row in rows)


def _retire_fields(replacement: bool) -> tuple[FieldSpec, ...]:
    fields = [FieldSpec("retired", "Retiré", "bool", "Publier cette version retire la page : son adresse le dit.")]
    if replacement:
        fields.append(FieldSpec("replacement", "Remplacée par", "text",
                                "La démarche qui remplace celle-ci : l'adresse y redirige une fois la page "
                                "retirée ; tant que la page reste publiée, la recherche montre d'abord le "
                                "remplaçant."))
    fields.append(FieldSpec("retired_note", "Message à la place de la page", "text",
                            "Ce que lit le citoyen qui arrive sur l'ancienne adresse, "
                            "quand il n'y a pas de remplaçant."))
    return tuple(fields)


def _procedure_kind() -> EntityKind:
    section = "Section de la page. " + MARKDOWN_HELP
    return EntityKind("procedure", "Démarche", (
        FieldSpec("slug", "Adresse de la page", "text",
                  "Lettres minuscules, chiffres et tirets : la page sera /demarches/<adresse>. "
                  "Elle ne change plus ensuite.", required=True, new_only=True),
        FieldSpec("title", "Titre", "text", "Le titre de la page et des résultats de recherche.", required=True),
        FieldSpec("summary", "Résumé", "text", "Une ou deux phrases, sous le titre et dans les résultats.",
                  required=True),
        FieldSpec("alert", "Alerte", "text", "Un message important en tête de page (texte simple), ou rien."),
        FieldSpec("contacts", "Numéros à appeler", "contacts",
                  "Un numéro par ligne : numéro | libellé | précision (facultative)."),
        FieldSpec("for_whom", "Pour qui ?", "markdown", section),
        FieldSpec("conditions", "Dans quels cas ?", "markdown", section),
        FieldSpec("steps", "Comment faire ?", "markdown", section),
        FieldSpec("documents", "Ce qu'il faut préparer", "markdown", section),
        FieldSpec("delays_cost", "Délais et coût", "markdown", section),
        FieldSpec("channels", "Canaux", "channels", "Comment la démarche peut être faite.",
                  choices=tuple(CHANNELS.items())),
        FieldSpec("franceconnect", "Identification FranceConnect", "bool",
                  "La démarche demande de s'identifier : un bouton « Commencer la démarche » est affiché."),
        FieldSpec("service_path", "Service du portail", "text",
                  "Une page du portail qui rend ce service, par exemple /commissariats."),
        FieldSpec("service_label", "Libellé du bouton du service", "text", "Par défaut : « Accéder au service »."),
        FieldSpec("external_url", "Service en ligne (adresse)", "text", "Une adresse https:// uniquement."),
        FieldSpec("external_label", "Libellé du bouton du service en ligne", "text",
                  "Par défaut : « Accéder au service »."),
        FieldSpec("institution", "Institution", "choice", "Qui rend ce service.", choices=_institution_choices()),
        FieldSpec("links", "Liens utiles", "links", "Un lien par ligne : titre | https://…"),
        FieldSpec("sources", "Sources", "sources",
                  "Une source par ligne : le numéro d'une fiche Service-Public.fr (F1435) ou titre | https://…"),
        FieldSpec("related", "Voir aussi", "slugs",
                  "Une entrée par ligne : l'adresse d'une démarche (cambriolage) ou le numéro d'une fiche (F1435)."),
        FieldSpec("life_events", "Situations", "slugs",
                  "Les situations qui proposent cette démarche, une adresse par ligne (vol-cambriolage)."),
        FieldSpec("keywords", "Mots-clés de recherche", "list",
                  "Un mot ou une expression par ligne : les mots des citoyens qui ne sont pas dans le texte."),
        FieldSpec("sensitive", "Page sensible (violences)", "bool",
                  "Bouton « Quitter rapidement ce site », aucune adresse transmise aux sites liés."),
        FieldSpec("verified_on", "Contenu vérifié le", "text", "Date de la dernière vérification : AAAA-MM-JJ."),
    ), _retire_fields(replacement=True))


def _life_event_kind() -> EntityKind:
    return EntityKind("life_event", "Situation", (
        FieldSpec("slug", "Adresse de la page", "text",
                  "Lettres minuscules, chiffres et tirets : la page sera /situations/<adresse>. "
                  "Elle ne change plus ensuite.", required=True, new_only=True),
        FieldSpec("title", "Titre", "text", "Comme le citoyen le dirait : « J'ai été victime d'un vol ».",
                  required=True),
        FieldSpec("summary", "Résumé", "text", "Des exemples, en une phrase."),
        FieldSpec("icon", "Icône", "text", "Le nom d'une icône du DSFR, par exemple fr-icon-home-4-line."),
        FieldSpec("position", "Position dans le menu", "text", "0 pour la première, puis 1, 2…"),
        FieldSpec("sensitive", "Situation sensible (violences)", "bool",
                  "Bouton « Quitter rapidement ce site » et numéros d'urgence en tête de page."),
        FieldSpec("procedures", "Démarches proposées", "slugs",
                  "Une entrée par ligne, de la plus probable à la moins probable : l'adresse d'une démarche "
                  "(plainte-en-ligne) ou le numéro d'une fiche (F1435)."),
    ), _retire_fields(replacement=False)[:1])


def _search_rule_kind() -> EntityKind:
    return EntityKind("search_rule", "Règle de recherche", (
        FieldSpec("kind", "Type de règle", "choice",
                  "Synonymes : ces mots veulent dire la même chose. Meilleure réponse : cette recherche montre "
                  "d'abord ces entrées. Résultat à repousser : cette recherche montre ces entrées en dernier.",
                  required=True, choices=tuple(RULE_KINDS.items())),
        FieldSpec("terms", "Mots ou recherches", "list",
                  "Un par ligne. Synonymes : chaque mot ou expression du groupe. Meilleure réponse ou résultat "
                  "à repousser : les recherches concernées.", required=True),
        FieldSpec("slugs", "Entrées", "slugs",
                  "Meilleure réponse ou résultat à repousser : une entrée par ligne, démarche (plainte-en-ligne) "
                  "ou fiche (F1435). Laisser vide pour des synonymes."),
        FieldSpec("note", "Note interne", "text", "Pourquoi cette règle (vue des rédacteurs seulement)."),
    ), _retire_fields(replacement=False)[:1])


_KINDS = {"procedure": _procedure_kind, "life_event": _life_event_kind, "search_rule": _search_rule_kind}


@cache
def kind(name: str) -> EntityKind:
    """The adapter's description of an entity type; KeyError for an unknown one (a 404 in the views)."""
    return _KINDS[name]()


# --- data: defaults and normalisation -----------------------------------------------------------------

def _default(spec: FieldSpec):
    if spec.kind == "bool":
        return False
    if spec.kind in ("list", "slugs", "contacts", "links", "sources", "channels"):
        return []
    return ""


def blank_data(name: str) -> dict:
    """The data of a new entity before anything is typed."""
    data = {spec.name: _default(spec) for spec in kind(name).all_fields}
    if name == "life_event":
        data["position"] = 0
    return data


def normalise(name: str, data: dict | None) -> dict:
    """Every key of the entity type, with its default where missing; unknown keys dropped."""
    blank = blank_data(name)
    return {key: (data or {}).get(key, default) for key, default in blank.items()}


# --- live content ---------------------------------------------------------------------------------------

def _procedure(session: Session, key: str) -> Procedure | None:
    return session.scalars(
        select(Procedure).where(Procedure.slug == key, Procedure.kind == "procedure").options(
            selectinload(Procedure.institution),
            selectinload(Procedure.related_links).selectinload(RelatedProcedure.related),
            selectinload(Procedure.life_event_links).selectinload(LifeEventProcedure.life_event),
        )
    ).first()


def _life_event(session: Session, key: str) -> LifeEvent | None:
    return session.scalars(
        select(LifeEvent).where(LifeEvent.slug == key)
        .options(selectinload(LifeEvent.procedure_links).selectinload(LifeEventProcedure.procedure))
    ).first()


def _rule(session: Session, key: str) -> SearchRule | None:
    return session.scalars(select(SearchRule).where(SearchRule.key == key)).first()


def _procedure_data(row: Procedure) -> dict:
    retired = row.status == "retired"
    return normalise("procedure", {
        "slug": row.slug,
        "title": row.title,
        "summary": row.summary or "",
        "alert": row.alert or "",
        "for_whom": row.for_whom or "",
        "conditions": row.conditions or "",
        "steps": row.steps or "",
        "documents": row.documents or "",
        "delays_cost": row.delays_cost or "",
        "institution": row.institution.slug if row.institution else "",
        "channels": list(row.channels or []),
        "franceconnect": bool(row.requires_franceconnect),
        "service_path": row.service_path or "",
        "service_label": row.service_label or "",
        "external_url": row.external_url or "",
        "external_label": row.external_label or "",
        "keywords": list(row.keywords or []),
        "contacts": [{"number": c.get("number", ""), "label": c.get("label", ""), "detail": c.get("detail", "")}
                     for c in row.contacts or []],
        "links": [{"title": link.get("title", ""), "url": link.get("url", "")} for link in row.links or []],
        "sources": [{"fiche": s["fiche"]} if s.get("fiche") else {"title": s.get("title", ""), "url": s.get("url", "")}
                    for s in row.sources or []],
        "related": [link.related.slug for link in row.related_links],
        "life_events": [event.slug for event in sorted((link.life_event for link in row.life_event_links),
                                                       key=lambda e: (e.position, e.slug))],
        "sensitive": bool(row.sensitive),
        "verified_on": row.verified_on.isoformat() if row.verified_on else "",
        "retired": retired,
        # Also on a published procedure: one that another replaces comes after it in the search (pré-plainte).
        "replacement": row.superseded_by or "",
        "retired_note": (row.retired_note or "") if retired else "",
    })


def _life_event_data(row: LifeEvent) -> dict:
    return normalise("life_event", {
        "slug": row.slug,
        "title": row.title,
        "summary": row.summary or "",
        "icon": row.icon or "",
        "position": row.position,
        "sensitive": bool(row.sensitive),
        "procedures": [link.procedure.slug for link in row.procedure_links],
        "retired": row.status == "retired",
    })


def live_data(session: Session, name: str, key: str | None) -> dict | None:
    """The content citizens see now, as edit data; None when it does not exist (a new entity)."""
    kind(name)
    if not key:
        return None
    if name == "procedure":
        row = _procedure(session, key)
        return _procedure_data(row) if row else None
    if name == "life_event":
        row = _life_event(session, key)
        return _life_event_data(row) if row else None
    rule = _rule(session, key)
    if rule is None:
        return None
    from search import tuning

    return normalise("search_rule", {**tuning.rule_data(rule), "retired": rule.status == "retired"})


# The list of procedure ↔ life event links each side edits (the same rows, LifeEventProcedure).
LINK_FIELDS = {"procedure": "life_events", "life_event": "procedures"}


@dataclass(frozen=True)
class LinkChange:
    """How a link list moved between two versions of an entity's data."""

    label: str             # the field's French label
    added: list[str]
    removed: list[str]
    reordered: bool        # a life event's entries, same ones in another order


def link_change(name: str, before: dict | None, after: dict | None) -> LinkChange | None:
    """What differs in the entity's list of procedure ↔ life event links from ``before`` to ``after``.

    A procedure's life events are shown in the life events' own order, so only a life event's list has an
    order of its own. None when the lists agree (or the entity type has none).
    """
    field = LINK_FIELDS.get(name)
    if field is None or before is None or after is None:
        return None
    old, new = _links(before, field), _links(after, field)
    added = [s for s in new if s not in old]
    removed = [s for s in old if s not in new]
    reordered = name == "life_event" and not added and not removed and old != new
    if not added and not removed and not reordered:
        return None
    return LinkChange(kind(name).field(field).label, added, removed, reordered)


def exists(session: Session, name: str, key: str) -> bool:
    """Whether the key is taken by a live row (any status)."""
    if name == "procedure":
        # Fiches included: an address is never shared.
        return session.scalar(select(Procedure.id).where(Procedure.slug == key)) is not None
    if name == "life_event":
        return session.scalar(select(LifeEvent.id).where(LifeEvent.slug == key)) is not None
    return session.scalar(select(SearchRule.id).where(SearchRule.key == key)) is not None


# --- validation -----------------------------------------------------------------------------------------

def _published_entries(session: Session, slugs: list[str]) -> dict[str, Procedure]:
    if not slugs:
        return {}
    rows = session.scalars(select(Procedure).where(Procedure.slug.in_(set(slugs)), Procedure.status == "published"))
    return {row.slug: row for row in rows}


def _check_slugs(session: Session, errors: dict, field: str, slugs, already: list[str], own: str | None,
                 what: str = "démarche ou fiche") -> None:
    """Each slug names a published entry (those the live content already lists are kept as they are)."""
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        errors[field] = "Une adresse par ligne."
        return
    new = [s for s in slugs if s not in already]
    found = _published_entries(session, new)
    unknown = [s for s in new if s not in found]
    if own and own in slugs:
        errors[field] = "Une page ne peut pas renvoyer vers elle-même."
    elif unknown:
        errors[field] = f"Aucune {what} publiée à ces adresses : {', '.join(unknown[:10])}."
    elif len(set(slugs)) != len(slugs):
        errors[field] = "Une même entrée est indiquée deux fois."


def _column_limit(model, name: str) -> int | None:
    """The length of the live row's column for this field (String(200)…): PostgreSQL refuses more."""
    column = model.__table__.columns.get(name)
    return getattr(column.type, "length", None) if column is not None else None


def _check_text(errors: dict, spec: FieldSpec, value, limit: int | None = None) -> None:
    if not isinstance(value, str):
        errors[spec.name] = "Texte attendu."
        return
    limit = limit or (2000 if spec.kind == "text" else MAX_TEXT)
    if spec.required and not value.strip():
        errors[spec.name] = f"Indiquez : {spec.label.lower()}."
    elif len(value) > limit:
        errors[spec.name] = f"Ce texte est trop long : {limit} caractères au plus."
    elif spec.kind == "text" and "\n" in value.strip():
        errors[spec.name] = "Une seule ligne."
    elif spec.kind == "markdown":
        refused = [url for url in MARKDOWN_LINK.findall(value) if not allowed_url(url)]
        if refused:
            errors[spec.name] = (f"Lien refusé : {refused[0][:80]}. Seules les adresses https://, mailto:, tel: "
                                 "et les pages du portail (/…) sont acceptées.")


def _check_new_key(session: Session, errors: dict, name: str, slug) -> None:
    if not isinstance(slug, str) or not slug.strip():
        errors["slug"] = "Indiquez l'adresse de la page."
    elif len(slug) > 80 or not SLUG_RE.match(slug):
        errors["slug"] = "Lettres minuscules sans accent, chiffres et tirets seulement (par exemple vol-de-velo)."
    elif exists(session, name, slug) or session.scalar(
            select(Revision.id).where(Revision.open_key == f"{name}:{slug}")):
        errors["slug"] = "Cette adresse est déjà utilisée."


def _validate_procedure(session: Session, key: str | None, data: dict) -> dict[str, str]:
    spec = kind("procedure")
    errors: dict[str, str] = {}
    live = (live_data(session, "procedure", key) if key else None) or blank_data("procedure")
    if key is None:
        _check_new_key(session, errors, "procedure", data.get("slug"))
    own = key or data.get("slug")
    for field in spec.fields:
        if field.kind in ("text", "markdown") and field.name != "slug":
            _check_text(errors, field, data.get(field.name, ""), _column_limit(Procedure, field.name))
    if data.get("institution") and not session.scalar(
            select(Institution.id).where(Institution.slug == data["institution"])):
        errors["institution"] = "Institution inconnue."
    channels = data.get("channels", [])
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
        errors["channels"] = "Canal inconnu."
    if data.get("service_path") and "service_path" not in errors and local_path(data["service_path"]) is None:
        errors["service_path"] = "Un chemin du portail, qui commence par « / » (par exemple /commissariats)."
    if data.get("external_url") and "external_url" not in errors and not _https(data["external_url"]):
        errors["external_url"] = "Une adresse qui commence par https:// (les liens non chiffrés sont refusés)."
    for index, contact in enumerate(data.get("contacts") or [], 1):
        if not isinstance(contact, dict) or not PHONE_RE.match(str(contact.get("number", "")).strip()):
            errors["contacts"] = f"Ligne {index} : un numéro de téléphone d'abord (chiffres et espaces), puis « | »."
            break
        if not str(contact.get("label", "")).strip():
            errors["contacts"] = f"Ligne {index} : indiquez un libellé après le numéro (numéro | libellé)."
            break
    for index, link in enumerate(data.get("links") or [], 1):
        if not isinstance(link, dict) or not str(link.get("title", "")).strip():
            errors["links"] = f"Ligne {index} : titre | https://…"
            break
        if not _https(str(link.get("url", ""))):
            errors["links"] = f"Ligne {index} : l'adresse doit commencer par https://."
            break
    for index, source in enumerate(data.get("sources") or [], 1):
        if isinstance(source, dict) and source.get("fiche"):
            if not FICHE_ID_RE.match(str(source["fiche"])):
                errors["sources"] = f"Ligne {index} : un numéro de fiche comme F1435."
                break
        elif not isinstance(source, dict) or not str(source.get("title", "")).strip() \
                or not _https(str(source.get("url", ""))):
            errors["sources"] = f"Ligne {index} : un numéro de fiche (F1435) ou titre | https://…"
            break
    _check_slugs(session, errors, "related", data.get("related", []), live["related"], own)
    events = data.get("life_events", [])
    if isinstance(events, list):
        new = [s for s in events if s not in live["life_events"]]
        known = set(session.scalars(select(LifeEvent.slug).where(LifeEvent.slug.in_(new),
                                                                 LifeEvent.status == "published"))) if new else set()
        if unknown := [s for s in new if s not in known]:
            errors["life_events"] = f"Aucune situation à ces adresses : {', '.join(map(str, unknown[:10]))}."
    else:
        errors["life_events"] = "Une adresse par ligne."
    keywords = data.get("keywords", [])
    if not isinstance(keywords, list) or any(not isinstance(k, str) or len(k) > 100 for k in keywords):
        errors["keywords"] = "Un mot-clé par ligne, 100 caractères au plus."
    if data.get("verified_on"):
        try:
            date.fromisoformat(str(data["verified_on"]))
        except ValueError:
            errors["verified_on"] = "Une date au format AAAA-MM-JJ, par exemple 2026-11-23."
    replacement = data.get("replacement") or ""
    if replacement == own:
        errors["replacement"] = "Une démarche ne peut pas se remplacer elle-même."
    elif replacement and (replacement != live["replacement"] or data.get("retired")) \
            and not _published_entries(session, [replacement]):
        # The address will redirect there: it must lead somewhere.
        errors["replacement"] = "Aucune démarche ou fiche publiée à cette adresse."
    if data.get("retired"):
        if not replacement and not str(data.get("retired_note") or "").strip():
            errors["retired_note"] = "Sans remplaçant, dites aux citoyens où aller à la place."
        if len(str(data.get("retired_note") or "")) > 2000:
            errors["retired_note"] = "Ce texte est trop long."
    return errors


def _https(url: str) -> bool:
    return url.startswith("https://") and allowed_url(url) and not any(c.isspace() for c in url)


def _validate_life_event(session: Session, key: str | None, data: dict) -> dict[str, str]:
    spec = kind("life_event")
    errors: dict[str, str] = {}
    live = (live_data(session, "life_event", key) if key else None) or blank_data("life_event")
    if key is None:
        _check_new_key(session, errors, "life_event", data.get("slug"))
    for field in spec.fields:
        if field.kind == "text" and field.name not in ("slug", "position"):
            _check_text(errors, field, data.get(field.name, ""), _column_limit(LifeEvent, field.name))
    if data.get("icon") and "icon" not in errors and not ICON_RE.match(str(data["icon"])):
        errors["icon"] = "Le nom d'une icône du DSFR, qui commence par fr-icon- (par exemple fr-icon-home-4-line)."
    position = data.get("position", 0)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 999:
        errors["position"] = "Un nombre entier, 0 pour la première position."
    _check_slugs(session, errors, "procedures", data.get("procedures", []), live["procedures"], None)
    return errors


def validate(session: Session, name: str, key: str | None, data: dict) -> dict[str, str]:
    """Field name → French error; {} when the data can be published. ``key`` None: a new entity."""
    kind(name)
    if name == "procedure":
        return _validate_procedure(session, key, data)
    if name == "life_event":
        return _validate_life_event(session, key, data)
    if data.get("retired"):
        return {}
    from search import tuning

    return tuning.validate_rule(session, _rule_fields(data), key=key)


def _rule_fields(data: dict) -> dict:
    return {field.name: data.get(field.name, _default(field)) for field in kind("search_rule").fields}


# --- publication ----------------------------------------------------------------------------------------

def _parse_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _links(data: dict, field: str) -> list[str]:
    value = (data or {}).get(field) or []
    return [str(s) for s in value] if isinstance(value, list) else []


def merged_links(current: list[str], before: list[str] | None, wanted: list[str], ordered: bool) -> list[str]:
    """The link list once a revision is published: ``wanted`` is its list, ``before`` the list it started from
    (None: the revision's list replaces everything), ``current`` the live one.

    Only what the revision added or removed since ``before`` changes: an entry the other side added meanwhile
    stays (at the end), one it removed meanwhile stays gone. ``ordered`` (a life event's entries): the
    revision's order for what it lists; else the live entries first, then those the revision adds.
    """
    before = current if before is None else before
    removed = set(before) - set(wanted)
    added = [s for s in wanted if s not in current and s not in before]
    if ordered:
        return ([s for s in wanted if s in current or s in added]
                + [s for s in current if s not in wanted and s not in removed])
    return [s for s in current if s not in removed] + added


def _apply_procedure(session: Session, key: str, data: dict, now: datetime, base: dict | None) -> None:
    row = _procedure(session, key)
    if row is None:
        row = Procedure(slug=key, kind="procedure")
        session.add(row)
    retired = bool(data.get("retired"))
    row.status = "retired" if retired else "published"
    row.superseded_by = data.get("replacement") or None
    row.retired_note = (data.get("retired_note") or None) if retired else None
    row.title = data["title"].strip()
    row.summary = " ".join(data["summary"].split())
    for field in ("for_whom", "conditions", "steps", "documents", "delays_cost"):
        setattr(row, field, data.get(field, "").strip() or None)
    row.alert = " ".join(data.get("alert", "").split()) or None
    row.body = None
    row.institution = session.scalar(select(Institution).where(Institution.slug == data.get("institution"))) \
        if data.get("institution") else None
    row.channels = list(data.get("channels", []))
    row.requires_franceconnect = bool(data.get("franceconnect"))
    for field in ("service_path", "service_label", "external_url", "external_label"):
        setattr(row, field, data.get(field, "").strip() or None)
    row.keywords = [k.strip() for k in data.get("keywords", []) if k.strip()]
    row.contacts = [{k: str(v).strip() for k, v in c.items() if str(v).strip()} for c in data.get("contacts", [])]
    row.links = [{"title": link["title"].strip(), "url": link["url"].strip()} for link in data.get("links", [])]
    row.sources = [{"fiche": s["fiche"]} if s.get("fiche") else {"title": s["title"].strip(), "url": s["url"].strip()}
                   for s in data.get("sources", [])]
    row.sensitive = bool(data.get("sensitive"))
    row.verified_on = _parse_date(data.get("verified_on"))
    row.content_hash = content_hash(data)
    row.updated_at = now

    # "Voir aussi": keep the link rows that stay (same primary key), add the new ones, in the data's order.
    targets = {p.slug: p for p in session.scalars(select(Procedure).where(Procedure.slug.in_(data["related"])))} \
        if data.get("related") else {}
    current = {link.related.slug: link for link in row.related_links}
    links = []
    for position, slug in enumerate(s for s in data.get("related", []) if s in targets):
        link = current.get(slug) or RelatedProcedure(related=targets[slug])
        link.position = position
        links.append(link)
    row.related_links = links

    # Situations: the procedure joins the end of a life event's list when the revision added it, and leaves
    # those the revision removed. A link the life event's own page added or removed meanwhile is its business.
    linked = {link.life_event.slug: link for link in row.life_event_links}
    result = merged_links(list(linked), None if base is None else _links(base, "life_events"),
                          list(data.get("life_events", [])), ordered=False)
    kept = [linked[s] for s in result if s in linked]
    added = [s for s in result if s not in linked]
    if added:
        for event in session.scalars(select(LifeEvent).where(LifeEvent.slug.in_(added))
                                     .options(selectinload(LifeEvent.procedure_links))):
            position = max((link.position for link in event.procedure_links), default=-1) + 1
            kept.append(LifeEventProcedure(life_event=event, position=position))
    row.life_event_links = kept
    outbox.emit(session, outbox.ENTRY, key)


def _apply_life_event(session: Session, key: str, data: dict, now: datetime, base: dict | None) -> None:
    row = _life_event(session, key)
    if row is None:
        row = LifeEvent(slug=key)
        session.add(row)
    row.status = "retired" if data.get("retired") else "published"
    row.title = data["title"].strip()
    row.summary = " ".join(data.get("summary", "").split())
    row.icon = data.get("icon") or None
    row.position = int(data.get("position") or 0)
    row.sensitive = bool(data.get("sensitive"))
    row.content_hash = content_hash(data)
    # The entries the revision lists come in its order; those a procedure's page added meanwhile follow
    # (it did not remove them), and one the revision did not touch but that went meanwhile stays gone.
    current = {link.procedure.slug: link for link in row.procedure_links}
    order = merged_links(list(current), None if base is None else _links(base, "procedures"),
                         list(data.get("procedures", [])), ordered=True)
    new = [s for s in order if s not in current]
    targets = {p.slug: p for p in session.scalars(select(Procedure).where(Procedure.slug.in_(new)))} \
        if new else {}
    links = []
    for position, slug in enumerate(s for s in order if s in current or s in targets):
        link = current.get(slug) or LifeEventProcedure(procedure=targets[slug])
        link.position = position
        links.append(link)
    row.procedure_links = links
    # No outbox event: the search index holds procedures and fiches, not life events (read from the database).


def apply(session: Session, name: str, key: str, data: dict, base: dict | None = None) -> None:
    """Write the data to the live row(s) and announce the change in the outbox; never commits.

    Procedure ↔ life event links are written from both sides (a procedure's ``life_events``, a life
    event's ``procedures``). With ``base`` (the data the revision started from, {} for a new entity), only
    what the revision added to or removed from its list since ``base`` is applied to those links: a link the
    other side changed meanwhile is kept as it is. Without it, the data's list replaces the links.
    """
    kind(name)
    data = normalise(name, data)
    now = datetime.now(UTC)
    if name == "procedure":
        with session.no_autoflush:  # a new row is complete before it is inserted
            _apply_procedure(session, key, data, now, base)
    elif name == "life_event":
        with session.no_autoflush:
            _apply_life_event(session, key, data, now, base)
    else:
        from search import tuning

        tuning.apply_rule(session, key, None if data.get("retired") else _rule_fields(data))
    session.flush()


def title_of(name: str, key: str | None, data: dict | None) -> str:
    """What to call the entity in lists and messages."""
    data = data or {}
    if name == "search_rule":
        label = RULE_KINDS.get(data.get("kind", ""), "Règle")
        terms = ", ".join(str(t) for t in data.get("terms", []) if t)
        return f"{label} : {terms[:80]}" if terms else (key or label)
    return str(data.get("title") or key or kind(name).label)


# --- preview ----------------------------------------------------------------------------------------------

def preview_object(session: Session, name: str, key: str | None, data: dict, base: dict | None = None):
    """A transient Procedure or LifeEvent as the data would publish it, for the public template.

    With ``base`` (what the revision started from), the procedure ↔ life event links are those publishing it
    would leave (``merged_links``: changes the other side made meanwhile kept).

    Never added to the session: its relationships are set without events (``set_committed_value``), so
    no cascade from a persistent object (an institution, a life event) can bring it into a flush.
    """
    data = normalise(name, data)
    slug = key or str(data.get("slug") or "apercu")
    if name == "procedure":
        entry = Procedure(
            slug=slug, kind="procedure", status="published", title=data["title"], summary=data["summary"],
            alert=" ".join(data["alert"].split()) or None,
            for_whom=data["for_whom"] or None, conditions=data["conditions"] or None, steps=data["steps"] or None,
            documents=data["documents"] or None, delays_cost=data["delays_cost"] or None,
            channels=list(data["channels"]), requires_franceconnect=bool(data["franceconnect"]),
            service_path=data["service_path"] or None, service_label=data["service_label"] or None,
            external_url=data["external_url"] or None, external_label=data["external_label"] or None,
            keywords=list(data["keywords"]), contacts=list(data["contacts"]), links=list(data["links"]),
            sources=list(data["sources"]), sensitive=bool(data["sensitive"]),
            verified_on=_parse_date(data["verified_on"]), updated_at=datetime.now(UTC),
            breadcrumb=[], notices=[],
        )
        institution = session.scalar(select(Institution).where(Institution.slug == data["institution"])) \
            if data["institution"] else None
        set_committed_value(entry, "institution", institution)
        related = _published_entries(session, data["related"])
        links = []
        for position, slug_ in enumerate(s for s in data["related"] if s in related):
            link = RelatedProcedure()
            link.position = position
            set_committed_value(link, "related", related[slug_])
            links.append(link)
        set_committed_value(entry, "related_links", links)
        wanted = data["life_events"]
        if base is not None and key:
            live = live_data(session, "procedure", key)
            wanted = merged_links(live["life_events"] if live else [], _links(base, "life_events"), wanted,
                                  ordered=False)
        events = list(session.scalars(select(LifeEvent).where(LifeEvent.slug.in_(wanted)))) if wanted else []
        event_links = []
        for event in events:
            link = LifeEventProcedure()
            set_committed_value(link, "life_event", event)
            event_links.append(link)
        set_committed_value(entry, "life_event_links", event_links)
        return entry
    if name == "life_event":
        event = LifeEvent(slug=slug, title=data["title"], summary=data["summary"], icon=data["icon"] or None,
                          position=data["position"] if isinstance(data["position"], int) else 0,
                          sensitive=bool(data["sensitive"]), status="published")
        wanted = data["procedures"]
        if base is not None and key:
            live = live_data(session, "life_event", key)
            wanted = merged_links(live["procedures"] if live else [], _links(base, "procedures"), wanted,
                                  ordered=True)
        entries = _published_entries(session, wanted)
        links = []
        for position, slug_ in enumerate(s for s in wanted if s in entries):
            link = LifeEventProcedure()
            link.position = position
            set_committed_value(link, "procedure", entries[slug_])
            links.append(link)
        set_committed_value(event, "procedure_links", links)
        return event
    raise KeyError(name)  # a search rule's preview is the search's (search.services.preview)
