"""The citizen's data: the export of everything the portal holds ("Mes données"), and its French reading.

Accounts builds the export's own part (the account, the identity in the session) and merges each registered
``SpaceSection``'s share (``accounts.SpaceSection``); the readable page shows each part with the labels of
whoever wrote it: ``LABELS`` here, a section's ``labels`` and ``words`` for its share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from accounts import SpaceSection
from accounts.identity import GENDERS, Identity
from accounts.models import Account
from portal.dates import format_datetime
from portal.extensions import utc

# The export's top-level keys that are accounts' own: a section's share never uses them.
OWN_KEYS = ("exported_at", "account", "identity_in_session")

# Every key of accounts' part of the export, and of an identity wherever it appears (a section's share may
# hold one: a case's identity), in French, in the order the page shows them.
LABELS = {
    "exported_at": "Date de l’export", "account": "Compte", "identity_in_session": "Identité dans votre session",
    # the account
    "id": "Numéro du compte", "sign_in": "Mode de connexion", "issuer": "Fournisseur d’identité",
    "subject": "Votre identifiant chez le fournisseur d’identité",
    # an identity
    "given_names": "Prénoms", "family_name": "Nom", "birthdate": "Date de naissance", "gender": "Sexe",
    "birthplace": "Commune de naissance (code INSEE)", "birthcountry": "Pays de naissance (code INSEE)",
    "email": "Adresse électronique", "verified": "Identité vérifiée par FranceConnect",
    # the account (continued)
    "identity_verified": "Identité vérifiée par FranceConnect",
    "created_at": "Créé le", "last_login_at": "Dernière connexion le",
}
TIMESTAMP_KEYS = {"exported_at", "created_at", "last_login_at"}
SIGN_IN_LABELS = {"franceconnect": "FranceConnect", "email": "Code reçu par courriel"}


def iso(value: datetime | None) -> str | None:
    """A moment as the export writes it: ISO 8601, in UTC."""
    return utc(value).isoformat() if value else None


def own_share(account: Account, identity: Identity | None, now: datetime) -> dict:
    """Accounts' part of the export: the account and the identity kept in the session."""
    return {
        "exported_at": iso(now),
        "account": {
            "id": account.id,
            "sign_in": "franceconnect" if account.signed_in_with_franceconnect else "email",
            # Who vouches for the citizen, and the identifier it gives (FranceConnect's pairwise ``sub``,
            # or the fingerprint of the e-mail address).
            "issuer": account.issuer, "subject": account.subject,
            "identity_verified": account.identity_verified,
            "created_at": iso(account.created_at),
            "last_login_at": iso(account.last_login_at),
        },
        "identity_in_session": identity.to_session() if identity else None,
    }


def shares(session: Session, account: Account, sections: Iterable[SpaceSection],
           now: datetime | None = None) -> list[tuple[SpaceSection, dict]]:
    """Each section's share of the export, for the same ``now`` as ``export``'s."""
    now = now or datetime.now(UTC)
    return [(section, section.export(session, account, now)) for section in sections]


def export(session: Session, account: Account, identity: Identity | None, sections: Iterable[SpaceSection],
           now: datetime | None = None) -> dict:
    """Everything the portal holds about the citizen, as JSON-ready data (dates in ISO 8601, UTC)."""
    now = now or datetime.now(UTC)
    return merged(own_share(account, identity, now), shares(session, account, sections, now))


def merged(own: dict, parts: list[tuple[SpaceSection, dict]]) -> dict:
    """Accounts' part and the sections' shares in one export; a key given twice is a programming error."""
    data = dict(own)
    for section, share in parts:
        taken = data.keys() & share.keys()
        if taken:
            raise ValueError(f"{section.template}: export keys already taken: {sorted(taken)}")
        data.update(share)
    return data


# --- the export as a page to read (templates/accounts/my_data.html) -------------------------------------------------


@dataclass(frozen=True)
class Fields:
    """A group of (French label, value) rows; a value is text, a ``Fields``, or a list of them."""

    rows: list[tuple[str, object]]


def paris_time_text(text: str) -> str:
    """A moment of the export (ISO 8601) as the citizen reads it: "3 décembre 2026 à 9 h 00 (heure de Paris)"."""
    try:
        return format_datetime(datetime.fromisoformat(text)) + " (heure de Paris)"
    except ValueError:
        return text


def _own_words(key: str, text: str) -> str | None:
    if key in TIMESTAMP_KEYS:
        return paris_time_text(text)
    if key == "birthdate":
        return Identity(birthdate=text).birthdate_text
    if key == "gender":
        return GENDERS.get(text, text)
    if key == "sign_in":
        return SIGN_IN_LABELS.get(text, text)
    return None


def readable_value(key: str, value, section: SpaceSection | None = None) -> object:
    """A value of the export in French: "—" when empty, "oui"/"non", dates in Paris time, codes in words."""
    if isinstance(value, dict):
        return readable(value, section)
    if isinstance(value, list):
        if key == "given_names":
            return " ".join(str(v) for v in value)
        return [readable_value(key, v, section) for v in value]
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    text = str(value)
    shown = section.words(key, text) if section else None
    if shown is None:
        shown = _own_words(key, text)
    return text if shown is None else shown


def readable(data: dict, section: SpaceSection | None = None) -> Fields:
    """``data`` (a part of the export: accounts', or ``section``'s share) with French labels and values.

    The section's keys come first, in the order of its labels, then accounts' (an identity within its share).
    A code whose French label sits beside it (``kind`` and ``kind_label``, an event's ``kind`` and ``label``)
    is shown by its label only. A key without a French label keeps its name (``tests/complaints/test_space.py``
    makes sure none is left).
    """
    theirs = dict(section.labels) if section else {}
    order: dict[str, int] = {}
    for key in (*theirs, *LABELS):
        order.setdefault(key, len(order))
    rows = []
    for key, value in sorted(data.items(), key=lambda item: order.get(item[0], len(order))):
        if f"{key}_label" in data or (key == "kind" and "label" in data):
            continue  # the code, shown by its French label
        rows.append((theirs.get(key) or LABELS.get(key, key), readable_value(key, value, section)))
    return Fields(rows)
