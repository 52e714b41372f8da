#!/usr/bin/env python3
"""``make bench`` for gunicorn's worker model: search latency while sign-ins hang on a slow FranceConnect.

A sign-in waits for FranceConnect inside the request. The local FranceConnect,
served here with its discovery and token endpoints stalled, plays FranceConnect
down: each « S'identifier avec FranceConnect » waits FRANCECONNECT_TIMEOUT, then
gets « Connexion indisponible ». While ``hanging`` citizens keep pressing the
button, one client measures /api/v1/search, one request after another; the same
measurement without them is the reference. Both run under the worker model of
gunicorn.conf.py and under the one it replaced (sync, 2 processes).
"""

from __future__ import annotations

import re
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.benchserver import (  # noqa: E402
    SYNC_ARGS,
    fr,
    free_port,
    gunicorn_settings,
    percentile_95,
    running_portal,
    server_label,
)

# -- A FranceConnect that does not answer in time -----------------------------------

STALLED_PATHS = ("/.well-known/openid-configuration", "/token")


class _Stall:
    """WSGI middleware: discovery and token requests wait ``delay`` seconds (or until released)."""

    def __init__(self, app, delay: float) -> None:
        self.app = app
        self.delay = delay
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.waiting = 0  # requests stalled right now
        self.received = 0  # stalled requests received in all

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").endswith(STALLED_PATHS):
            with self._lock:
                self.waiting += 1
                self.received += 1
            try:
                self.release.wait(self.delay)
            finally:
                with self._lock:
                    self.waiting -= 1
        return self.app(environ, start_response)


@dataclass
class SlowFranceConnect:
    issuer: str
    stall: _Stall

    @property
    def waiting(self) -> int:
        return self.stall.waiting

    @property
    def received(self) -> int:
        return self.stall.received

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether ``count`` requests are stalled at once within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.waiting < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


@contextmanager
def slow_franceconnect(delay: float, portal_url: str = "http://127.0.0.1") -> Iterator[SlowFranceConnect]:
    """The local FranceConnect, served in this process, whose discovery and token endpoints stall.

    With ``delay`` above the portal's FRANCECONNECT_TIMEOUT, every sign-in waits for
    that timeout and gets « Connexion indisponible »: FranceConnect slow or down.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    import local_franceconnect

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # one line per request would drown the report
            pass

    port = free_port()
    issuer = f"http://127.0.0.1:{port}/api/v2"
    provider = local_franceconnect.create_app({"TESTING": True, "PORTAL_ENV": "test", "ISSUER": issuer,
                                               "PORTAL_PUBLIC_URL": portal_url})
    stall = _Stall(provider.wsgi_app, delay)
    provider.wsgi_app = stall
    server = make_server("127.0.0.1", port, provider, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SlowFranceConnect(issuer, stall)
    finally:
        stall.release.set()
        server.shutdown()
        thread.join(timeout=10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the answer itself is what we measure: 303 to FranceConnect, or 503


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def start_sign_in(base: str, address: str, timeout: float = 120) -> tuple[int, str]:
    """One citizen: the sign-in page (its CSRF token), then « S'identifier avec FranceConnect ».

    Returns the status of the POST and where it leads. ``address`` goes in
    X-Forwarded-For: each citizen has their own, as behind the TLS proxy
    (TRUSTED_PROXIES=1), so the per-address limit of sign-ins does not apply to the bench.
    """
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect)
    headers = {"X-Forwarded-For": address}
    page = opener.open(urllib.request.Request(f"{base}/connexion", headers=headers), timeout=timeout)
    token = CSRF_FIELD.search(page.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf_token": token}).encode()
    request = urllib.request.Request(f"{base}/connexion/franceconnect", data=form, headers=headers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location", "")


@dataclass
class SignInLoad:
    """``count`` citizens pressing « S'identifier avec FranceConnect », each again as soon as answered."""

    base: str
    count: int
    results: list[tuple[int, float]] = field(default_factory=list)  # (status, seconds)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._citizen, args=(i,), daemon=True) for i in range(self.count)]

    def _citizen(self, number: int) -> None:
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            address = f"10.{number // 250}.{number % 250}.{attempt % 250 + 1}"
            started = time.perf_counter()
            try:
                status, _ = start_sign_in(self.base, address)
            except OSError:
                status = 0  # no answer at all
            with self._lock:
                self.results.append((status, time.perf_counter() - started))

    def __enter__(self) -> SignInLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


# The models compared: gunicorn.conf.py as it is, and the sync workers of the README before issue 9.
MODELS: tuple[tuple[str, ...], ...] = ((), ("--workers", "2", *SYNC_ARGS))
# ../shared/notes/security.md, section 4: search p95 ≤ 150 ms; sign-ins must not change that.
SEARCH_P95_TARGET_MS = 150.0


def search_latencies(base: str, queries: list[str], seconds: float) -> list[float]:
    """Milliseconds of each /api/v1/search, one after another, for ``seconds`` (the last one may end later)."""
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        url = f"{base}/api/v1/search?q={urllib.parse.quote(queries[i % len(queries)])}"
        started = time.perf_counter()
        urllib.request.urlopen(url, timeout=120).read()
        samples.append((time.perf_counter() - started) * 1000)
        i += 1
    return samples


def duration(ms: float) -> str:
    return f"{fr(ms / 1000)} s" if ms >= 1000 else f"{fr(ms)} ms"


def _sign_ins(results: list[tuple[int, float]]) -> str:
    if not results:
        return "aucune terminée"
    statuses = Counter(status for status, _ in results)
    codes = ", ".join(f"{count} × {status or 'sans réponse'}" for status, count in sorted(statuses.items()))
    return f"{codes}, {fr(statistics.median(s for _, s in results))} s"


def measure_model(args: tuple[str, ...], queries: list[str], hanging: int, seconds: float,
                  fc_timeout: float) -> list[tuple[int, list[float], list[tuple[int, float]]]]:
    """[(sign-ins hanging, search latencies, sign-in results)] without, then with, the hanging sign-ins."""
    cfg = gunicorn_settings(*args)
    capacity = cfg.workers * (cfg.threads if cfg.worker_class_str == "gthread" else 1)
    # FranceConnect answers long after the portal gave up: every sign-in waits the whole timeout.
    with slow_franceconnect(delay=fc_timeout * 4) as fc, running_portal(
        *args, FRANCECONNECT_ISSUER=fc.issuer, FRANCECONNECT_TIMEOUT=str(fc_timeout),
        TRUSTED_PROXIES="1", SEARCH_RATE_LIMIT="1000000 per minute", API_RATE_LIMIT="1000000 per minute",
    ) as base:
        for q in queries[:40]:  # each worker opens its index and fills its caches
            urllib.request.urlopen(f"{base}/api/v1/search?q={urllib.parse.quote(q)}", timeout=60).read()
        rows = [(0, search_latencies(base, queries, seconds), [])]
        with SignInLoad(base, hanging) as load:
            # Measure only once the sign-ins hold what they can of the server.
            if not fc.wait_for(min(hanging, capacity), timeout=fc_timeout * 4):
                raise RuntimeError("the sign-ins never reached the slow FranceConnect")
            loaded = search_latencies(base, queries, seconds)
        rows.append((hanging, loaded, list(load.results)))
    return rows


def run_bench(queries: list[str], hanging: int = 6, seconds: float = 20.0, fc_timeout: float = 5.0,
              models: tuple[tuple[str, ...], ...] = MODELS) -> tuple[str, bool]:
    """The report (a Markdown table in French), and whether the target holds under the configured model."""
    lines = [
        f"FranceConnect ne répond pas ; le portail abandonne après FRANCECONNECT_TIMEOUT = {fr(fc_timeout)} s "
        f"et affiche « Connexion indisponible ». {hanging} citoyens relancent la connexion dès qu'elle échoue ; "
        f"un client enchaîne les requêtes /api/v1/search pendant {fr(seconds, 0)} s.",
        "",
        f"| workers gunicorn | connexions en attente | recherches servies en {fr(seconds, 0)} s | p50 | p95 | max "
        "| connexions terminées (code, durée médiane) |",
        "|---|---|---|---|---|---|---|",
    ]
    target_met = True
    for index, args in enumerate(models):
        label = server_label(*args)
        for waiting, samples, sign_ins in measure_model(args, queries, hanging, seconds, fc_timeout):
            p95 = percentile_95(samples)
            if index == 0 and p95 > SEARCH_P95_TARGET_MS:
                target_met = False
            lines.append(
                f"| {label} | {waiting} | {fr(len(samples), 0)} | {duration(statistics.median(samples))} "
                f"| {duration(p95)} | {duration(max(samples))} | {_sign_ins(sign_ins) if waiting else '–'} |"
            )
    lines += ["", f"Cible (modèle de gunicorn.conf.py, connexions en attente comprises) : p95 ≤ "
                  f"{fr(SEARCH_P95_TARGET_MS, 0)} ms — {'tenue' if target_met else 'NON TENUE'}."]
    return "\n".join(lines), target_met


def main() -> int:
    from search.bench import DEV_QUERIES
    from search.evaluation import read_queries

    report, target_met = run_bench([q.query for q in read_queries(DEV_QUERIES)])
    print(report)
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
