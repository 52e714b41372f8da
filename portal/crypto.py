"""Personal free text encrypted at rest: AES-256-GCM, keys from configuration, rotation without downtime.

Complaint narratives, identities and messages are data about offences: a
copy of the database (a backup, a replica, a dump left on a laptop) must not
reveal them. Each value is sealed with AES-GCM under the newest key of
``DATA_ENCRYPTION_KEYS``; older keys stay listed until ``rotate`` has
re-sealed every row (``flask complaints rotate-keys``). The column's name is
the associated data, so a value copied into another column does not open.
A sealed column cannot be searched or compared in SQL: look rows up by
their other columns.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "g1"


class KeyFormatError(ValueError):
    """A key in DATA_ENCRYPTION_KEYS is not 32 bytes of URL-safe base64."""


class UndecryptableValue(RuntimeError):
    """A stored value no configured key opens (key removed too early, or the value was tampered with)."""


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"portail-key-id" + key).hexdigest()[:8]


def parse_keys(text: str) -> list[bytes]:
    """``DATA_ENCRYPTION_KEYS``: URL-safe base64 keys of 32 bytes, comma-separated, newest first."""
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            key = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
        except ValueError as exc:
            raise KeyFormatError("une clé n'est pas du base64 URL") from exc
        if len(key) != 32:
            raise KeyFormatError("chaque clé doit faire 32 octets (base64 de 43 caractères)")
        keys.append(key)
    return keys


def derived_key(secret: str) -> bytes:
    """Development and tests only: a key derived from SECRET_KEY, so ``make run`` needs no extra setting."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"portail-citoyen data encryption").derive(
        secret.encode()
    )


def new_key() -> str:
    """A fresh key to put first in DATA_ENCRYPTION_KEYS."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@dataclass(frozen=True)
class Keyring:
    keys: tuple[bytes, ...]

    def seal(self, plaintext: str, purpose: str) -> str:
        key = self.keys[0]
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{PREFIX}:{_key_id(key)}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str, purpose: str) -> str:
        try:
            prefix, key_id, payload = token.split(":", 2)
        except ValueError as exc:
            raise UndecryptableValue("not a sealed value") from exc
        if prefix != PREFIX:
            raise UndecryptableValue("unknown format")
        raw = base64.urlsafe_b64decode(payload)
        for key in self.keys:
            if _key_id(key) == key_id:
                try:
                    return AESGCM(key).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
                except InvalidTag as exc:
                    raise UndecryptableValue("tampered value or wrong column") from exc
        raise UndecryptableValue("no configured key opens this value")

    def is_current(self, token: str) -> bool:
        return token.split(":", 2)[1:2] == [_key_id(self.keys[0])]


def keyring() -> Keyring:
    return current_app.extensions["keyring"]


def init_app(app) -> None:
    keys = app.config["DATA_ENCRYPTION_KEYS"]
    app.extensions["keyring"] = Keyring(tuple(keys) if keys else (derived_key(app.config["SECRET_KEY"]),))


class EncryptedText(TypeDecorator):
    """A text column stored sealed; ``purpose`` (table.column) binds each value to its column."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring().seal(value, self.purpose)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring().open(value, self.purpose)


class EncryptedJSON(EncryptedText):
    """A JSON document (dict or list) stored sealed."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, ensure_ascii=False, sort_keys=True), dialect)

    def process_result_value(self, value: str | None, dialect) -> Any:
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)
