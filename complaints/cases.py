"""What every case shares, whatever its kind: references, history, and who may see it.

This module and ``complaints.backend`` are the interface a real deployment
would connect to the ministry's back end; the officers' console stands in
for that back end here.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints.models import Case, CaseEvent

# Crockford-like alphabet: no 0/O, 1/I/L, U; six characters give 31**6 ≈ 887 million references a year.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = {"plainte_en_ligne": "PEL", "visio_plainte": "VIS"}


def new_reference(kind: str, now: datetime | None = None) -> str:
    """PEL-2026-7K3M9Q: the kind, the year, six random characters (``secrets``: unguessable)."""
    year = (now or datetime.now(UTC)).year
    suffix = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{PREFIXES[kind]}-{year}-{suffix}"


def record_event(db_session: Session, case: Case, actor: str, kind: str, message: str | None = None,
                 agent_id: int | None = None, now: datetime | None = None) -> CaseEvent:
    """Add a step to the case's history (flushed, not committed)."""
    at = now or datetime.now(UTC)
    event = CaseEvent(case=case, at=at, actor=actor, kind=kind, message=message, agent_id=agent_id)
    db_session.add(event)
    case.updated_at = at
    return event


def citizen_case(db_session: Session, account_id: int, reference: str) -> Case | None:
    """The citizen's own case, or None: another citizen's reference answers exactly like an unknown one."""
    return db_session.scalar(select(Case).where(Case.reference == reference, Case.account_id == account_id))


def unit_case(db_session: Session, unit_id: str | None, reference: str) -> Case | None:
    """A case of the officer's unit, or None (a case of another unit is as unknown as a wrong reference)."""
    if not unit_id:
        return None
    return db_session.scalar(select(Case).where(Case.reference == reference, Case.unit_id == unit_id))
