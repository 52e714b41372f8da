"""Run the portal under gunicorn on a free loopback port, for ``make bench``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from portal.config import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_portal(workers: int = 2, **env: str) -> Iterator[str]:
    """Yield the base URL of the portal, served as in production, until the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT, env=dict(os.environ, **env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError as exc:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("the portal did not start under gunicorn") from exc
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
