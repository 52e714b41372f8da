"""``make bench`` for search: build time, latency in-process and through HTTP, index size.

Measured on the full catalogue that ``make run`` loads. The queries are the
labelled ones (public and development sets) plus a few hundred generated from
the catalogue's own titles, a third of them with a typo, so that the figures
do not depend on a handful of easy strings.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from flask import Flask

from catalogue import services as catalogue
from portal.benchserver import fr, percentile_95, running_portal, server_label
from portal.extensions import db
from search import services
from search.analysis import query_words
from search.evaluation import read_queries
from search.vocabulary import load_best_bets, load_synonyms
from search.whoosh_engine import WhooshEngine

ROOT = Path(__file__).resolve().parent.parent
DEV_QUERIES = ROOT / "tests" / "search" / "queries-dev.tsv"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("swap", "drop", "double"))
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def bench_queries(app: Flask, generated: int = 300, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    queries = [q.query for q in read_queries(Path(app.config["SEARCH_EVAL_FILE"]))]
    queries += [q.query for q in read_queries(DEV_QUERIES)]
    titles = [entry.title for entry in catalogue.iter_published(db.session)]
    while len(queries) < generated + 150:
        words = query_words(rng.choice(titles))
        if len(words) < 2:
            continue
        start = rng.randrange(0, max(len(words) - 1, 1))
        picked = words[start : start + rng.choice((2, 3))]
        if rng.random() < 0.33:
            k = rng.randrange(len(picked))
            picked[k] = _typo(picked[k], rng)
        queries.append(" ".join(picked))
    return queries


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    return statistics.median(samples_ms), percentile_95(samples_ms)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _http_latencies(queries: list[str]) -> tuple[list[float], list[float]]:
    """Time /api/v1/search, then the results page (/recherche, each search recorded for the editors'
    statistics: scrubbed, then written to the database), from outside, against the portal under gunicorn as
    gunicorn.conf.py sets it."""
    with running_portal(SEARCH_RATE_LIMIT="100000 per minute", API_RATE_LIMIT="100000 per minute") as base:
        timed = {}
        for name, path in (("api", "/api/v1/search?q="), ("page", "/recherche?q=")):
            for q in queries[:20]:  # warm the workers
                urllib.request.urlopen(f"{base}{path}{urllib.parse.quote(q)}").read()
            samples = []
            for q in queries:
                started = time.perf_counter()
                urllib.request.urlopen(f"{base}{path}{urllib.parse.quote(q)}").read()
                samples.append((time.perf_counter() - started) * 1000)
            timed[name] = samples
        return timed["api"], timed["page"]


# Queries an attacker would type: query syntax Whoosh's own parser would choke on, nesting, huge
# inputs. tests/search/test_hostile.py proves what they return; this measures what they cost.
HOSTILE_QUERIES = [
    "NOT NOT vol", "vol AND OR NOT", "(" * 500 + "vol", '"vol de', "title:vol", "slug:*", "*", "*ion*",
    "a*", "vol~3", "vol^nan", "[a TO z]", "\x00vol\x00", "vol\u202eelov", "🚨🚓 vol de 📱",
    "<script>alert(1)</script>", "' OR 1=1 --", "%s%s%s", "../../etc/passwd", "\r\nSet-Cookie: x=y",
    "é" * 5000, "a " * 5000, "x" * 100_000,
]
# The most a hostile query may cost, in-process: the same as an ordinary one at the 95th percentile.
HOSTILE_TARGET_MS = 30.0


def _timed_searches(engine, queries: list[str], rounds: int = 1) -> list[float]:
    samples = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            engine.search(q, limit=10)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def run_bench(app: Flask, http: bool = True, generated: int = 300) -> str:
    documents = [services.document_for(e) for e in catalogue.iter_published(db.session)]
    with tempfile.TemporaryDirectory() as tmp:
        engine = WhooshEngine(Path(tmp), load_synonyms(), load_best_bets())
        started = time.perf_counter()
        engine.rebuild(iter(documents), "bench")
        build_seconds = time.perf_counter() - started
        size_mb = _dir_size(Path(tmp) / "builds") / 1e6

    queries = bench_queries(app, generated=generated)
    live = services.engine()
    for q in queries[:20]:
        live.search(q)
    samples = _timed_searches(live, queries)
    p50, p95 = _percentiles(samples)
    hostile = _timed_searches(live, HOSTILE_QUERIES, rounds=5)
    lines = [
        f"Catalogue : {fr(len(documents), 0)} documents ; requêtes mesurées : {len(queries)}",
        "",
        "| mesure | valeur | cible |",
        "|---|---|---|",
        f"| construction complète de l'index | {fr(build_seconds)} s | ≤ 60 s |",
        f"| taille de l'index | {fr(size_mb)} Mo | |",
        f"| latence en processus, p50 | {fr(p50)} ms | |",
        f"| latence en processus, p95 | {fr(p95)} ms | ≤ 30 ms |",
        f"| latence en processus, max | {fr(max(samples))} ms | |",
        f"| requêtes hostiles ({len(HOSTILE_QUERIES)} : syntaxe, 500 parenthèses, 100 000 caractères…), max "
        f"| {fr(max(hostile))} ms | ≤ {fr(HOSTILE_TARGET_MS, 0)} ms |",
    ]
    if http:
        api, page = _http_latencies(queries)
        h50, h95 = _percentiles(api)
        p50_page, p95_page = _percentiles(page)
        lines += [
            f"| latence HTTP (`/api/v1/search`, gunicorn {server_label()}, même machine), p50 | {fr(h50)} ms | |",
            f"| latence HTTP, p95 | {fr(h95)} ms | |",
            f"| page de résultats (`/recherche`, recherche enregistrée pour les statistiques), p50 "
            f"| {fr(p50_page)} ms | |",
            f"| page de résultats, p95 | {fr(p95_page)} ms | |",
        ]
    return "\n".join(lines)
