"""Signing citizens in and out; the identity that goes with them."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from flask import current_app, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.franceconnect import FranceConnectClient, SignedIn
from accounts.identity import Identity
from accounts.models import EMAIL_ISSUER, Account

audit = logging.getLogger("accounts.audit")

IDENTITY_KEY = "identity"
ID_TOKEN_KEY = "fc_id_token"


def franceconnect() -> FranceConnectClient:
    return current_app.extensions["franceconnect"]


def account_for(db_session: Session, issuer: str, subject: str, verified: bool) -> Account:
    """The account of (issuer, subject), created on first sign-in."""
    now = datetime.now(UTC)
    account = db_session.scalars(
        select(Account).where(Account.issuer == issuer, Account.subject == subject)
    ).first()
    if account is None:
        account = Account(issuer=issuer, subject=subject, created_at=now)
        db_session.add(account)
    account.identity_verified = verified
    account.last_login_at = now
    db_session.commit()
    return account


def sign_in(account: Account, identity: Identity, id_token: str | None = None) -> None:
    """New session identifier, then the account and its identity in the server-side session."""
    session.regenerate()
    login_user(account)
    session[IDENTITY_KEY] = identity.to_session()
    if id_token:
        session[ID_TOKEN_KEY] = id_token
    audit.info("login ok: method=%s account=%s",
               "franceconnect" if account.signed_in_with_franceconnect else "email", account.id)


def sign_in_with_franceconnect(db_session: Session, result: SignedIn) -> Account:
    account = account_for(db_session, result.issuer, result.subject, verified=True)
    sign_in(account, Identity.from_claims(result.claims, verified=True), result.id_token)
    return account


def sign_in_with_email(db_session: Session, email: str) -> Account:
    # The e-mail is the login here, but the account keeps only its hash.
    subject = hashlib.sha256(email.encode()).hexdigest()
    account = account_for(db_session, EMAIL_ISSUER, subject, verified=False)
    sign_in(account, Identity(email=email, verified=False))
    return account


def current_identity() -> Identity | None:
    if not current_user.is_authenticated:
        return None
    return Identity.from_session(session.get(IDENTITY_KEY))


def sign_out() -> str | None:
    """End the local session; returns the id_token FranceConnect's logout needs, if any."""
    id_token = session.get(ID_TOKEN_KEY)
    if current_user.is_authenticated:
        audit.info("logout: account=%s", current_user.id)
    logout_user()
    session.end()
    return id_token
