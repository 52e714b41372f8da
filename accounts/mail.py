"""Sending e-mail: kept in a local outbox in development and tests, SMTP in production."""

from __future__ import annotations

import smtplib
import sys
from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app

from accounts.models import OutboxMessage
from portal.extensions import db


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
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("mail not sent: %s", type(exc).__name__)
        raise MailUnavailable(type(exc).__name__) from exc
