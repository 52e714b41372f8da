"""Synonyms, best bets and worst bets, matched on the analysis chain.

Editors publish them as rules (search.tuning, table ``search_rule``); the
YAML files are the initial content. They are applied at query time, so a
change never requires rebuilding the index. Entries are matched on word
families (``canonical``), so "arnaques" finds the group of "arnaque".
``Tuning`` is the complete set a search runs with; it is engine-independent
data, which the indexer writes beside the index (``tuning.json``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from search.analysis import canonical, query_words

HERE = Path(__file__).resolve().parent
SYNONYMS_FILE = HERE / "synonyms.yaml"
BEST_BETS_FILE = HERE / "best_bets.yaml"

Phrase = tuple[str, ...]
# The kinds of rules (search.models.RULE_KINDS has their French names).
RULE_KINDS = ("synonym", "best_bet", "worst_bet")


def phrase_key(text: str) -> Phrase:
    """The word families of a phrase, stop words removed: "carte d'identité" -> ("cart", "ident")."""
    return tuple(canonical(w) for w in query_words(text))


def _contains(longer: Phrase, shorter: Phrase) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


@dataclass(frozen=True)
class Expansion:
    """Words to search in place of the typed words ``start:end``."""

    start: int
    end: int
    words: tuple[str, ...]


@dataclass
class Synonyms:
    """Multi-way groups: any member typed also searches the others."""

    groups: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._members: dict[Phrase, list[tuple[str, ...]]] = {}
        for group in self.groups:
            keyed = [(phrase_key(m), tuple(query_words(m))) for m in group]
            for key, _ in keyed:
                if not key:
                    continue
                alternatives = self._members.setdefault(key, [])
                for other_key, other_words in keyed:
                    if other_key != key and other_words and other_words not in alternatives:
                        alternatives.append(other_words)
        self._longest = max((len(k) for k in self._members), default=0)

    def expansions(self, typed: list[str]) -> list[Expansion]:
        """Alternatives for every phrase of ``typed`` (query words) found in a group."""
        keys = [canonical(w) for w in typed]
        found: list[Expansion] = []
        for start in range(len(keys)):
            for length in range(min(self._longest, len(keys) - start), 0, -1):
                key = tuple(keys[start : start + length])
                for words in self._members.get(key, ()):
                    if _contains(phrase_key(" ".join(words)), key):
                        # "harcèlement" -> "harcèlement en ligne" adds words nobody
                        # typed; only equivalents replace what was typed.
                        continue
                    found.append(Expansion(start, start + length, words))
        return found


class _QueryBets:
    """Queries bound to entries: a query matches when it has exactly the bet's words, in any order or form."""

    def __init__(self, bets: list[dict] | None = None) -> None:
        self.bets = list(bets or [])
        self._entries: dict[frozenset[str], list[str]] = {}
        for bet in self.bets:
            for query in bet["queries"]:
                key = frozenset(phrase_key(query))
                if key:
                    entries = self._entries.setdefault(key, [])
                    entries.extend(s for s in bet["slugs"] if s not in entries)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.bets == self.bets

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bets={self.bets!r})"

    def _matching(self, query: str) -> list[str]:
        return list(self._entries.get(frozenset(phrase_key(query)), []))

    def slugs(self) -> set[str]:
        return {s for bet in self.bets for s in bet["slugs"]}


class BestBets(_QueryBets):
    """Queries pinned to entries: they come first, in the bet's order."""

    def pinned(self, query: str) -> list[str]:
        return self._matching(query)


class WorstBets(_QueryBets):
    """Queries for which entries are pushed down: found, they come after every other result."""

    def demoted(self, query: str) -> list[str]:
        return self._matching(query)


@dataclass(frozen=True)
class Tuning:
    """What a search runs with besides the index: synonyms, best bets, worst bets.

    ``rules`` are the normalised rules it was made from (``tuning_from_rules``),
    in order; ``digest`` identifies them, so the index knows which tuning it serves.
    """

    synonyms: Synonyms
    best_bets: BestBets
    worst_bets: WorstBets
    digest: str
    rules: tuple[dict, ...] = ()


def _strings(value: object) -> list[str]:
    """A list of non-empty stripped strings from whatever a rule holds (a form's data may be anything)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def normalise_rule(rule: Mapping) -> dict | None:
    """``{"kind", "terms", "slugs"}`` with clean strings, or None for a rule of no known kind."""
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        return None
    slugs = [] if kind == "synonym" else list(dict.fromkeys(_strings(rule.get("slugs"))))
    return {"kind": kind, "terms": list(dict.fromkeys(_strings(rule.get("terms")))), "slugs": slugs}


def tuning_from_rules(rules: Iterable[Mapping]) -> Tuning:
    """The tuning made of ``rules`` (dicts with kind, terms, slugs; other keys ignored), in their order.

    Never raises on odd data: a preview runs on an unvalidated draft.
    """
    clean = [r for r in (normalise_rule(rule) for rule in rules) if r is not None]
    digest = hashlib.sha256(json.dumps(clean, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return Tuning(
        synonyms=Synonyms(groups=[r["terms"] for r in clean if r["kind"] == "synonym"]),
        best_bets=BestBets(bets=[{"queries": r["terms"], "slugs": r["slugs"]}
                                 for r in clean if r["kind"] == "best_bet"]),
        worst_bets=WorstBets(bets=[{"queries": r["terms"], "slugs": r["slugs"]}
                                   for r in clean if r["kind"] == "worst_bet"]),
        digest=digest,
        rules=tuple(clean),
    )


def tuning_of(synonyms: Synonyms, best_bets: BestBets, worst_bets: WorstBets | None = None) -> Tuning:
    """The same tuning as these objects, as rules (what a rebuild given no tuning writes)."""
    rules = [{"kind": "synonym", "terms": group} for group in synonyms.groups]
    rules += [{"kind": "best_bet", "terms": b["queries"], "slugs": b["slugs"]} for b in best_bets.bets]
    rules += [{"kind": "worst_bet", "terms": b["queries"], "slugs": b["slugs"]}
              for b in (worst_bets.bets if worst_bets else [])]
    return tuning_from_rules(rules)


def load_synonyms(path: Path = SYNONYMS_FILE) -> Synonyms:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Synonyms(groups=[[str(m) for m in g] for g in data.get("groups", [])])


def load_best_bets(path: Path = BEST_BETS_FILE) -> BestBets:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return BestBets(bets=data.get("bets") or [])


def load_worst_bets(path: Path = BEST_BETS_FILE) -> WorstBets:
    """The ``worst_bets`` section of the best bets' file (same shape as ``bets``; may be absent)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return WorstBets(bets=data.get("worst_bets") or [])
