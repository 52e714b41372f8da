"""The embedded search engine: Whoosh stores the index, we rank.

Index layout, under the configured directory::

    builds/<version>-<time>-<random>/   one complete Whoosh index, its meta.json and tuning.json
    current -> builds/...               symlink swapped atomically after a rebuild
    retired.json                        when each former build stopped being current
    .writer.lock                        flock held by the single writer

Whoosh owns storage, analysis and postings. Ranking reads those postings into
arrays once per index generation and scores a query with NumPy: Whoosh's own
matchers, run in Python, cost 50 ms at the 95th percentile on the full
catalogue, this costs a few (docs/search.md, docs/benchmarks.md).

Web processes only read: each thread keeps a searcher and reopens the index
when ``current`` points elsewhere; a rebuild never disturbs a reader. A build
that stops being current is kept for ``RETIRED_GRACE_SECONDS`` from that
moment (not from its creation): a search that read ``current`` just before the
swap may still be opening it. The moment is written in ``retired.json``, so
that whichever process prunes next, in whatever worker, knows it.

The tuning (synonyms, best and worst bets) belongs to the index generation:
the indexer writes ``tuning.json`` into the build (atomically, with a full
rebuild or on its own), and readers reload it when its file changes, checked
with one ``stat`` per query; ``search(..., tuning=...)`` overrides it (editors'
previews). Every build is written with one. Should it go missing or unreadable,
a reader keeps the last tuning it read from that build, or else runs with no
rules: never rules from elsewhere (the YAML files', say), which could bring back
one an editor retired. The indexer writes it again at its next pass.
"""

from __future__ import annotations

import bisect
import fcntl
import json
import logging
import math
import os
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from whoosh import index as whoosh_index
from whoosh.analysis import Analyzer
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema
from whoosh.query import Phrase

from search import analysis
from search.analysis import query_words
from search.engine import (
    INDEX_VERSION,
    MAX_QUERY_WORDS,
    Document,
    Hit,
    IndexStatus,
    SearchResults,
    SearchUnavailable,
    clean_query,
)
from search.planner import QueryPlan, plan
from search.vocabulary import BestBets, Synonyms, Tuning, WorstBets, tuning_from_rules, tuning_of

log = logging.getLogger(__name__)

# Field weights: title, then aliases, then summary, then the rest (docs/search.md).
FIELD_BOOSTS = {"title": 4.0, "keywords": 3.0, "summary": 2.0, "context": 1.5, "body": 1.0}
PHRASE_FIELDS = ("title", "keywords", "summary")
# Two typed words found side by side in a title, alias or summary: their score counts 1.5 times.
PHRASE_WEIGHT = 0.5
# How much missing typed words cost: relevance * coverage ** COVERAGE_POWER.
COVERAGE_POWER = 2.0
BM25_B = 0.75
BM25_K1 = 1.2
TERM_CACHE_SIZE = 20_000
# How long a replaced build stays on disk after it stopped being current.
RETIRED_GRACE_SECONDS = 300.0
RETIRED_FILE = "retired.json"
TUNING_FILE = "tuning.json"
META_FILE = "meta.json"
# What a build whose tuning.json is lost serves when this process never read it: no rules.
NO_TUNING = tuning_from_rules([])


def build_schema() -> Schema:
    ranked: Analyzer = analysis.french_analyzer()
    return Schema(
        slug=ID(stored=True, unique=True),
        kind=ID(stored=True),
        title=TEXT(analyzer=ranked, stored=True),
        keywords=TEXT(analyzer=ranked),
        summary=TEXT(analyzer=ranked, stored=True),
        context=TEXT(analyzer=ranked),
        body=TEXT(analyzer=ranked),
        spell=TEXT(analyzer=analysis.spelling_analyzer(), phrase=False),
        # Multiplies the document's relevance (search.services.document_boost).
        boost=COLUMN(NumericColumn("f", default=1.0)),
        # Document.digest: what the index holds of the entry.
        digest=ID(stored=True),
    )


def _fields(doc: Document) -> dict:
    keywords = " ; ".join(doc.keywords)
    context = " ; ".join(doc.context)
    return {
        "slug": doc.slug,
        "kind": doc.kind,
        "title": doc.title,
        "keywords": keywords,
        "summary": doc.summary,
        "context": context,
        "body": doc.body,
        "spell": "\n".join((doc.title, keywords, doc.summary, context, doc.body)),
        "boost": float(doc.boost),
        "digest": doc.digest,
    }


def _write_json(path: Path, data: dict) -> None:
    """Written beside, then moved in place: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class _Generation:
    """What one state of the index gives every thread: statistics, words, cached term scores."""

    def __init__(self, reader) -> None:
        self.size = reader.doc_count_all()
        self.live = np.array([not reader.is_deleted(d) for d in range(self.size)], dtype=bool)
        boosts = reader.column_reader("boost")
        self.boosts = np.array([boosts[d] for d in range(self.size)], dtype=np.float64)
        self.lengths = {
            f: np.array(
                [reader.doc_field_length(d, f, 0) or 0 for d in range(self.size)], dtype=np.float64
            )
            for f in FIELD_BOOSTS
        }
        # Average over the documents that have the field: fiches have no aliases,
        # and counting them would make every procedure's aliases look too long.
        self.average_length = {}
        for f, lengths in self.lengths.items():
            present = lengths[self.live & (lengths > 0)]
            self.average_length[f] = float(present.mean()) if len(present) else 1.0
        # Segment by segment: after an incremental update the index has several, and merging their term
        # lists through a MultiReader costs seconds on the full catalogue, against 0.1 s this way.
        self.frequency: dict[str, int] = {}
        for leaf, _offset in reader.leaf_readers():
            for btext, info in leaf.iter_field("spell"):
                word = btext.decode("utf-8")
                self.frequency[word] = self.frequency.get(word, 0) + info.doc_frequency()
        self.sorted_words = sorted(self.frequency)
        # Words by first letter: typos rarely touch it, and it divides the work by ~20.
        self.by_initial: dict[str, list[str]] = {}
        for word in self.sorted_words:
            self.by_initial.setdefault(word[0], []).append(word)
        self._terms: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def term_scores(self, reader, term: str) -> tuple[np.ndarray, np.ndarray]:
        """BM25F of one index term in every document that has it: (docnums, scores).

        One IDF for the whole document (the largest document frequency over
        the fields), as BM25F is defined: per-field IDF would make a common
        word look rare in the short title field.
        """
        with self._lock:
            cached = self._terms.get(term)
            if cached is not None:
                self._terms.move_to_end(term)
                return cached
        df = max(reader.doc_frequency(f, term) for f in FIELD_BOOSTS)
        if df == 0:
            result = (np.empty(0, dtype=np.int64), np.empty(0))
        else:
            idf = math.log(self.size / (df + 1)) + 1.0
            dense = np.zeros(self.size)
            for f, boost in FIELD_BOOSTS.items():
                if reader.doc_frequency(f, term) == 0:
                    continue
                ids, tf = [], []
                matcher = reader.postings(f, term)
                while matcher.is_active():
                    ids.append(matcher.id())
                    tf.append(matcher.weight())
                    matcher.next()
                ids_a = np.array(ids, dtype=np.int64)
                tf_a = np.array(tf)
                norm = 1 - BM25_B + BM25_B * self.lengths[f][ids_a] / self.average_length[f]
                dense[ids_a] += boost * idf * tf_a * (BM25_K1 + 1) / (tf_a + BM25_K1 * norm)
            ids_nz = np.nonzero(dense)[0]
            result = (ids_nz, dense[ids_nz])
        with self._lock:
            self._terms[term] = result
            if len(self._terms) > TERM_CACHE_SIZE:
                self._terms.popitem(last=False)
        return result

    # -- the Lexicon the planner needs ------------------------------------

    def completions(self, prefix: str, limit: int) -> list[str]:
        start = bisect.bisect_left(self.sorted_words, prefix)
        found = []
        for word in self.sorted_words[start:]:
            if not word.startswith(prefix):
                break
            if word != prefix:
                found.append(word)
        found.sort(key=lambda w: -self.frequency[w])
        return found[:limit]

    def corrections(self, word: str, maxdist: int, limit: int) -> list[tuple[str, int]]:
        """Closest known words, the first letter kept (typos rarely touch it)."""
        if maxdist == 0 or not word:
            return []
        found = process.extract(
            word, self.by_initial.get(word[0], ()), scorer=DamerauLevenshtein.distance,
            score_cutoff=maxdist, limit=None,
        )
        scored = sorted((int(d), -self.frequency[w], w) for w, d, _ in found if w != word)
        return [(w, d) for d, _, w in scored[:limit]]


class _ThreadLexicon:
    """The planner's Lexicon, bound to one thread's reader."""

    def __init__(self, generation: _Generation, reader) -> None:
        self.generation = generation
        self.reader = reader
        self.completions = generation.completions
        self.corrections = generation.corrections

    def known(self, terms: tuple[str, ...]) -> bool:
        return any(len(self.generation.term_scores(self.reader, t)[0]) for t in terms)


class _ThreadReader:
    def __init__(self, target: str, ix, searcher, generation: _Generation) -> None:
        self.target = target
        self.ix = ix
        self.searcher = searcher
        self.generation = generation


class WhooshEngine:
    """``SearchEngine`` on a Whoosh index directory."""

    def __init__(self, root: Path, synonyms: Synonyms, best_bets: BestBets,
                 grace_seconds: float = RETIRED_GRACE_SECONDS, worst_bets: WorstBets | None = None) -> None:
        self.root = Path(root)
        self.grace_seconds = grace_seconds
        # Written with a build that ``rebuild`` is given no tuning for (tests, the benchmark); never read
        # in place of a build's tuning.json. The portal passes none (search.services.init_app).
        self.synonyms = synonyms
        self.best_bets = best_bets
        self.default_tuning = tuning_of(synonyms, best_bets, worst_bets)
        self._local = threading.local()
        self._generations: dict[tuple[str, int], _Generation] = {}
        self._generations_lock = threading.Lock()
        # Build directory → (its tuning.json's stat, what it held: None if missing or unreadable).
        self._tuning: dict[str, tuple[tuple, Tuning | None]] = {}
        # Build directory → the last tuning read from its tuning.json, for when the file is lost.
        self._last_good: dict[str, Tuning] = {}
        self._tuning_lock = threading.Lock()

    # -- writing ---------------------------------------------------------

    @property
    def _current(self) -> Path:
        return self.root / "current"

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time across processes; the others wait their turn."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".writer.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def rebuild(self, documents: Iterable[Document], fingerprint: str, *, tuning: Tuning | None = None,
                meta: Mapping[str, object] | None = None) -> None:
        """Build a complete index beside the live one, with its tuning, then swap it in atomically.

        ``tuning`` None: the constructor's (the indexer always passes the published rules).
        ``meta`` adds to the build's meta.json (the indexer's watermark). If
        anything fails, or the process dies, the live index stays as it was; a
        directory left half-built is pruned like any replaced build.
        """
        with self._writer_lock():
            builds = self.root / "builds"
            builds.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            target = builds / f"{INDEX_VERSION}-{stamp}-{secrets.token_hex(3)}"
            target.mkdir()
            try:
                ix = whoosh_index.create_in(target, build_schema())
                writer = ix.writer(limitmb=256)
                count = 0
                try:
                    for doc in documents:
                        writer.add_document(**_fields(doc))
                        count += 1
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
                ix.close()
                # Always one: a build without would serve no rules.
                self._write_tuning(target, tuning if tuning is not None else self.default_tuning)
                self._write_meta(target, fingerprint, count, fresh=True, **dict(meta or {}))
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            outgoing = self._current_target()
            link = self.root / f".current-{secrets.token_hex(4)}"
            link.symlink_to(target.relative_to(self.root))
            os.replace(link, self._current)
            if outgoing is not None and outgoing != target:
                self._retire(outgoing.name, time.time())
            self._prune()

    def _write_meta(self, target: Path, fingerprint: str | None, count: int, *, fresh: bool = False,
                    **extra: object) -> None:
        """meta.json of ``target``: a fresh build's, or the previous one updated (the watermark is kept)."""
        if fresh:
            meta = {"version": INDEX_VERSION, "built_at": datetime.now(UTC).isoformat(timespec="seconds")}
        else:
            meta = self._read_meta(target)
        if fingerprint is not None:
            meta["fingerprint"] = fingerprint
        meta["documents"] = count
        meta.update(extra)
        _write_json(target / META_FILE, meta)

    @staticmethod
    def _read_meta(target: Path) -> dict:
        try:
            meta = json.loads((target / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def _write_tuning(self, target: Path, tuning: Tuning) -> None:
        _write_json(target / TUNING_FILE, {"digest": tuning.digest, "rules": list(tuning.rules)})

    def _current_target(self) -> Path | None:
        try:
            return (self.root / os.readlink(self._current)).resolve()
        except OSError:
            return None

    def _read_retired(self) -> dict[str, float]:
        try:
            data = json.loads((self.root / RETIRED_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}

    def _write_retired(self, retired: dict[str, float]) -> None:
        _write_json(self.root / RETIRED_FILE, retired)

    def _retire(self, name: str, when: float) -> None:
        """Record that build ``name`` stopped being current at ``when`` (the writer lock is held)."""
        retired = self._read_retired()
        retired.setdefault(name, when)
        self._write_retired(retired)

    def _prune(self, now: float | None = None) -> list[str]:
        """Delete the builds retired more than ``grace_seconds`` ago (the writer lock is held).

        A build that is neither current nor recorded (left by an older version
        of this code, or by a crash between the swap and the record) is
        recorded now and kept for the whole grace period: a reader may have it.
        Returns the names of the builds deleted.
        """
        builds = self.root / "builds"
        if not builds.is_dir():
            return []
        now = time.time() if now is None else now
        current = self._current_target()
        recorded = self._read_retired()
        retired = dict(recorded)
        present = set()
        deleted = []
        for build in sorted(builds.iterdir()):
            if not build.is_dir() or build == current:
                continue
            present.add(build.name)
            since = retired.setdefault(build.name, now)
            if now - since > self.grace_seconds:
                shutil.rmtree(build, ignore_errors=True)
                if not build.exists():
                    deleted.append(build.name)
        # Forget the deleted builds and those gone by other means; a current build is never retired.
        remaining = {name: since for name, since in retired.items()
                     if name in present and name not in deleted}
        if remaining != recorded:
            self._write_retired(remaining)
        return deleted

    def prune(self, now: float | None = None) -> list[str]:
        """Delete the builds that stopped being current more than the grace period ago."""
        with self._writer_lock():
            return self._prune(now)

    @contextmanager
    def _live_writer(self, fingerprint: str) -> Iterator:
        with self._writer_lock():
            target = self._resolve()
            ix = whoosh_index.open_dir(target)
            writer = ix.writer(timeout=10.0)
            try:
                yield writer
            except BaseException:
                writer.cancel()
                ix.close()
                raise
            writer.commit()
            self._write_meta(target, fingerprint, ix.doc_count())
            ix.close()

    def digests(self, build: str | None, slugs: Iterable[str]) -> dict[str, str]:
        """The digest of the document each of ``slugs`` has in ``build`` (absent: not in the index)."""
        found: dict[str, str] = {}
        if not build:
            return found
        try:
            ix = whoosh_index.open_dir(self.root / "builds" / build)
        except Exception:  # noqa: BLE001 - replaced and pruned meanwhile: the caller's apply_changes says so
            return found
        try:
            with ix.searcher() as searcher:
                for slug in slugs:
                    docnum = searcher.document_number(slug=slug)
                    if docnum is not None:
                        found[slug] = searcher.stored_fields(docnum).get("digest", "")
        finally:
            ix.close()
        return found

    def apply_changes(self, *, build: str | None, documents: Iterable[Document] = (),
                      removed: Iterable[str] = (), tuning: Tuning | None = None,
                      meta: Mapping[str, object] | None = None) -> bool:
        """Change the live index in one commit: documents added or replaced, slugs removed, the tuning
        rewritten, meta.json updated with ``meta`` (its ``fingerprint`` key included).

        Only if ``build`` (from ``status()``) is still the current build: otherwise a
        rebuild was swapped in meanwhile, from another watermark, and nothing is done
        (returns False; the caller reads the status again).
        """
        documents, removed = list(documents), list(removed)
        extra = dict(meta or {})
        fingerprint = extra.pop("fingerprint", None)
        with self._writer_lock():
            target = self._current_target()
            if target is None or target.name != build:
                return False
            ix = whoosh_index.open_dir(target)
            try:
                if documents or removed:
                    writer = ix.writer(timeout=10.0)
                    try:
                        for slug in removed:
                            writer.delete_by_term("slug", slug)
                        for doc in documents:
                            writer.update_document(**_fields(doc))
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit()
                count = ix.doc_count()
            finally:
                ix.close()
            if tuning is not None:
                self._write_tuning(target, tuning)
                extra["tuning"] = tuning.digest
            self._write_meta(target, fingerprint, count, **extra)
            return True

    def index(self, documents: Iterable[Document]) -> None:
        """Add or replace documents in the live index (the caller then records the fingerprint)."""
        with self._live_writer("changed-since-build") as writer:
            for doc in documents:
                writer.update_document(**_fields(doc))

    def remove(self, slugs: Iterable[str]) -> None:
        with self._live_writer("changed-since-build") as writer:
            for slug in slugs:
                writer.delete_by_term("slug", slug)

    def record_fingerprint(self, fingerprint: str) -> None:
        """After incremental updates, record which database state the index now reflects."""
        with self._writer_lock():
            target = self._resolve()
            meta = json.loads((target / META_FILE).read_text(encoding="utf-8"))
            self._write_meta(target, fingerprint, int(meta.get("documents", 0)))

    # -- reading ---------------------------------------------------------

    def _resolve(self) -> Path:
        target = self._current_target()
        if target is None:
            raise SearchUnavailable("no search index has been built")
        return target

    def status(self) -> IndexStatus:
        try:
            target = self._resolve()
            meta = json.loads((target / META_FILE).read_text(encoding="utf-8"))
        except (SearchUnavailable, OSError, ValueError):
            return IndexStatus(available=False)
        watermark = meta.get("watermark")
        served = self._read_tuning(str(target))
        return IndexStatus(
            available=True,
            version=meta.get("version"),
            fingerprint=meta.get("fingerprint"),
            documents=int(meta.get("documents", 0)),
            built_at=meta.get("built_at"),
            build=target.name,
            watermark=watermark if isinstance(watermark, int) else None,
            content_fingerprint=meta.get("content_fingerprint"),
            # What the build serves: None when its tuning.json is missing or unreadable (to write again).
            tuning=served.digest if served is not None else None,
        )

    def tuning(self, target: str | None = None) -> Tuning:
        """The tuning of the current build (or of ``target``): its tuning.json, reread when that file changes.

        The file missing or unreadable: the last tuning this process read from that build, else no
        rules. Never the constructor's: rules an editor retired would come back.
        """
        target = target or str(self._resolve())
        found = self._read_tuning(target)
        if found is not None:
            return found
        return self._last_good.get(target, NO_TUNING)

    def _read_tuning(self, target: str) -> Tuning | None:
        """``target``'s tuning.json, parsed once per change of the file (one ``stat``); None if missing or
        unreadable."""
        path = os.path.join(target, TUNING_FILE)
        try:
            stat = os.stat(path)
            key: tuple = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = ("missing",)
        cached = self._tuning.get(target)
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._tuning_lock:
            cached = self._tuning.get(target)
            if cached is not None and cached[0] == key:
                return cached[1]
            found: Tuning | None = None
            if key == ("missing",):
                log.error("search tuning missing: the last rules read from this index kept, else none")
            else:
                try:
                    with open(path, encoding="utf-8") as handle:
                        found = tuning_from_rules(json.load(handle)["rules"])
                except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    # Written atomically, so never half a file; an unreadable one must not stop the search.
                    log.error("search tuning unreadable (%s): the last rules read from this index kept, else none",
                              type(exc).__name__)
            # This build and the few seen just before it: older ones were replaced.
            recent = list(self._tuning)[-3:]
            self._tuning = {**{t: self._tuning[t] for t in recent if t != target}, target: (key, found)}
            if found is not None:
                self._last_good = {**{t: v for t, v in self._last_good.items() if t in self._tuning},
                                   target: found}
            return found

    def _reader(self) -> _ThreadReader:
        """This thread's reader, refreshed after incremental updates, reopened after a rebuild."""
        target = str(self._resolve())
        current: _ThreadReader | None = getattr(self._local, "reader", None)
        try:
            if current is not None and current.target == target:
                if current.ix.latest_generation() == current.searcher.reader().generation():
                    return current
                # Not Searcher.refresh(): the segment readers it reuses keep
                # their old list of deleted documents.
                ix = current.ix
            else:
                ix = whoosh_index.open_dir(target)
            searcher = ix.searcher()
            if current is not None:
                current.searcher.close()
            generation = self._generation(target, searcher)
        except SearchUnavailable:
            raise
        except Exception as exc:  # a corrupt or half-deleted index
            self._local.reader = None
            raise SearchUnavailable(f"search index unreadable: {exc!r}") from exc
        reader = _ThreadReader(target, ix, searcher, generation)
        self._local.reader = reader
        return reader

    def _generation(self, target: str, searcher) -> _Generation:
        key = (target, searcher.reader().generation())
        with self._generations_lock:
            generation = self._generations.get(key)
            if generation is None:
                generation = _Generation(searcher.reader())
                # Keep only the newest: older ones belong to replaced indexes.
                self._generations = {key: generation}
            return generation

    def _rank(self, reader: _ThreadReader, query_plan: QueryPlan) -> tuple[np.ndarray, np.ndarray]:
        """Documents matching the plan, best first, and their scores."""
        generation = reader.generation
        index_reader = reader.searcher.reader()
        size = generation.size

        word_cache: dict[tuple[str, ...], np.ndarray] = {}

        def word_vector(terms: tuple[str, ...]) -> np.ndarray:
            # A word's variants are one word: the best variant counts, not their sum.
            vector = word_cache.get(terms)
            if vector is None:
                vector = np.zeros(size)
                for term in terms:
                    ids, scores = generation.term_scores(index_reader, term)
                    if len(ids):
                        np.maximum.at(vector, ids, scores)
                word_cache[terms] = vector
            return vector

        groups: dict[tuple, np.ndarray] = {}
        n_words = len(query_plan.typed)
        covered = np.zeros((n_words, size), dtype=bool)
        matched = [0] * n_words
        for clause in query_plan.clauses:
            vectors = [word_vector(terms) for terms in clause.words]
            if len(vectors) == 1:
                score = vectors[0]
            else:
                found_all = np.logical_and.reduce([v > 0 for v in vectors])
                score = np.sum(vectors, axis=0) * found_all
            score = clause.weight * score
            hit = score > 0
            for p in clause.positions:
                covered[p] |= hit
            if clause.exact:
                matched[clause.positions[0]] = int(hit.sum())
            previous = groups.get(clause.group)
            groups[clause.group] = score if previous is None else np.maximum(previous, score)

        total = np.sum(list(groups.values()), axis=0) if groups else np.zeros(size)
        total = np.array(total, dtype=np.float64)
        for first, left, right in query_plan.phrases:
            ids = self._phrase_docs(reader, left, right)
            for group in (("words", first), ("words", first + 1)):
                if len(ids) and group in groups:
                    total[ids] += PHRASE_WEIGHT * groups[group][ids]

        # Coverage: each typed word weighs by its rarity among the documents.
        rarity = np.array([math.log(1 + size / (1 + df)) for df in matched]) if n_words else np.zeros(0)
        coverage = (rarity @ covered) / (rarity.sum() or 1.0) if n_words else np.zeros(size)
        final = total * generation.boosts * coverage**COVERAGE_POWER * generation.live
        ids = np.nonzero(final > 0)[0]
        scores = final[ids]
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]

    def _phrase_docs(self, reader: _ThreadReader, left: str, right: str) -> np.ndarray:
        found: set[int] = set()
        for f in PHRASE_FIELDS:
            found.update(Phrase(f, [left, right]).matcher(reader.searcher).all_ids())
        return np.fromiter(found, dtype=np.int64, count=len(found))

    def search(
        self, query: str, *, limit: int = 10, offset: int = 0, pinned: Iterable[str] = (),
        tuning: Tuning | None = None,
    ) -> SearchResults:
        """Results for ``query``: pinned entries (best bets) first, then by score, entries a worst
        bet pushes down last. ``tuning`` replaces the index's (a preview of a change)."""
        query = clean_query(query)
        reader = self._reader()
        tuning = tuning or self.tuning(reader.target)
        searcher = reader.searcher
        typed = query_words(query)[:MAX_QUERY_WORDS]
        pins = list(dict.fromkeys([*pinned, *tuning.best_bets.pinned(query)]))
        query_plan = plan(typed, _ThreadLexicon(reader.generation, searcher.reader()), tuning.synonyms)
        ranked_ids, ranked_scores = self._rank(reader, query_plan) if typed else (
            np.empty(0, dtype=np.int64), np.empty(0))
        pinned_docs = [d for d in (searcher.document_number(slug=s) for s in pins) if d is not None]
        pinned_set = set(pinned_docs)
        demoted = {d for d in (searcher.document_number(slug=s) for s in tuning.worst_bets.demoted(query))
                   if d is not None} - pinned_set
        score_of = dict(zip(ranked_ids.tolist(), ranked_scores.tolist(), strict=True))
        rest = [int(d) for d in ranked_ids if int(d) not in pinned_set]
        # Pushed down, not removed: a citizen who looks far enough still finds them.
        order = pinned_docs + [d for d in rest if d not in demoted] + [d for d in rest if d in demoted]
        hits = []
        for docnum in order[offset : offset + limit]:
            stored = searcher.stored_fields(docnum)
            hits.append(
                Hit(
                    slug=stored["slug"],
                    kind=stored["kind"],
                    title=stored["title"],
                    summary=stored.get("summary", ""),
                    score=score_of.get(docnum, 0.0),
                    pinned=docnum in pinned_set,
                )
            )
        return SearchResults(
            query=query,
            total=len(order),
            hits=hits,
            suggestion=query_plan.suggestion,
            terms=frozenset(query_plan.terms),
        )

    def suggest(self, query: str) -> str | None:
        """A spelling correction drawn from the index's own words, or None."""
        typed = query_words(clean_query(query))[:MAX_QUERY_WORDS]
        if not typed:
            return None
        reader = self._reader()
        lexicon = _ThreadLexicon(reader.generation, reader.searcher.reader())
        return plan(typed, lexicon, self.tuning(reader.target).synonyms).suggestion

    def vocabulary_frequencies(self) -> Mapping[str, int]:
        """The current index's words (the spelling field) and how many documents hold each: what search
        analytics may keep of a query."""
        return self._reader().generation.frequency
