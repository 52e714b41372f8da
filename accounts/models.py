"""Accounts, server-side sessions and the development outbox."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

EMAIL_ISSUER = "urn:portail-citoyen:email"


class Account(UserMixin, db.Model):
    """A citizen's account, keyed on who vouches for them (the issuer) and the subject they give.

    For FranceConnect the subject is ``sub``, pairwise for this portal; never
    the e-mail address, which several people may share. Identity claims are
    not stored here: they live in the server-side session for as long as the
    person is signed in.
    """

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(128))
    # True when FranceConnect vouched for the identity; False for an e-mail sign-in.
    identity_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def signed_in_with_franceconnect(self) -> bool:
        return self.issuer != EMAIL_ISSUER


class WebSession(db.Model):
    """A browser session kept on the server: the cookie holds only a random identifier."""

    __tablename__ = "web_session"

    # SHA-256 of the cookie's value: a copy of this table opens no session.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginCode(db.Model):
    """A one-time code sent by e-mail, until it is used, spent (5 attempts) or expired (10 minutes).

    Attempts are counted here, one atomic UPDATE each, so that guesses sent in
    parallel each count. The code itself is kept only as a keyed hash (HMAC
    with a key derived from the server's secret): a leaked row is useless
    without the secret, where a plain hash of 6 digits reverses in seconds.
    """

    __tablename__ = "login_code"

    # Random reference kept in the browser's server-side session: the code works only there.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxMessage(db.Model):
    """An e-mail the development and test setups keep instead of sending (see accounts.mail)."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
