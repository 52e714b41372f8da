"""``make bench`` for the station finder: nearest units in-process and through HTTP.

The origins are every postcode's commune (6,228 placed) and as many random
points over metropolitan France and overseas, so that the figures cover
dense cities and empty places alike.
"""

from __future__ import annotations

import random
import statistics
import time
import urllib.parse
import urllib.request

from maps import services
from maps.places import Gazetteer
from portal.benchserver import fr, percentile_95, running_portal, server_label
from portal.extensions import db

TARGET_MS = 5.0


def _percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    return statistics.median(samples_ms), percentile_95(samples_ms), max(samples_ms)


def _timed(calls) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def origins(gazetteer: Gazetteer, seed: int = 11) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    points = [(p.latitude, p.longitude) for p in map(gazetteer.resolve, gazetteer.postcodes) if p.located]
    boxes = [((41.3, 51.1), (-5.2, 9.6))] * 9 + [((15.8, 16.5), (-61.8, -61.0)), ((-21.4, -20.9), (55.2, 55.8))]
    for _ in range(len(points)):
        (lat0, lat1), (lon0, lon1) = rng.choice(boxes)
        points.append((rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)))
    return points


def typed_places(gazetteer: Gazetteer, count: int = 2000, seed: int = 5) -> list[str]:
    """Names and postcodes as typed: lower case, "st", a typo in one of four."""
    rng = random.Random(seed)
    typed = []
    for commune in rng.sample(gazetteer.communes, count):
        text = commune.name.lower().replace("saint-", "st ")
        if rng.random() < 0.25 and len(text) > 5:
            i = rng.randrange(1, len(text) - 1)
            text = text[:i] + text[i + 1:]
        typed.append(text if rng.random() < 0.7 else (commune.postcodes or (text,))[0])
    return typed


def _http(points: list[tuple[float, float]]) -> list[float]:
    with running_portal(FINDER_RATE_LIMIT="100000 per minute", API_RATE_LIMIT="100000 per minute") as base:
        def fetch(lat: float, lon: float) -> None:
            query = urllib.parse.urlencode({"q": f"{lat:.5f},{lon:.5f}", "limit": 10})
            urllib.request.urlopen(f"{base}/api/v1/stations/nearest?{query}").read()

        for lat, lon in points[:20]:
            fetch(lat, lon)
        return _timed([lambda p=p: fetch(*p) for p in points])


def run_bench(http: bool = True, typed: int = 2000, http_points: int = 1000, open_now_points: int = 500) -> str:
    started = time.perf_counter()
    gazetteer = services.build_gazetteer(db.session)
    index = services.build_index(db.session)
    build_seconds = time.perf_counter() - started
    points = origins(gazetteer)
    nearest = _timed([lambda p=p: index.nearest(p[0], p[1], 10) for p in points])
    police = _timed([lambda p=p: index.nearest(p[0], p[1], 10, kind="police") for p in points])
    open_now = _timed([lambda p=p: index.nearest(p[0], p[1], 10, open_now=True) for p in points[:open_now_points]])
    typed = typed_places(gazetteer, count=typed)
    resolve_samples = []
    for text in typed:
        started = time.perf_counter()
        try:
            gazetteer.resolve(text)
        except ValueError:
            pass
        resolve_samples.append((time.perf_counter() - started) * 1000)
    rows = [
        ("unités les plus proches (10), toutes", nearest, f"≤ {TARGET_MS:g} ms"),
        ("unités les plus proches (10), police seule", police, ""),
        ("unités les plus proches (10), « ouvert maintenant »", open_now, ""),
        ("lieu saisi → commune (nom, code postal, fautes)", resolve_samples, ""),
    ]
    lines = [
        f"{fr(len(index.by_id), 0)} unités, {fr(len(gazetteer.communes), 0)} communes ; "
        f"{fr(len(points), 0)} points de départ, {fr(len(typed), 0)} saisies",
        f"Construction du répertoire et de l'index en mémoire : {fr(build_seconds, 2)} s",
        "",
        "| mesure | p50 | p95 | max | cible |",
        "|---|---|---|---|---|",
    ]
    for label, samples, target in rows:
        p50, p95, worst = _percentiles(samples)
        lines.append(f"| {label} | {fr(p50, 2)} ms | {fr(p95, 2)} ms | {fr(worst, 2)} ms | {target} |")
    if http:
        p50, p95, worst = _percentiles(_http(points[:http_points]))
        lines.append(f"| HTTP `/api/v1/stations/nearest` (gunicorn {server_label()}, même machine) "
                     f"| {fr(p50, 2)} ms | {fr(p95, 2)} ms | {fr(worst, 2)} ms | |")
    return "\n".join(lines)
