"""From what a citizen typed to what the engine must look for.

Engine-independent: the plan lists, for each typed word, the index terms to
look for and their alternatives (a completion of the last word being typed,
spelling corrections of unknown words, synonyms), each with the weight it
counts for. The ranking that uses it is described in ``docs/search.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from search.analysis import fold, index_terms
from search.engine import MAX_WORD_CHARS
from search.vocabulary import Synonyms

SYNONYM_WEIGHT = 0.6
PREFIX_WEIGHT = 0.6
TYPO_WEIGHTS = {1: 0.7, 2: 0.5}
MAX_PREFIX_EXPANSIONS = 12
MAX_TYPO_CANDIDATES = 3
MIN_PREFIX_CHARS = 3


def typo_budget(word: str) -> int:
    """Edits tolerated: none under 5 letters, 1 from 5, 2 from 8."""
    n = len(word)
    return 2 if n >= 8 else 1 if n >= 5 else 0


class Lexicon(Protocol):
    """The words an index holds, which the planner needs to fix and complete words."""

    def known(self, terms: tuple[str, ...]) -> bool: ...

    def completions(self, prefix: str, limit: int) -> list[str]: ...

    def corrections(self, word: str, maxdist: int, limit: int) -> list[tuple[str, int]]: ...


@dataclass(frozen=True)
class Clause:
    """Words to find together (each given by its index terms), worth ``weight``.

    Clauses of the same ``group`` are alternatives for the same typed words:
    a document scores the best of them, not their sum. ``positions`` are the
    typed words the clause stands for.
    """

    words: tuple[tuple[str, ...], ...]
    weight: float
    positions: tuple[int, ...]
    group: tuple

    @property
    def exact(self) -> bool:
        return self.weight == 1.0 and len(self.positions) == 1


@dataclass
class QueryPlan:
    typed: list[str]
    clauses: list[Clause] = field(default_factory=list)
    # (i, term of word i, term of word i + 1): typed side by side.
    phrases: list[tuple[int, str, str]] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)
    suggestion: str | None = None


def plan(typed: list[str], lexicon: Lexicon, synonyms: Synonyms) -> QueryPlan:
    typed = [w[:MAX_WORD_CHARS] for w in typed]
    result = QueryPlan(typed=typed)
    corrected: list[str] = []
    for i, word in enumerate(typed):
        group = ("words", i)
        terms = index_terms(word)
        result.clauses.append(Clause((terms,), 1.0, (i,), group))
        result.terms.update(terms)
        best = word
        if not lexicon.known(terms):
            folded = fold(word)
            if i == len(typed) - 1 and len(folded) >= MIN_PREFIX_CHARS:
                # The word being typed: search its completions too.
                for completion in lexicon.completions(folded, MAX_PREFIX_EXPANSIONS):
                    completion_terms = index_terms(completion)
                    result.clauses.append(Clause((completion_terms,), PREFIX_WEIGHT, (i,), group))
                    result.terms.update(completion_terms)
            fixes = lexicon.corrections(folded, typo_budget(folded), MAX_TYPO_CANDIDATES)
            for fix, distance in fixes:
                fix_terms = index_terms(fix)
                result.clauses.append(Clause((fix_terms,), TYPO_WEIGHTS[distance], (i,), group))
                result.terms.update(fix_terms)
            if fixes:
                best = fixes[0][0]
        corrected.append(best)
    for expansion in synonyms.expansions(typed):
        words = tuple(index_terms(w[:MAX_WORD_CHARS]) for w in expansion.words)
        for terms in words:
            result.terms.update(terms)
        positions = tuple(range(expansion.start, expansion.end))
        result.clauses.append(Clause(words, SYNONYM_WEIGHT, positions, ("words",) + positions))
    for i in range(len(corrected) - 1):
        result.phrases.append((i, index_terms(corrected[i])[0], index_terms(corrected[i + 1])[0]))
    if corrected != typed:
        result.suggestion = " ".join(corrected)
    return result
