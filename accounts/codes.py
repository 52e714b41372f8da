"""One-time sign-in codes sent by e-mail: 6 digits, 10 minutes, 5 attempts.

The code is kept (hashed) in the server-side session of the browser that
asked for it, so it works only there.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass

CODE_SECONDS = 10 * 60
MAX_ATTEMPTS = 5
SESSION_KEY = "login_code"
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class CodeError(Exception):
    """Why a code was refused, in French, for the person who typed it."""


def normalize_email(raw: str) -> str | None:
    email = (raw or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        return None
    return email


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def issue(session: MutableMapping, email: str) -> str:
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    session[SESSION_KEY] = {"email": email, "salt": salt, "digest": _digest(salt, code),
                            "expires": time.time() + CODE_SECONDS, "attempts": 0}
    return code


@dataclass(frozen=True)
class Pending:
    email: str
    attempts_left: int


def pending(session: MutableMapping) -> Pending | None:
    data = session.get(SESSION_KEY)
    if not data or data["expires"] < time.time():
        return None
    return Pending(data["email"], MAX_ATTEMPTS - data["attempts"])


def verify(session: MutableMapping, typed: str) -> str:
    """The e-mail address the code was sent to; raises CodeError otherwise."""
    data = session.get(SESSION_KEY)
    if not data:
        raise CodeError("Aucun code n'est en attente : demandez-en un nouveau.")
    if data["expires"] < time.time():
        session.pop(SESSION_KEY, None)
        raise CodeError("Ce code a expiré (il est valable 10 minutes) : demandez-en un nouveau.")
    code = re.sub(r"\s", "", typed or "")
    if re.fullmatch(r"\d{6}", code) and secrets.compare_digest(_digest(data["salt"], code), data["digest"]):
        session.pop(SESSION_KEY, None)
        return data["email"]
    data["attempts"] += 1
    if data["attempts"] >= MAX_ATTEMPTS:
        session.pop(SESSION_KEY, None)
        raise CodeError("Trop d'essais : ce code n'est plus valable. Demandez-en un nouveau.")
    session[SESSION_KEY] = data
    left = MAX_ATTEMPTS - data["attempts"]
    raise CodeError(f"Ce code n'est pas le bon. Il vous reste {left} essai{'s' if left > 1 else ''}.")
