"""The harness of ``make bench``: the portal under gunicorn, as production serves it.

``running_portal`` serves the application factory with gunicorn.conf.py, the
settings production uses; extra command-line options (``SYNC_ARGS``) let a
bench compare another worker model. The slow FranceConnect of the sign-in
bench lives with that bench (scripts/bench_workers.py): the local FranceConnect
is a development tool, not part of what production installs.
tests/test_bench.py runs every bench on a small database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from portal.config import ROOT

# What production runs (README): the factory, with the settings of gunicorn.conf.py.
APP = "app:create_app()"
CONFIG = ROOT / "gunicorn.conf.py"
# The worker model before issue 9, for comparison: one request at a time per process.
SYNC_ARGS = ("--worker-class", "sync", "--threads", "1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_settings(*args: str, **env: str):
    """The settings gunicorn will run with, read as gunicorn reads them: the file, then ``args``."""
    import runpy

    from gunicorn.config import Config

    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        from_file = runpy.run_path(str(CONFIG))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    cfg = Config()
    for name, value in from_file.items():
        if name in cfg.settings:
            cfg.set(name, value)
    for name, value in vars(cfg.parser().parse_args([*args, APP])).items():
        if value is not None and name != "args":
            cfg.set(name, value)
    return cfg


def server_label(*args: str, **env: str) -> str:
    """« gthread, 2 processus × 8 threads »: what a bench ran on, for its report."""
    cfg = gunicorn_settings(*args, **env)
    model = cfg.worker_class_str
    if model == "gthread":
        return f"gthread, {cfg.workers} processus × {cfg.threads} threads"
    return f"{model}, {cfg.workers} processus"


@contextmanager
def running_portal(*args: str, probe_host: str | None = None, **env: str) -> Iterator[str]:
    """Yield the base URL of the portal served by gunicorn on a free loopback port, until the block ends.

    ``args`` are added to gunicorn's command line (after the settings file,
    which they override); ``env`` to the environment of the portal.
    ``probe_host``: the Host header of the start-up probe, for a portal that
    answers only its own host names (production).
    """
    port = free_port()
    probe_headers = {"Host": probe_host} if probe_host else {}
    with tempfile.TemporaryFile() as log:
        # gunicorn's error log, not the access log (there is none): why it did not start, if it did not.
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), *args,
             "--bind", f"127.0.0.1:{port}", APP],
            cwd=ROOT, env=dict(os.environ, **env), stdout=subprocess.DEVNULL, stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    probe = urllib.request.Request(f"{base}/healthz", headers=probe_headers)
                    urllib.request.urlopen(probe, timeout=2).read()
                    break
                except OSError as exc:
                    if time.monotonic() > deadline or server.poll() is not None:
                        log.seek(0)
                        tail = log.read().decode(errors="replace")[-3000:]
                        raise RuntimeError(f"the portal did not start under gunicorn ({APP}):\n{tail}") from exc
                    time.sleep(0.1)
            yield base
        finally:
            server.terminate()  # graceful: requests in flight end first (graceful_timeout)
            try:
                server.wait(timeout=45)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def percentile_95(samples: list[float]) -> float:
    """The 95th percentile, as every table of docs/benchmarks.md reads it (nearest rank)."""
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def fr(value: float, digits: int = 1) -> str:
    """A number as the French tables of docs/benchmarks.md write it: 4 819 ; 3,8."""
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")
