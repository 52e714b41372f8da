"""French text analysis, shared by indexing and querying.

The chain: split on anything that is not a letter or digit (this removes the
elisions l', d', qu', j' and splits hyphenated words), lowercase, drop French
stop words, then emit for each word both ``fold(stem(word))`` and
``stem(fold(word))`` at the same position. A citizen who types without accents
("securite", "apres") reaches the accented word ("sécurité", "après") whatever
the stemmer does with the accent; measured in ``../shared/notes/search.md``.

The schema pickles these classes into the index, so their module path and
constructor arguments are part of the index format: changing them changes
``ANALYSIS_VERSION`` through the source hash in ``search.engine``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer
from whoosh.lang import stopwords_for_language
from whoosh.lang.snowball.french import FrenchStemmer

from portal import text

WORD_PATTERN = r"[^\W_]+"

# Cached: the analysis folds the same words again and again.
fold = lru_cache(maxsize=200_000)(text.fold)


_stemmer = FrenchStemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer.stem(word)


@lru_cache(maxsize=200_000)
def stem_variants(word: str) -> tuple[str, ...]:
    """The one or two index terms of a lowercased word, most canonical first."""
    folded_first = stem(fold(word))
    stemmed_first = fold(stem(word))
    if folded_first == stemmed_first:
        return (folded_first,)
    return (folded_first, stemmed_first)


# Prefixes glued to a word citizens also type alone: "cyberharcèlement" is
# "harcèlement" too, "visioconférence" is "conférence" (the decompounding
# Elasticsearch does with a word list). Only unambiguous prefixes are listed.
COMPOUND_PREFIXES = ("cyber", "visio", "pedo")
MIN_COMPOUND_REST = 4


@lru_cache(maxsize=200_000)
def compound_rest(word: str) -> str | None:
    """The word inside a compound ("harcèlement" in "cyberharcèlement"), or None."""
    folded = fold(word)
    for prefix in COMPOUND_PREFIXES:
        if folded.startswith(prefix) and len(folded) - len(prefix) >= MIN_COMPOUND_REST:
            return word[len(prefix):]
    return None


def index_terms(word: str) -> tuple[str, ...]:
    """Every term a lowercased word is indexed and searched under."""
    terms = stem_variants(word)
    rest = compound_rest(word)
    if rest is not None:
        terms = terms + tuple(t for t in stem_variants(rest) if t not in terms)
    return terms


# What Whoosh's French list lacks ("les", "tout"...), elided particles, the
# fusions citizens type without an apostrophe ("jai perdu", "cest urgent") and
# question words that carry no topic. Written folded: the match is on the folded word.
_EXTRA_STOP_WORDS = """
    les si tout tous toute toutes tres aussi alors donc car ni dont quand comme etre avoir
    jusqu lorsqu puisqu quoiqu presqu aujourd
    jai jetais javais cest sest cetait quil quils quon quelle jme jte jsuis chui ya
    ca ça cela ceci celui celle ceux celles cet cette
    comment quoi quel quels quelles lequel laquelle
    faire fait faut peut peux veux voudrais dois doit
    bonjour merci svp stp
""".split()

STOP_WORDS: frozenset[str] = frozenset(
    {w for w in stopwords_for_language("fr")}
    | {fold(w) for w in stopwords_for_language("fr")}
    | set(_EXTRA_STOP_WORDS)
)


def is_stop(word: str) -> bool:
    """True for a lowercased word the chain drops: too short or a (folded) stop word."""
    return len(word) < 2 or fold(word) in STOP_WORDS


class FrenchStopFilter(Filter):
    """Whoosh's StopFilter, matching on the folded word so "été" and "ete" both stop."""

    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def __call__(self, tokens):
        pos = None
        for t in tokens:
            if not is_stop(t.text):
                if t.positions:
                    pos = t.pos if pos is None else pos + 1
                    t.pos = pos
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


class DualStemFilter(Filter):
    """Emit the accent-folded stem and the stem of the folded word at one position."""

    is_morph = True

    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def __call__(self, tokens):
        for t in tokens:
            if t.stopped:
                yield t
                continue
            for term in index_terms(t.text):
                t.text = term
                yield t


class FoldFilter(Filter):
    """Accent folding without stemming, for the spelling and prefix field."""

    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            yield t


def french_analyzer():
    """Analyzer of the ranked fields (title, keywords, summary, body)."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | FrenchStopFilter() | DualStemFilter()


def spelling_analyzer():
    """Analyzer of the unstemmed field that spelling corrections and prefixes read."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | FrenchStopFilter() | FoldFilter()


_WORD_RE = re.compile(WORD_PATTERN)


def query_words(text: str) -> list[str]:
    """The lowercased non-stop words of a text, in order: the query side of the chain."""
    return [w for w in _WORD_RE.findall(text.lower()) if not is_stop(w)]


def canonical(word: str) -> str:
    """One key per word family, used to match synonyms and best bets."""
    return stem_variants(word)[0]
