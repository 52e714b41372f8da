"""What every case shares, whatever its kind: references, history, who may see it, the identity, e-mails.

This module, with the services that create and change cases (``online.submit``,
``visio.book`` / ``reschedule`` / ``cancel``, ``console``, ``statements``; see
"The interface a ministry back end would replace" in docs/complaints.md), is
what a real deployment would connect to the ministry's back end; the
officers' console stands in for that back end here.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.identity import Identity
from accounts.mail import MailUnavailable, send_mail
from complaints.models import Case, CaseEvent
from portal.errors import Refused  # noqa: F401  (complaints' modules take it from here)
from portal.extensions import db, end_reads

log = logging.getLogger(__name__)

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


def identity_of(case: Case) -> Identity:
    """The identity the citizen had at submission (the case's sealed snapshot), vouched for as the case says."""
    return dataclasses.replace(Identity.from_session(case.identity) or Identity(),
                               verified=bool(case.identity_verified))


def notify_citizen(case: Case, subject: str, body: str) -> bool:
    """E-mail the citizen of ``case`` (the address of its identity); False when it has none or the mail is down.

    The request's reads are let go first (``end_reads``): the development
    outbox writes, and its INSERT must start a transaction of its own. A mail
    server that does not answer is logged (by reference) and reported to the
    caller, which tells the user; the action that called it stays done.
    """
    reference, email = case.reference, identity_of(case).email
    if not email:
        return False
    end_reads(db.session)
    try:
        send_mail(email, subject, body)
    except MailUnavailable:
        db.session.rollback()
        log.warning("mail to the citizen not sent: reference=%s", reference)
        return False
    return True
