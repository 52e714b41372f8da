"""One-time sign-in codes sent by e-mail: 6 digits, 10 minutes, 5 attempts.

A code is a row of ``login_code`` whose random reference only the server-side
session of the browser that asked for it holds, so it works only there. Each
attempt is counted by one atomic UPDATE that refuses once 5 are spent:
guesses sent in parallel each count, and the right code typed after them is
refused. The code is stored as an HMAC keyed with a secret derived from the
server's ``SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from accounts.models import LoginCode
from portal.extensions import utc, write_transaction

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
SESSION_KEY = "login_code"
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class CodeError(Exception):
    """Why a code was refused, in French, for the person who typed it."""


def normalize_email(raw: str) -> str | None:
    """The address in lower case, or None if it cannot be one (control or invisible characters included)."""
    email = (raw or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        return None
    if any(unicodedata.category(c)[0] in "CZ" for c in email):  # controls, format characters, separators
        return None
    return email


def keyed_hash(secret_key: str, purpose: str, text: str) -> str:
    """HMAC-SHA256 of ``text`` under a key derived from the server's secret for ``purpose``.

    A leaked value is useless without the secret: a plain hash of a 6-digit
    code, or of a known e-mail address, is found by trying them all.
    """
    key = hashlib.sha256(f"portail-citoyen:{purpose}:".encode() + secret_key.encode()).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _digest(secret_key: str, reference: str, code: str) -> str:
    return keyed_hash(secret_key, "login-code", f"{reference}:{code}")


def issue(db_session: Session, email: str, secret_key: str, replaces: str | None = None) -> tuple[str, str]:
    """A new code for ``email``: (reference to keep in the session, code to send)."""
    code = f"{secrets.randbelow(10**6):06d}"
    reference = secrets.token_urlsafe(24)
    with write_transaction(db_session):
        if replaces:
            db_session.execute(delete(LoginCode).where(LoginCode.id == replaces))
        db_session.add(LoginCode(id=reference, email=email, code_hash=_digest(secret_key, reference, code),
                                 attempts=0, expires_at=datetime.now(UTC) + CODE_LIFETIME))
    return reference, code


def discard(db_session: Session, reference: str | None) -> None:
    if reference:
        with write_transaction(db_session):
            db_session.execute(delete(LoginCode).where(LoginCode.id == reference))


@dataclass(frozen=True)
class Pending:
    email: str
    attempts_left: int


def pending(db_session: Session, reference: str | None) -> Pending | None:
    if not reference:
        return None
    row = db_session.get(LoginCode, reference)
    if row is None or utc(row.expires_at) < datetime.now(UTC) or row.attempts >= MAX_ATTEMPTS:
        return None
    return Pending(row.email, MAX_ATTEMPTS - row.attempts)


def verify(db_session: Session, reference: str | None, typed: str, secret_key: str) -> str:
    """The e-mail address the code was sent to; raises CodeError otherwise."""
    if not reference:
        raise CodeError("Aucun code n'est en attente : demandez-en un nouveau.")
    now = datetime.now(UTC)
    with write_transaction(db_session):
        # One attempt taken, atomically, while fewer than 5 have been and the code is alive.
        taken = db_session.execute(
            update(LoginCode)
            .where(LoginCode.id == reference, LoginCode.attempts < MAX_ATTEMPTS, LoginCode.expires_at > now)
            .values(attempts=LoginCode.attempts + 1)
            .returning(LoginCode.attempts, LoginCode.code_hash, LoginCode.email)
        ).first()
    if taken is None:
        _refuse_dead_code(db_session, reference, now)
    code = re.sub(r"\s", "", typed or "")
    if re.fullmatch(r"[0-9]{6}", code) and hmac.compare_digest(_digest(secret_key, reference, code),
                                                               taken.code_hash):
        with write_transaction(db_session):
            used = db_session.execute(delete(LoginCode).where(LoginCode.id == reference)).rowcount
        if used == 1:
            return taken.email
        raise CodeError("Ce code vient d'être utilisé : demandez-en un nouveau.")
    left = MAX_ATTEMPTS - taken.attempts
    if left <= 0:
        discard(db_session, reference)
        raise CodeError("Trop d'essais : ce code n'est plus valable. Demandez-en un nouveau.")
    raise CodeError(f"Ce code n'est pas le bon. Il vous reste {left} essai{'s' if left > 1 else ''}.")


def _refuse_dead_code(db_session: Session, reference: str, now: datetime) -> None:
    """Why no attempt could be taken: no such code, expired, or every attempt spent."""
    row = db_session.execute(select(LoginCode.expires_at).where(LoginCode.id == reference)).first()
    if row is None:
        raise CodeError("Aucun code n'est en attente : demandez-en un nouveau.")
    discard(db_session, reference)
    if utc(row.expires_at) <= now:
        raise CodeError("Ce code a expiré (il est valable 10 minutes) : demandez-en un nouveau.")
    raise CodeError("Trop d'essais : ce code n'est plus valable. Demandez-en un nouveau.")


def purge_expired(db_session: Session) -> int:
    with write_transaction(db_session):
        return db_session.execute(delete(LoginCode).where(LoginCode.expires_at < datetime.now(UTC))).rowcount or 0
