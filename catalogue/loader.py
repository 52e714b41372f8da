"""Load the catalogue into the database: the portal's content files and the service-public.fr fiches.

The content files (``catalogue/content/``) are the **initial content**: an
institution, procedure or life event is created from them only when the
database does not have it, and never updated nor unpublished afterwards,
since editors change the catalogue in the back office (``editorial``) and a
restart must never undo their work.

The fiches are DILA's: each import brings them up to date with the feed
(each carries a hash of its content, an unchanged one is left alone),
unpublishes those gone from it (not deleted, so links and records pointing
at them stay valid), and never shows again a fiche editors hid.

Every entry created or changed is announced in the outbox (``portal.outbox``),
in the same transaction, for the search indexers. Neither loader commits:
the caller (a CLI command, a test) owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalogue.models import (
    CHANNELS,
    STATUSES,
    Institution,
    LifeEvent,
    LifeEventProcedure,
    Procedure,
    RelatedProcedure,
)
from catalogue.text import clean_fiche_text, first_paragraph
from portal import outbox
from portal.redirects import local_path
from portal.text import fold

CONTENT_DIR = Path(__file__).resolve().parent / "content"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FICHE_ID_RE = re.compile(r"^[FNR]\d+$")
SKIPPED_FICHE_TYPES = {"Recherche guidée": "recherche guidée (outil interne, pas un contenu)"}
# Fiches on violence done to a person get the protection of the portal's own violence pages
# (quick exit, no referrer, nothing cached). Read from the fiche's title, accents and case
# folded; checked against every fiche of ../shared/data/fiches (tests/catalogue/test_sensitive_fiches.py).
# Not the breadcrumb alone: "Violence - Atteinte à l'intégrité" also holds "Peut-on cacher son
# visage dans un lieu public ?"; not "violence" alone: "Incitation à la haine, à la violence"
# is about speech, a robbery "avec violence" about property.
SENSITIVE_FICHE_TITLE = re.compile(
    r"""
      \bviols?\b                                   # viol, not violation
    | \bviolences?\s+(?:-|conjugal|sexuel|sexiste|scolaire|familial|intrafamilial|faites|au\s+sein)
    | \bharcelement                                # sexuel, moral, scolaire, téléphonique, cyber-
    | \b(?:agression|atteinte)s?\s+sexuel
    | \boutrages?\s+(?:sexiste|sexuel)
    | \bincest
    | \bmutilations?\s+sexuel | \bexcision
    | \bmariages?\s+force
    | \bprostitution | \bproxenet | \besclavag | \btraite\s+des\s+(?:etres|personnes)
    | \bbattue?s?\b | \bmaltraitee?s?\b | \bmaltraitance\b(?!\s+animal)
    | \bcoups\s+et\s+blessures
    | \bfeminicide
    """,
    re.VERBOSE,
)

PROCEDURE_FIELDS = {
    "slug", "title", "summary", "institution", "channels", "franceconnect", "external_url",
    "external_label", "keywords", "alert", "contacts", "for_whom", "conditions", "steps",
    "documents", "delays_cost", "related", "links", "sources", "sensitive", "verified_on",
    "status", "superseded_by", "service_path", "service_label",
}
REQUIRED_PROCEDURE_FIELDS = {"slug", "title", "summary", "status"}


class ContentError(ValueError):
    """The content files are inconsistent; the message lists every problem found."""


# The CLI lists at most this many ids of each kind of change.
LISTED_IDS = 20


@dataclass
class LoadReport:
    """What a load did. Content files: ``created`` and ``existing`` (procedures), ``created_events``,
    ``created_institutions``. Fiches: ``created`` (added), ``updated`` (changed), ``unpublished``
    (withdrawn from the feed), ``unchanged``, ``skipped``."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    unpublished: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    existing: int = 0
    created_events: list[str] = field(default_factory=list)
    created_institutions: list[str] = field(default_factory=list)

    def content_summary(self) -> str:
        lines = [
            f"Démarches du portail : {len(self.created)} créée(s), {self.existing} déjà en base",
            f"Situations : {len(self.created_events)} créée(s)",
            f"Institutions : {len(self.created_institutions)} créée(s)",
        ]
        if self.created:
            lines.append(_listed("  créées", self.created))
        lines.append("Les fichiers ne modifient jamais un contenu déjà en base (il se modifie dans l'espace agents).")
        return "\n".join(lines)

    def fiches_summary(self) -> str:
        lines = [
            f"Fiches Service-Public.fr : {len(self.created)} ajoutée(s), {len(self.updated)} modifiée(s), "
            f"{len(self.unpublished)} retirée(s) du flux, {self.unchanged} inchangée(s)"
        ]
        for label, ids in (("ajoutées", self.created), ("modifiées", self.updated),
                           ("retirées", self.unpublished)):
            if ids:
                lines.append(_listed(f"  {label}", ids))
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"  ignorée(s) — {reason} : {count}")
        return "\n".join(lines)


def _listed(label: str, ids: list[str]) -> str:
    shown = ", ".join(ids[:LISTED_IDS])
    more = f" … et {len(ids) - LISTED_IDS} autre(s)" if len(ids) > LISTED_IDS else ""
    return f"{label} : {shown}{more}"


def _apply(row: Procedure, values: dict, digest: str, now: datetime) -> None:
    for key, value in values.items():
        setattr(row, key, value)
    row.content_hash = digest
    row.updated_at = now


def _unpublish_missing(session: Session, existing: dict[str, Procedure], kept: set[str], report: LoadReport,
                       now: datetime) -> None:
    """Fiches gone from the feed stop being shown but stay referable (a hidden one stays hidden)."""
    for slug, row in existing.items():
        if slug not in kept and row.status == "published":
            row.status = "draft"
            row.content_hash = ""
            row.updated_at = now
            report.unpublished.append(slug)
            outbox.emit(session, outbox.ENTRY, slug)


def content_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def read_content(content_dir: Path = CONTENT_DIR) -> tuple[list[dict], list[dict], list[dict]]:
    """Read and validate institutions, procedures and life events; raise ContentError on any problem."""
    institutions = _read_yaml(content_dir / "institutions.yaml") or []
    life_events = _read_yaml(content_dir / "life_events.yaml") or []
    procedures = []
    problems: list[str] = []
    for path in sorted((content_dir / "procedures").glob("*.yaml")):
        entry = _read_yaml(path) or {}
        if entry.get("slug") != path.stem:
            problems.append(f"{path.name}: le slug doit être {path.stem!r}")
        procedures.append(entry)

    institution_slugs = {i["slug"] for i in institutions}
    slugs = [p.get("slug") for p in procedures]
    known = set(slugs)
    for slug, count in Counter(slugs).items():
        if count > 1:
            problems.append(f"slug en double : {slug}")
    for p in procedures:
        name = p.get("slug", "?")
        if missing := REQUIRED_PROCEDURE_FIELDS - p.keys():
            problems.append(f"{name}: champs manquants {sorted(missing)}")
        if unknown := p.keys() - PROCEDURE_FIELDS:
            problems.append(f"{name}: champs inconnus {sorted(unknown)}")
        if not SLUG_RE.match(str(name)):
            problems.append(f"{name}: slug invalide")
        if p.get("status") not in STATUSES:
            problems.append(f"{name}: statut invalide {p.get('status')!r}")
        if p.get("institution") and p["institution"] not in institution_slugs:
            problems.append(f"{name}: institution inconnue {p['institution']!r}")
        for channel in p.get("channels", []):
            if channel not in CHANNELS:
                problems.append(f"{name}: canal inconnu {channel!r}")
        if p.get("service_path") and local_path(p["service_path"]) is None:
            problems.append(f"{name}: service_path doit être un chemin du portail")
        if p.get("superseded_by") and p["superseded_by"] not in known:
            problems.append(f"{name}: remplaçant inconnu {p['superseded_by']!r}")
        for other in p.get("related", []):
            if other not in known:
                problems.append(f"{name}: démarche liée inconnue {other!r}")
        for url in [p.get("external_url")] + [link.get("url") for link in p.get("links", [])]:
            if url and not str(url).startswith("https://"):
                problems.append(f"{name}: lien non https {url!r}")
        if "verified_on" in p and not isinstance(p["verified_on"], date):
            problems.append(f"{name}: verified_on doit être une date AAAA-MM-JJ")
    event_slugs = [e.get("slug") for e in life_events]
    for slug, count in Counter(event_slugs).items():
        if count > 1:
            problems.append(f"situation en double : {slug}")
    for e in life_events:
        for slug in e.get("procedures", []):
            if slug not in known:
                problems.append(f"situation {e.get('slug')}: démarche inconnue {slug!r}")
    if problems:
        raise ContentError("Contenu du catalogue invalide :\n- " + "\n- ".join(problems))
    return institutions, procedures, life_events


def _procedure_values(entry: dict, institutions: dict[str, Institution]) -> dict:
    return {
        "kind": "procedure",
        "status": entry["status"],
        "title": entry["title"].strip(),
        "summary": " ".join(entry["summary"].split()),
        "alert": _text(entry.get("alert"), fold=True),
        "for_whom": _text(entry.get("for_whom")),
        "conditions": _text(entry.get("conditions")),
        "steps": _text(entry.get("steps")),
        "documents": _text(entry.get("documents")),
        "delays_cost": _text(entry.get("delays_cost")),
        "body": None,
        "institution": institutions.get(entry.get("institution", "")),
        "channels": list(entry.get("channels", [])),
        "requires_franceconnect": bool(entry.get("franceconnect", False)),
        "external_url": entry.get("external_url"),
        "external_label": entry.get("external_label"),
        "keywords": [str(k) for k in entry.get("keywords", [])],
        "contacts": [{k: str(v) for k, v in c.items()} for c in entry.get("contacts", [])],
        "links": [{k: str(v) for k, v in link.items()} for link in entry.get("links", [])],
        "sources": [{k: str(v) for k, v in s.items()} for s in entry.get("sources", [])],
        "sensitive": bool(entry.get("sensitive", False)),
        "verified_on": entry.get("verified_on"),
        "superseded_by": entry.get("superseded_by"),
        "service_path": entry.get("service_path"),
        "service_label": entry.get("service_label"),
    }


def _text(value: Any, fold: bool = False) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return " ".join(text.split()) if fold else text


def load_content(session: Session, content_dir: Path = CONTENT_DIR) -> LoadReport:
    """Create the institutions, procedures and life events of the files that the database does not have.

    What the database has is left exactly as it is: editors may have changed,
    retired or reordered it. A procedure created here is linked to the related
    procedures and life events that exist; a life event created here lists the
    procedures that exist.
    """
    institutions_data, procedures_data, events_data = read_content(content_dir)
    report = LoadReport()
    now = datetime.now(UTC)

    institutions = {i.slug: i for i in session.scalars(select(Institution))}
    for data in institutions_data:
        if data["slug"] in institutions:
            continue
        inst = Institution(slug=data["slug"], name=data["name"], url=data.get("url"))
        session.add(inst)
        institutions[data["slug"]] = inst
        report.created_institutions.append(data["slug"])

    # Every entry, fiches included: a slug taken by anything is never created again.
    ids: dict[str, int] = {slug: id_ for slug, id_ in session.execute(select(Procedure.slug, Procedure.id))}
    created: dict[str, Procedure] = {}
    for entry in procedures_data:
        if entry["slug"] in ids:
            report.existing += 1
            continue
        proc = Procedure(slug=entry["slug"])
        session.add(proc)
        _apply(proc, _procedure_values(entry, institutions), content_hash(entry), now)
        created[entry["slug"]] = proc
        report.created.append(entry["slug"])
    session.flush()
    ids.update((slug, proc.id) for slug, proc in created.items())

    for entry in procedures_data:
        proc = created.get(entry["slug"])
        if proc is None:
            continue
        proc.related_links = [
            RelatedProcedure(related_id=ids[slug], position=i)
            for i, slug in enumerate(entry.get("related", [])) if slug in ids
        ]
        outbox.emit(session, outbox.ENTRY, entry["slug"])

    events = {e.slug: e for e in session.scalars(select(LifeEvent))}
    # A new event goes after those already there (in the files' order on an empty database).
    next_position = max((e.position for e in events.values()), default=-1) + 1
    for position, data in enumerate(events_data):
        if data["slug"] in events:
            continue
        event = LifeEvent(
            slug=data["slug"], title=data["title"], summary=data.get("summary", ""), icon=data.get("icon"),
            sensitive=bool(data.get("sensitive", False)), status="published",
            position=next_position, content_hash=content_hash([position, data]),
        )
        next_position += 1
        event.procedure_links = [
            LifeEventProcedure(procedure_id=ids[slug], position=i)
            for i, slug in enumerate(data.get("procedures", [])) if slug in ids
        ]
        session.add(event)
        report.created_events.append(data["slug"])
    session.flush()
    return report


# -- service-public.fr fiches ---------------------------------------------------


def _read_fiches(data_dir: Path) -> dict[str, dict]:
    """Every fiche of the 2020 export, replaced by a newer single-fiche file where one exists."""
    fiches_dir = data_dir / "fiches"
    fiches: dict[str, dict] = {}
    with (fiches_dir / "vdd_particuliers_2020_all.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                fiche = json.loads(line)
                fiches[fiche["id"]] = fiche
    for path in sorted(fiches_dir.glob("*.json")):
        fiche = json.loads(path.read_text(encoding="utf-8"))
        current = fiches.get(fiche.get("id"))
        if current is None or str(fiche.get("date_modified")) > str(current.get("date_modified")):
            fiches[fiche["id"]] = fiche
    return fiches


def _fiche_settings(content_dir: Path) -> dict:
    return _read_yaml(content_dir / "fiches.yaml") or {}


def fiche_is_sensitive(fiche: dict) -> bool:
    """Whether a service-public.fr fiche is about violence done to a person (``SENSITIVE_FICHE_TITLE``)."""
    return bool(SENSITIVE_FICHE_TITLE.search(fold(fiche.get("title") or "").lower()))


def _fiche_values(fiche: dict, settings: dict) -> dict:
    text = clean_fiche_text(fiche.get("text") or "")
    summary = " ".join((fiche.get("description") or "").split()) or first_paragraph(text)
    breadcrumb = [" ".join(b.split()) for b in fiche.get("breadcrumb", [])]
    # First crumb is "Accueil particuliers", the last is the fiche itself.
    breadcrumb = [b for b in breadcrumb[1:] if b != " ".join(fiche["title"].split())]
    notices = []
    for mention in settings.get("outdated_mentions", []):
        if re.search(mention["pattern"], f"{fiche['title']}\n{text}", re.IGNORECASE):
            notices.append({"text": " ".join(mention["notice"].split()), "see": mention.get("see", "")})
    links = [
        {"title": s.get("titre", ""), "url": s.get("url", ""), "type": s.get("type", ""),
         "source": s.get("source", "")}
        for s in fiche.get("services_en_ligne", [])
        if str(s.get("url", "")).startswith(("https://", "http://"))
    ]
    return {
        "kind": "fiche",
        "status": "published",
        "title": " ".join(fiche["title"].split()),
        "summary": summary,
        "body": text,
        "source_url": fiche.get("url"),
        "source_date": date.fromisoformat(fiche["date_modified"]) if fiche.get("date_modified") else None,
        "fiche_type": fiche.get("type"),
        "breadcrumb": breadcrumb,
        "links": links,
        "superseded_by": settings.get("superseded", {}).get(fiche["id"]),
        "notices": notices,
        "keywords": [],
        "sensitive": fiche_is_sensitive(fiche),
    }


def import_fiches(session: Session, data_dir: Path, content_dir: Path = CONTENT_DIR) -> LoadReport:
    """Import the service-public.fr fiches as ``kind="fiche"`` entries whose slug is the fiche id.

    A fiche editors hid keeps its status (its text is still brought up to date, so showing it again shows
    DILA's current text). Every fiche added, changed or withdrawn is announced in the outbox.
    """
    settings = _fiche_settings(content_dir)
    report = LoadReport()
    now = datetime.now(UTC)
    existing = {
        p.slug: p for p in session.scalars(select(Procedure).where(Procedure.kind == "fiche"))
    }
    seen: set[str] = set()
    for fiche_id, fiche in _read_fiches(data_dir).items():
        if not FICHE_ID_RE.match(fiche_id):
            report.skipped["identifiant inattendu"] += 1
            continue
        reason = SKIPPED_FICHE_TYPES.get(fiche.get("type", ""))
        if reason:
            report.skipped[reason] += 1
            continue
        if not fiche.get("title"):
            report.skipped["sans titre"] += 1
            continue
        seen.add(fiche_id)
        values = _fiche_values(fiche, settings)
        digest = content_hash(values)
        row = existing.get(fiche_id)
        if row is not None and row.content_hash == digest:
            report.unchanged += 1
            continue
        if row is None:
            row = Procedure(slug=fiche_id)
            session.add(row)
            report.created.append(fiche_id)
        else:
            report.updated.append(fiche_id)
            if row.status == "hidden":
                values = {**values, "status": "hidden"}
        _apply(row, values, digest, now)
        outbox.emit(session, outbox.ENTRY, fiche_id)
    _unpublish_missing(session, existing, seen, report, now)
    session.flush()
    return report
