"""Mail: the SMTP backend against a real SMTP server on loopback; the outbox in development."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from accounts.mail import MailUnavailable, send_mail
from accounts.models import WebSession
from accounts.sessions import purge_expired
from tests.conftest import free_port, make_app


class _Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_smtp_backend_hands_the_message_to_the_server(tmp_path, smtp_server):
    controller, inbox = smtp_server
    application = make_app(tmp_path, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
                           MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    with application.app_context():
        send_mail("camille@example.org", "Votre code", "Code : 123456")
    (message,) = inbox.messages
    assert message["To"] == "camille@example.org" and message["Subject"] == "Votre code"
    assert "123456" in message.get_payload()


def test_an_unreachable_mail_server_is_reported(tmp_path):
    application = make_app(tmp_path, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
                           MAIL_PORT=free_port(), MAIL_USE_TLS=False)
    with application.app_context(), pytest.raises(MailUnavailable):
        send_mail("camille@example.org", "Votre code", "Code : 123456")


def test_production_has_no_outbox_page(tmp_path):
    application = make_app(tmp_path, MAIL_BACKEND="smtp")
    assert application.test_client().get("/dev/boite-mail").status_code == 404


def test_expired_sessions_are_purged(db_session):
    now = datetime.now(UTC)
    db_session.add_all([
        WebSession(id_hash="a" * 64, data={}, created_at=now, last_seen_at=now),
        WebSession(id_hash="b" * 64, data={}, created_at=now, last_seen_at=now - timedelta(minutes=31)),
        WebSession(id_hash="c" * 64, data={}, created_at=now - timedelta(hours=13), last_seen_at=now),
    ])
    db_session.commit()
    purge_expired(timedelta(minutes=30), timedelta(hours=12))
    ids = ["a" * 64, "b" * 64, "c" * 64]
    assert set(db_session.scalars(select(WebSession.id_hash).where(WebSession.id_hash.in_(ids)))) == {"a" * 64}
