"""Mail: the SMTP backend against a real SMTP server on loopback; the outbox in development."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
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


def test_the_outbox_page_exists_only_in_development_and_tests(tmp_path):
    (tmp_path / "smtp").mkdir()
    (tmp_path / "test").mkdir()
    assert make_app(tmp_path / "smtp", MAIL_BACKEND="smtp").test_client().get("/dev/boite-mail").status_code == 404
    assert make_app(tmp_path / "test").test_client().get("/dev/boite-mail").status_code == 200


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


def _certificate(tmp_path, name: str, host: str) -> tuple[str, str, str]:
    """A certificate authority and a server certificate for ``host`` it signed: (ca, cert, key) files."""
    def key():
        return ec.generate_private_key(ec.SECP256R1())

    now = datetime.now(UTC)
    ca_key, server_key = key(), key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Autorité de test {name}")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    san = x509.IPAddress(ipaddress.ip_address(host)) if host[0].isdigit() else x509.DNSName(host)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(server_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [tmp_path / f"{name}-ca.pem", tmp_path / f"{name}-cert.pem", tmp_path / f"{name}-key.pem"]
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return tuple(str(p) for p in paths)


@contextmanager
def _tls_relay(tmp_path, certified_name: str) -> Iterator[tuple[Controller, _Inbox, str]]:
    """A relay on 127.0.0.1 that offers STARTTLS and refuses mail without it; its certificate names
    ``certified_name``. Yields the relay, its inbox and the authority that signed the certificate."""
    ca, cert, key = _certificate(tmp_path, certified_name, certified_name)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True)
    controller.start()
    try:
        yield controller, inbox, ca
    finally:
        controller.stop()


@pytest.fixture
def tls_smtp_server(tmp_path):
    with _tls_relay(tmp_path, "127.0.0.1") as relay:
        yield relay


def _tls_app(tmp_path, controller, **settings):
    return make_app(tmp_path, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                    MAIL_USE_TLS=True, **settings)


def test_a_relay_whose_certificate_is_not_trusted_gets_nothing(tmp_path, tls_smtp_server):
    controller, inbox, _ = tls_smtp_server
    with _tls_app(tmp_path, controller).app_context(), pytest.raises(MailUnavailable):
        send_mail("camille@example.org", "Votre code", "Code : 123456")
    assert inbox.messages == []


def test_a_relay_certified_by_the_configured_authority_gets_the_message(tmp_path, tls_smtp_server):
    controller, inbox, ca = tls_smtp_server
    with _tls_app(tmp_path, controller, MAIL_CA_FILE=ca).app_context():
        send_mail("camille@example.org", "Votre code", "Code : 123456")
    (message,) = inbox.messages
    assert "123456" in message.get_payload()


def test_a_certificate_for_another_name_is_refused(tmp_path):
    with _tls_relay(tmp_path, "relais.example.org") as (controller, inbox, ca):
        with _tls_app(tmp_path, controller, MAIL_CA_FILE=ca).app_context(), pytest.raises(MailUnavailable):
            send_mail("camille@example.org", "Votre code", "Code : 123456")
    assert inbox.messages == []
