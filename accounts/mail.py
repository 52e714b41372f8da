"""Sending e-mail: kept in a local outbox in development and tests, SMTP in production."""

from __future__ import annotations

import smtplib
import ssl
import sys
from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app

from accounts.models import OutboxMessage
from portal.extensions import db

# Seconds for each exchange with the relay: a slow relay must not hold a worker thread for long.
SMTP_TIMEOUT = 10


class MailUnavailable(RuntimeError):
    """The message could not be handed to the mail server."""


def send_mail(recipient: str, subject: str, body: str) -> None:
    config = current_app.config
    if config["MAIL_BACKEND"] == "outbox":
        db.session.add(OutboxMessage(recipient=recipient, subject=subject, body=body,
                                     created_at=datetime.now(UTC)))
        db.session.commit()
        if not current_app.testing:
            # Development only: the developer reads the code in the console or on /dev/boite-mail.
            print(f"[boîte d'envoi locale] À : {recipient} — {subject}\n{body}\n", file=sys.stderr)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    try:
        # Login codes travel in these messages: the relay's certificate and name are always checked.
        context = ssl.create_default_context(cafile=config["MAIL_CA_FILE"])
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT,
                                    context=context)
        else:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT)
        with smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=context)
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("mail not sent: %s", type(exc).__name__)
        raise MailUnavailable(type(exc).__name__) from exc
