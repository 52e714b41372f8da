"""Agents' credentials: Argon2id passwords and TOTP codes (RFC 6238), checked without replays.

Passwords are hashed with argon2-cffi's RFC 9106 defaults; a hash made with
older parameters is replaced at the next successful sign-in. A TOTP code is
accepted for the current 30-second step or the one either side (clock drift),
and only for a step later than the last one accepted for that agent, so a code
seen over a shoulder or in a proxy's log is worth nothing once used.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ISSUER = "Portail citoyen"
STEP_SECONDS = 30
# One step either side of now: a phone's clock a little ahead or behind.
VALID_WINDOW = 1
MIN_PASSWORD_LENGTH = 12
CODE = re.compile(r"[0-9]{6}")

hasher = PasswordHasher()
# Verified against when the e-mail matches no agent, so that an unknown address takes as long as a known one.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False for an empty or damaged hash (never raises)."""
    if not password_hash:
        hasher_burn(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hasher_burn(password: str) -> None:
    """Spend the time of one verification, for an unknown e-mail or an agent without a password."""
    try:
        hasher.verify(_DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def password_problem(password: str) -> str | None:
    """Why a new password is refused (in French), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
    if len(password) > 1024:
        return "Le mot de passe ne doit pas dépasser 1 024 caractères."
    return None


def generate_password() -> str:
    """A random password of 20 characters (letters and digits, about 119 bits)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator application reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def normalise_code(value: str | None) -> str | None:
    """The 6 digits typed, spaces removed ("123 456", " 123456"); None when it is not 6 ASCII digits."""
    if value is None:
        return None
    compact = "".join(value.split())
    return compact if CODE.fullmatch(compact) else None


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def accepted_step(secret: str | None, code: str | None, now: datetime, last_step: int) -> int | None:
    """The time step ``code`` belongs to, if it is valid at ``now`` and later than ``last_step``; else None."""
    code = normalise_code(code)
    if not secret or code is None:
        return None
    totp = pyotp.TOTP(secret)
    current = time_step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
