"""Synonyms and best bets: editable data files, matched on the analysis chain.

Both files are read at start-up and applied at query time, so editing them
never requires rebuilding the index. Entries are matched on word families
(``canonical``), so "arnaques" finds the group of "arnaque".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from search.analysis import canonical, query_words

HERE = Path(__file__).resolve().parent
SYNONYMS_FILE = HERE / "synonyms.yaml"
BEST_BETS_FILE = HERE / "best_bets.yaml"

Phrase = tuple[str, ...]


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


@dataclass
class BestBets:
    """Queries pinned to entries: a query matches when it has exactly the bet's words."""

    bets: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pins: dict[frozenset[str], list[str]] = {}
        for bet in self.bets:
            for query in bet["queries"]:
                key = frozenset(phrase_key(query))
                if key:
                    self._pins.setdefault(key, []).extend(
                        s for s in bet["slugs"] if s not in self._pins.get(key, [])
                    )

    def pinned(self, query: str) -> list[str]:
        return list(self._pins.get(frozenset(phrase_key(query)), []))

    def slugs(self) -> set[str]:
        return {s for bet in self.bets for s in bet["slugs"]}


def load_synonyms(path: Path = SYNONYMS_FILE) -> Synonyms:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Synonyms(groups=[[str(m) for m in g] for g in data.get("groups", [])])


def load_best_bets(path: Path = BEST_BETS_FILE) -> BestBets:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return BestBets(bets=data.get("bets", []))
