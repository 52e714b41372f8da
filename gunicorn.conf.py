"""gunicorn settings, and the only place they live: ``make run``, ``make bench`` and production read this file.

    gunicorn -c gunicorn.conf.py 'app:create_app()'

The command line still wins over this file (``-b``, ``-w``...). Written for
the gunicorn that pyproject.toml installs (27.0 when this was last checked).
"""

from __future__ import annotations

import logging
import os


def _count(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


# -- Worker model -------------------------------------------------------------
# Threads, not one process per request. A sign-in waits inside the request for
# FranceConnect (discovery, token, keys, userinfo: FRANCECONNECT_TIMEOUT each)
# and the e-mail code for the SMTP relay; with sync workers, as many slow
# sign-ins as workers froze the whole portal (docs/benchmarks.md, "Serveur").
# A thread waiting on the network releases the GIL, so the others
# keep serving. Every outbound call must carry a timeout: gthread's `timeout`
# below does not bound a request, only a stuck worker.
worker_class = "gthread"
# Processes: about one per CPU core. Search and page rendering are CPU-bound
# Python, which the GIL runs one thread at a time per process.
workers = _count("WEB_CONCURRENCY", 2)
# Threads per process: requests that may wait at the same time (FranceConnect,
# SMTP, the database). Each thread keeps its own search index reader.
threads = _count("GUNICORN_THREADS", 8)

# Loopback only, behind the TLS proxy; `-b` on the command line for another address.
# Without this, gunicorn listens on 0.0.0.0:$PORT whenever PORT is set (make run sets it),
# where anyone could bypass the proxy and forge its X-Forwarded-* headers.
bind = ["127.0.0.1:8000"]

# A worker whose main loop stops answering the arbiter for 30 s is killed and replaced.
timeout = 30
# A restart or a stop lets requests in flight finish: a sign-in waiting on FranceConnect
# takes at most a few FRANCECONNECT_TIMEOUT (5 s each).
graceful_timeout = 30
# Recycle workers now and then (a slow leak cannot grow forever), at staggered times so
# that they never all warm up at once. Not too often: warming up costs 0.7 s of CPU.
max_requests = 10000
max_requests_jitter = 1000

# -- Logs ----------------------------------------------------------------------
# No access log: search queries can be personal ("mon mari me frappe").
accesslog = None


class RequestsUnquoted(logging.Filter):
    """gunicorn's error log quotes the request it fails on; the error is kept, never the request or its sender.

    "Invalid request from ip=…: Invalid HTTP request line: 'GET /recherche?q=…'" and
    "Error handling request GET /recherche?q=…" would write a citizen's search, and their address,
    into the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Invalid request from ip="):
            _, _, error = message.partition(": ")
            # "Invalid HTTP request line", without the line nor the address it came from
            message = f"Invalid request: {error.split(':', 1)[0]}"
        elif message.startswith("Error handling request "):
            message = message.split("?", 1)[0]  # the path, without the query string
        else:
            return True
        record.msg, record.args = message, ()
        return True


def on_starting(server) -> None:
    """Before the workers are forked, so that they all inherit the filter."""
    error_log = logging.getLogger("gunicorn.error")
    if not any(isinstance(f, RequestsUnquoted) for f in error_log.filters):
        error_log.addFilter(RequestsUnquoted())


# -- Forwarded headers -----------------------------------------------------------
# The application alone decides which proxy to believe: werkzeug's ProxyFix with
# TRUSTED_PROXIES hops (portal/security.py). gunicorn must believe no one, else it sets
# the scheme from X-Forwarded-Proto/-Ssl/-Protocol for any client on 127.0.0.1 (its
# default), whatever TRUSTED_PROXIES says. All three settings are needed: gunicorn trusts
# every peer of a UNIX socket whatever forwarded_allow_ips holds, so the header lists
# themselves must be empty too.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# Headers with "_" (SCRIPT_NAME, PATH_INFO by default) that a trusted peer may set in the
# WSGI environment: none (they would move every URL the portal writes).
forwarder_headers = ""

# gunicorn ≥ 25.1 opens a control socket (workers up and down, reload) in $HOME by default.
# Nothing here uses it: one fewer door.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Each worker warms up before its first request, so that no visitor waits for it."""
    from app import warm_up

    warm_up(worker.wsgi)
