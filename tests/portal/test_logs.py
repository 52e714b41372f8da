"""Logs: one record a line, nothing a visitor can forge, no SQL parameter ever."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from accounts.models import WebSession
from accounts.views import _email_key
from portal.extensions import db
from portal.logs import FORMAT, OneLineFormatter
from portal.security import limiter
from tests.conftest import make_app

FORGED = "script-src\nlogin ok: method=franceconnect account=1"
RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ ")


@pytest.fixture
def log_text():
    """What the portal's console handler would print, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.setLevel(previous)
    root.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_csp_report_cannot_forge_an_audit_line(client, log_text):
    report = {"csp-report": {"document-uri": "http://localhost/\nlogin ok: method=email account=2",
                             "effective-directive": FORGED, "blocked-uri": "inline\r\nlogin ok: x"}}
    response = client.post("/csp-report", data=json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    lines = _lines(log_text)
    assert any("csp violation" in line for line in lines)
    assert all(RECORD_START.match(line) for line in lines)
    assert not any(line.startswith("login ok") for line in lines)
    assert "\\x0alogin ok: method=franceconnect account=1" in log_text.getvalue()


def test_a_traceback_stays_under_its_record(log_text):
    try:
        raise ValueError(f"refusé : {FORGED}")
    except ValueError:
        logging.getLogger("portal.test").exception("unexpected error on %s", "/x\nlogin ok: y")
    lines = _lines(log_text)
    assert RECORD_START.match(lines[0]) and "\\x0alogin ok: y" in lines[0]
    assert len(lines) > 2 and all(line.startswith("    | ") for line in lines[1:])


def test_sql_parameters_never_reach_an_exception_or_a_log(tmp_path, caplog):
    application = make_app(tmp_path)
    secret = {"csrf_token": "jeton-a-ne-jamais-journaliser", "email": "camille@example.org"}
    now = datetime.now(UTC)
    row = {"id_hash": "h" * 64, "data": secret, "created_at": now, "last_seen_at": now}
    with application.app_context(), caplog.at_level(logging.DEBUG):
        db.session.execute(insert(WebSession).values(**row))
        db.session.commit()
        with pytest.raises(IntegrityError) as failed:
            db.session.execute(insert(WebSession).values(**row))
        db.session.rollback()
        logging.getLogger("portal.test").exception("database error", exc_info=failed.value)
    assert "parameters hidden" in str(failed.value)
    for text in (str(failed.value), caplog.text):
        assert "jeton-a-ne-jamais-journaliser" not in text and "camille@example.org" not in text


def test_a_limit_reached_logs_no_address(app, caplog):
    client = app.test_client()
    visitor = {"REMOTE_ADDR": "203.0.113.77"}
    limiter.reset()
    with caplog.at_level(logging.DEBUG):
        statuses = [client.post("/csp-report", data="{}", environ_base=visitor).status_code for _ in range(61)]
    limiter.reset()
    assert statuses[-1] == 429
    assert "203.0.113.77" not in caplog.text


def test_the_login_code_limit_key_is_no_plain_hash_of_the_address(tmp_path):
    email = "camille@example.org"
    keys = set()
    for secret in ("premier-secret-de-test-assez-long-00", "second-secret-de-test-assez-long-000"):
        (tmp_path / secret[:6]).mkdir()
        application = make_app(tmp_path / secret[:6], SECRET_KEY=secret)
        with application.test_request_context("/connexion/email", method="POST", data={"email": email}):
            keys.add(_email_key())
    assert len(keys) == 2 and hashlib.sha256(email.encode()).hexdigest() not in keys


@pytest.mark.parametrize("uri", ["http://[x/", "https://[::1/page", "http://]/"])
def test_a_malformed_report_is_logged_as_invalid_never_a_500(client, caplog, uri):
    report = {"csp-report": {"document-uri": uri, "effective-directive": "img-src", "blocked-uri": uri}}
    with caplog.at_level(logging.WARNING):
        response = client.post("/csp-report", data=json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert "page=invalide directive=img-src blocked=invalide" in caplog.text
