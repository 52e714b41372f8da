"""Signing citizens in and out; the identity that goes with them."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from flask import current_app, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accounts.franceconnect import FranceConnectClient, SignedIn
from accounts.identity import Identity
from accounts.models import EMAIL_ISSUER, Account
from portal.extensions import write_transaction

audit = logging.getLogger("accounts.audit")

IDENTITY_KEY = "identity"
ID_TOKEN_KEY = "fc_id_token"


def franceconnect() -> FranceConnectClient:
    return current_app.extensions["franceconnect"]


def account_for(db_session: Session, issuer: str, subject: str, verified: bool) -> Account:
    """The account of (issuer, subject), created on first sign-in.

    One INSERT … ON CONFLICT DO UPDATE: two first sign-ins of the same person
    at the same moment get the same account, where select-then-insert gave
    one of them an IntegrityError.
    """
    now = datetime.now(UTC)
    dialect = db_session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Account)
        .values(issuer=issuer, subject=subject, identity_verified=verified, created_at=now, last_login_at=now)
        .on_conflict_do_update(index_elements=["issuer", "subject"],
                               set_={"identity_verified": verified, "last_login_at": now})
        .returning(Account.id)
    )
    with write_transaction(db_session):
        account_id = db_session.execute(statement).scalar_one()
    return db_session.get(Account, account_id)


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
