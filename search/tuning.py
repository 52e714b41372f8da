"""Search tuning from the database: the rules editors publish (table ``search_rule``).

A rule is a synonym group, a best bet (queries → entries shown first) or a
worst bet (queries → entries shown after every other result). The YAML files
(``synonyms.yaml``, ``best_bets.yaml``) are only the initial content: a rule is
created from them when the database does not have its key, never updated, so
an editor's change or retirement is never undone by a deployment.

Publishing writes the rule and an outbox TUNING event in the caller's
transaction; the indexer (``flask search worker``) then writes the new tuning
beside each host's index, where every web process picks it up.
Drafts, reviews and history are editorial revisions: this module only knows
the published rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import JSON, column, select, table
from sqlalchemy.orm import Session

from catalogue.models import Procedure
from portal import outbox
from portal.text import fold
from search.models import RULE_KINDS, SearchRule
from search.vocabulary import (
    BEST_BETS_FILE,
    SYNONYMS_FILE,
    BestBets,
    Synonyms,
    Tuning,
    WorstBets,
    normalise_rule,
    phrase_key,
    tuning_from_rules,
)

__all__ = [
    "BestBets", "LoadReport", "Synonyms", "Tuning", "WorstBets", "apply_rule", "current_tuning",
    "initial_rules", "load_initial_rules", "pending_rule_changes", "published_rules", "rule_data",
    "tuning_from_rules", "tuning_with", "validate_rule",
]

# Bounds of one rule: more is a sign it should be several rules (and each term costs a little per query).
MAX_TERMS = 30
MAX_TERM_CHARS = 100
MAX_SLUGS = 5
MAX_NOTE_CHARS = 1000
KEY_CHARS = 60


# -- initial content ---------------------------------------------------------------


def _key_part(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text).lower()).strip("-")
    return slug[:KEY_CHARS].rstrip("-") or "regle"


def initial_rules(synonyms_path: Path = SYNONYMS_FILE, best_bets_path: Path = BEST_BETS_FILE) -> list[tuple[str, dict]]:
    """(key, data) of every rule the YAML files hold, in their order.

    The key comes from the rule's kind and first term ("synonym-cni",
    "best-bet-17"), with "-2", "-3"... when two rules would share it: the same
    files always give the same keys.
    """
    synonyms = yaml.safe_load(synonyms_path.read_text(encoding="utf-8")) or {}
    bets = yaml.safe_load(best_bets_path.read_text(encoding="utf-8")) or {}
    found: list[tuple[str, dict]] = []
    for kind, entries in (
        ("synonym", [{"terms": group, "slugs": []} for group in synonyms.get("groups") or []]),
        ("best_bet", [{"terms": b["queries"], "slugs": b["slugs"]} for b in bets.get("bets") or []]),
        ("worst_bet", [{"terms": b["queries"], "slugs": b["slugs"]} for b in bets.get("worst_bets") or []]),
    ):
        for entry in entries:
            data = normalise_rule({"kind": kind, **entry})
            if data is None or not data["terms"]:
                continue
            found.append((_key_part(f"{kind.replace('_', '-')}-{data['terms'][0]}"), {**data, "note": ""}))
    keys: dict[str, int] = {}
    unique = []
    for key, data in found:
        keys[key] = keys.get(key, 0) + 1
        unique.append((key if keys[key] == 1 else f"{key}-{keys[key]}", data))
    return unique


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    existing: int = 0

    def format(self) -> str:
        return f"Règles de recherche : {len(self.created)} créée(s), {self.existing} déjà en base."


def load_initial_rules(session: Session, synonyms_path: Path = SYNONYMS_FILE,
                       best_bets_path: Path = BEST_BETS_FILE) -> LoadReport:
    """Create the YAML files' rules whose key the database does not have (published); never touch the others.

    Flushes, never commits (``flask search load-rules`` commits). A retired rule keeps its key: it stays retired.
    """
    report = LoadReport()
    known = set(session.scalars(select(SearchRule.key)))
    now = datetime.now(UTC)
    for key, data in initial_rules(synonyms_path, best_bets_path):
        if key in known:
            report.existing += 1
            continue
        session.add(SearchRule(key=key, kind=data["kind"], terms=data["terms"], slugs=data["slugs"],
                               note="", status="published", updated_at=now))
        known.add(key)
        report.created.append(key)
    if report.created:
        outbox.emit(session, outbox.TUNING, "initial")
    session.flush()
    return report


# -- reading -------------------------------------------------------------------------


def published_rules(session: Session) -> list[SearchRule]:
    """The published rules, oldest first (the initial ones in their files' order)."""
    return list(session.scalars(select(SearchRule).where(SearchRule.status == "published").order_by(SearchRule.id)))


def rule_data(rule: SearchRule) -> dict:
    """A rule as edit data: the keys of the rule form (kind, terms, slugs, note)."""
    return {"kind": rule.kind, "terms": list(rule.terms or []), "slugs": list(rule.slugs or []),
            "note": rule.note or ""}


def current_tuning(session: Session) -> Tuning:
    """The tuning the published rules make: what the index must serve, and what ``make eval`` scores."""
    return tuning_from_rules(rule_data(rule) for rule in published_rules(session))


# The editorial revisions of rules on their way to publication, read as a plain table: search does not
# import editorial (editorial builds on search), and needs only these four columns of ``content_revision``.
_revisions = table("content_revision", column("id"), column("entity_type"), column("entity_key"),
                   column("state"), column("data", JSON))
PENDING_STATES = ("submitted", "approved", "scheduled")


def pending_rule_changes(session: Session) -> dict[str, dict | None]:
    """Rule key → its data in the open revision that awaits publication (to review, approved or scheduled);
    None for a retirement. Drafts are not counted: nobody has asked for them to be published yet."""
    rows = session.execute(
        select(_revisions.c.entity_key, _revisions.c.data)
        .where(_revisions.c.entity_type == "search_rule", _revisions.c.state.in_(PENDING_STATES))
        .order_by(_revisions.c.id)
    )
    return {key: None if _is_retirement(data) else dict(data) for key, data in rows}


def tuning_with(session: Session, changes: Mapping[str, Mapping | None]) -> Tuning:
    """The published rules with ``changes`` applied (key → new data; None: retired; a new key: added)."""
    rules = {rule.key: rule_data(rule) for rule in published_rules(session)}
    for key, data in changes.items():
        if _is_retirement(data):
            rules.pop(key, None)
        else:
            rules[key] = dict(data)
    return tuning_from_rules(rules.values())


# -- checking and writing -------------------------------------------------------------


def _is_retirement(data: Mapping | None) -> bool:
    return data is None or bool(data.get("retired"))


def _quoted(text: str) -> str:
    return f"« {text} »"


def validate_rule(session: Session, data: Mapping, *, key: str | None = None) -> dict[str, str]:
    """Field → French error for rule ``data`` (kind, terms, slugs, note); {} when it can be published.

    ``key`` is the rule being edited, if it exists: its own published version never conflicts with it.
    """
    errors: dict[str, list[str]] = {}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    kind = data.get("kind")
    if kind not in RULE_KINDS:
        error("kind", "Choisissez le type de règle : synonymes, meilleure réponse ou résultat à repousser.")
    raw_terms = data.get("terms") or []
    if isinstance(raw_terms, str):
        raw_terms = raw_terms.splitlines()
    terms = list(dict.fromkeys(str(t).strip() for t in raw_terms if str(t).strip()))
    raw_slugs = data.get("slugs") or []
    if isinstance(raw_slugs, str):
        raw_slugs = raw_slugs.splitlines()
    slugs = list(dict.fromkeys(str(s).strip() for s in raw_slugs if str(s).strip()))

    if not terms:
        error("terms", "Indiquez au moins deux termes équivalents, un par ligne." if kind == "synonym"
              else "Indiquez au moins une requête, une par ligne.")
    elif kind == "synonym" and len(terms) < 2:
        error("terms", "Un groupe de synonymes compte au moins deux termes, un par ligne.")
    if len(terms) > MAX_TERMS:
        error("terms", f"{MAX_TERMS} termes au plus : faites plusieurs règles.")
    for term in terms:
        if len(term) > MAX_TERM_CHARS:
            error("terms", f"{_quoted(term[:40] + '…')} est trop long ({MAX_TERM_CHARS} caractères au plus).")
        elif not phrase_key(term):
            error("terms", f"{_quoted(term)} ne contient aucun mot cherché : seulement des mots vides "
                           "(« le », « de », « mon »…).")

    if kind == "synonym":
        if slugs:
            error("slugs", "Un groupe de synonymes ne désigne aucune page : laissez ce champ vide.")
    elif kind in RULE_KINDS:
        if not slugs:
            error("slugs", "Indiquez au moins une page, par son identifiant (par exemple plainte-en-ligne).")
        elif len(slugs) > MAX_SLUGS:
            error("slugs", f"{MAX_SLUGS} pages au plus.")
        found = session.execute(select(Procedure.slug, Procedure.status).where(Procedure.slug.in_(slugs)))
        statuses = dict(found.all())
        for slug in slugs:
            status = statuses.get(slug)
            if status is None:
                error("slugs", f"{_quoted(slug)} : aucune démarche ni fiche de ce nom.")
            elif status != "published":
                error("slugs", f"{_quoted(slug)} n'est pas publiée (retirée, masquée ou brouillon) : "
                               "les citoyens ne la trouveraient pas.")
        _check_conflicts(session, kind, terms, slugs, key, error)

    note = data.get("note") or ""
    if len(str(note)) > MAX_NOTE_CHARS:
        error("note", f"La note fait {MAX_NOTE_CHARS} caractères au plus.")
    return {name: " ".join(messages) for name, messages in errors.items()}


def _check_conflicts(session: Session, kind: str, terms: list[str], slugs: list[str], key: str | None,
                     error) -> None:
    """A query has one best bet rule and one worst bet rule at most; an entry is never both pinned and pushed down."""
    others = [r for r in published_rules(session) if r.key != key and r.kind in ("best_bet", "worst_bet")]
    by_query: dict[tuple[str, frozenset[str]], SearchRule] = {}
    for rule in others:
        for term in rule.terms or []:
            by_query.setdefault((rule.kind, frozenset(phrase_key(term))), rule)
    opposite = "worst_bet" if kind == "best_bet" else "best_bet"
    for term in terms:
        words = frozenset(phrase_key(term))
        if not words:
            continue
        same = by_query.get((kind, words))
        if same is not None:
            what = "une meilleure réponse" if kind == "best_bet" else "des résultats à repousser"
            error("terms", f"La requête {_quoted(term)} a déjà {what} : la règle {same.key}. Modifiez-la plutôt.")
        other = by_query.get((opposite, words))
        if other is not None:
            both = sorted(set(slugs) & set(other.slugs or []))
            if both:
                error("slugs", f"{_quoted(both[0])} ne peut pas être à la fois en tête et repoussée pour "
                               f"{_quoted(term)} (règle {other.key}).")


def apply_rule(session: Session, key: str, data: Mapping | None) -> None:
    """Publish ``data`` as rule ``key`` (created if new), or retire it (``data`` None or ``{"retired": True}``),
    with an outbox TUNING event, in the caller's transaction. Flushes, never commits; validate first."""
    rule = session.scalars(select(SearchRule).where(SearchRule.key == key)).first()
    now = datetime.now(UTC)
    if _is_retirement(data):
        if rule is None or rule.status == "retired":
            return
        rule.status = "retired"
    else:
        clean = normalise_rule(data)
        if clean is None:
            raise ValueError(f"unknown search rule kind: {data.get('kind')!r}")
        if rule is None:
            rule = SearchRule(key=key)
            session.add(rule)
        rule.kind = clean["kind"]
        rule.terms = clean["terms"]
        rule.slugs = clean["slugs"]
        rule.note = str(data.get("note") or "").strip()
        rule.status = "published"
    rule.updated_at = now
    outbox.emit(session, outbox.TUNING, key)
    session.flush()
