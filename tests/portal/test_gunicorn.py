"""gunicorn as production runs it (gunicorn.conf.py), over real HTTP on loopback.

Two promises: the portal keeps serving while sign-ins wait on FranceConnect
(threaded workers), and gunicorn believes no forwarded header of its own, so
that TRUSTED_PROXIES (werkzeug's ProxyFix, portal/security.py) alone decides
what a request's scheme is.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest

from portal.benchserver import gunicorn_settings, running_portal
from scripts.bench_workers import slow_franceconnect, start_sign_in
from tests import small_portal

HSTS = "Strict-Transport-Security"
# Every header gunicorn's default secure_scheme_headers would have read as "this request came over https".
SECURE_SCHEME_HEADERS = [{"X-Forwarded-Proto": "https"}, {"X-Forwarded-Ssl": "on"},
                         {"X-Forwarded-Protocol": "ssl"}]


@pytest.fixture(scope="module")
def portal_env(tmp_path_factory):
    return small_portal.build(tmp_path_factory.mktemp("gunicorn"))


def _get(url: str, headers: dict[str, str] | None = None):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30)
    except urllib.error.HTTPError as answer:
        return answer


def test_the_worker_model_is_threads_sized_by_the_environment():
    cfg = gunicorn_settings()
    assert (cfg.worker_class_str, cfg.workers, cfg.threads) == ("gthread", 2, 8)
    cfg = gunicorn_settings(WEB_CONCURRENCY="4", GUNICORN_THREADS="16")
    assert (cfg.worker_class_str, cfg.workers, cfg.threads) == ("gthread", 4, 16)
    # The command line still wins, as the bench's comparison with the old model needs.
    assert gunicorn_settings("--worker-class", "sync", "--threads", "1").worker_class_str == "sync"


@pytest.mark.parametrize("value", ["0", "huit", "-2"])
def test_a_meaningless_worker_count_is_refused(value):
    with pytest.raises(ValueError, match="GUNICORN_THREADS"):
        gunicorn_settings(GUNICORN_THREADS=value)


def test_what_production_must_not_have_is_off():
    cfg = gunicorn_settings()
    assert cfg.accesslog is None  # search queries can be personal
    assert cfg.control_socket_disable is True
    assert cfg.bind == ["127.0.0.1:8000"]  # not 0.0.0.0:$PORT, gunicorn's default when PORT is set
    assert cfg.max_requests > 0 and cfg.max_requests_jitter > 0
    assert cfg.graceful_timeout > 0 and cfg.timeout > 0


def _raw(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        return connection.recv(100)


def test_the_server_log_never_quotes_a_search(portal_env, tmp_path):
    """gunicorn's error log tells which requests it refused, without what they asked for."""
    error_log = tmp_path / "gunicorn.log"
    with running_portal("--error-logfile", str(error_log), **portal_env) as base:
        for request in (b"GET /recherche?q=mon mari me frappe HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET /recherche?q=mon+mari\x01frappe HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET /api/v1/search?q=mon+mari+me+frappe HTTP/7.1\r\nHost: x\r\n\r\n"):
            assert _raw(base, request).startswith(b"HTTP/1.1 400")
    log = error_log.read_text()
    assert log.count("Invalid request: Invalid HTTP") == 3, log
    assert "ip=" not in log  # nor who sent them
    assert "mari" not in log and "frappe" not in log


def test_search_answers_while_sign_ins_wait_for_franceconnect(portal_env):
    """One worker process, three sign-ins held by FranceConnect, and the search still answers."""
    with slow_franceconnect(delay=120) as fc, running_portal(
        "--workers", "1", **dict(portal_env, FRANCECONNECT_ISSUER=fc.issuer, FRANCECONNECT_TIMEOUT="120",
                                 TRUSTED_PROXIES="1"),
    ) as base:
        answers: list[tuple[int, str]] = []
        citizens = [threading.Thread(target=lambda i=i: answers.append(start_sign_in(base, f"10.0.0.{i}")))
                    for i in range(1, 4)]
        for citizen in citizens:
            citizen.start()
        # Under sync workers only one would get this far; the others would wait for the worker.
        assert fc.wait_for(3, timeout=30), "the three sign-ins were not waiting on FranceConnect together"
        found = json.load(_get(f"{base}/api/v1/search?q=plainte"))
        assert found["results"]
        assert fc.waiting == 3 and answers == [], "the search was answered once the sign-ins were over"
        fc.stall.release.set()
        for citizen in citizens:
            citizen.join(timeout=60)
    assert [status for status, _ in answers] == [303, 303, 303]
    assert all(location.startswith(f"{fc.issuer}/authorize?") for _, location in answers)


def test_gunicorn_believes_no_forwarded_header_when_no_proxy_is_trusted(portal_env):
    with running_portal(**dict(portal_env, TRUSTED_PROXIES="0")) as base:
        for header in SECURE_SCHEME_HEADERS:
            response = _get(f"{base}/healthz", header)
            assert response.status == 200
            assert HSTS not in response.headers, header
        found = json.load(_get(f"{base}/api/v1/search?q=plainte", {"X-Forwarded-Proto": "https"}))
        urls = [hit["url"] for hit in found["results"]]
        assert urls and all(url.startswith("http://") for url in urls)
        # gunicorn's forwarder_headers: SCRIPT_NAME from a "trusted" 127.0.0.1 would move every URL.
        assert _get(f"{base}/ailleurs/healthz", {"SCRIPT_NAME": "/ailleurs"}).status == 404


def test_a_trusted_proxy_is_believed_through_the_application(portal_env):
    with running_portal(**dict(portal_env, TRUSTED_PROXIES="1")) as base:
        response = _get(f"{base}/healthz", {"X-Forwarded-Proto": "https"})
        assert response.headers[HSTS] == "max-age=31536000; includeSubDomains"
        # ProxyFix reads X-Forwarded-Proto only: the other spellings are nobody's.
        assert HSTS not in _get(f"{base}/healthz", {"X-Forwarded-Ssl": "on"}).headers
        assert HSTS not in _get(f"{base}/healthz").headers
