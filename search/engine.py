"""What the portal knows of a search engine: a small interface and its data types.

The portal talks to ``SearchEngine`` only (index, remove, rebuild, prune,
search, suggest, status). ``search.whoosh_engine.WhooshEngine`` is the embedded
implementation; the French analysis, synonyms, best bets and typo rules live
in engine-independent modules (``analysis``, ``vocabulary``, ``planner``) so
that another engine can take Whoosh's place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from portal import text
from search import analysis
from search.vocabulary import Tuning

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
MAX_WORD_CHARS = 40

# Bump when the indexed fields change; the analysis chain is hashed in automatically.
# 2: each document stores its digest (the indexer skips what the index already holds).
SCHEMA_REVISION = 2
INDEX_VERSION = hashlib.sha256(
    Path(analysis.__file__).read_bytes() + Path(text.__file__).read_bytes() + f"schema-{SCHEMA_REVISION}".encode()
).hexdigest()[:12]


@dataclass(frozen=True)
class Document:
    """What the engine knows of a catalogue entry."""

    slug: str
    kind: str
    title: str
    summary: str
    body: str = ""
    keywords: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    boost: float = 1.0

    @property
    def digest(self) -> str:
        """Identifies what is indexed of the entry: equal digests, nothing to write again."""
        fields = [self.slug, self.kind, self.title, self.summary, self.body, list(self.keywords),
                  list(self.context), self.boost]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    slug: str
    kind: str
    title: str
    summary: str
    score: float
    pinned: bool = False


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    suggestion: str | None = None
    # Index terms the query searched for, so the views can highlight them.
    terms: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class IndexStatus:
    available: bool
    version: str | None = None
    fingerprint: str | None = None
    documents: int = 0
    built_at: str | None = None
    # The build directory serving now (a writer checks it is still current before changing it).
    build: str | None = None
    # The last outbox event the index reflects (None: built without the outbox in mind).
    watermark: int | None = None
    # What the fingerprint was made of: the catalogue's part, and the tuning's digest.
    content_fingerprint: str | None = None
    tuning: str | None = None

    def is_current(self, fingerprint: str) -> bool:
        return self.available and self.version == INDEX_VERSION and self.fingerprint == fingerprint


class SearchUnavailable(RuntimeError):
    """The index is missing or unreadable: the portal says so instead of failing."""


class SearchEngine(Protocol):
    def rebuild(self, documents: Iterable[Document], fingerprint: str, *, tuning: Tuning | None = None,
                meta: Mapping[str, object] | None = None) -> None: ...

    def apply_changes(self, *, build: str | None, documents: Iterable[Document] = (),
                      removed: Iterable[str] = (), tuning: Tuning | None = None,
                      meta: Mapping[str, object] | None = None) -> bool: ...

    def digests(self, build: str | None, slugs: Iterable[str]) -> dict[str, str]: ...

    def index(self, documents: Iterable[Document]) -> None: ...

    def remove(self, slugs: Iterable[str]) -> None: ...

    def record_fingerprint(self, fingerprint: str) -> None: ...

    def prune(self) -> list[str]: ...

    def search(
        self, query: str, *, limit: int = 10, offset: int = 0, pinned: Iterable[str] = (),
        tuning: Tuning | None = None,
    ) -> SearchResults: ...

    def suggest(self, query: str) -> str | None: ...

    def vocabulary_frequencies(self) -> Mapping[str, int]: ...

    def status(self) -> IndexStatus: ...


def clean_query(text: str) -> str:
    """Bound what a query can cost: printable characters only, 200 at most."""
    text = "".join(c if c.isprintable() else " " for c in text[: MAX_QUERY_CHARS * 4])
    # Stripped after the cut too, so that cleaning a cleaned query changes nothing.
    return " ".join(text.split())[:MAX_QUERY_CHARS].rstrip()
