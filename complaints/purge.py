"""The retention schedule: unsubmitted drafts, closed cases and past empty slots are deleted after their periods.

Run by ``flask complaints purge`` (on a schedule in production, e.g. daily):
drafts not touched for ``DRAFT_RETENTION_DAYS`` days, cases closed more than
``CLOSED_CASE_RETENTION_DAYS`` days ago, with their history, statements (PV
versions) and bookings, and the hearing slots that ended more than
``PAST_SLOT_DAYS`` ago without a booking (those of purged cases included). A
slot still booked by a kept case stays with it. The audit log of the
officers' actions is not touched here: it names cases by reference only and
has its own retention. (Agents' expired sessions: ``flask agents
purge-sessions``; citizens': ``flask accounts purge-sessions``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from complaints.models import Booking, Case, CaseEvent, Draft, HearingSlot, Statement

# A slot nobody booked is of no use once it is over; a day's grace keeps the agenda of the day before readable.
PAST_SLOT_DAYS = 1


@dataclass(frozen=True)
class Purged:
    drafts: int
    cases: int
    events: int
    statements: int
    bookings: int
    slots: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def purge(session: Session, now: datetime | None = None, draft_days: int = 30, closed_case_days: int = 180) -> Purged:
    """Delete what is past its retention at ``now``; flushed, not committed. Returns what was deleted."""
    now = now or datetime.now(UTC)
    draft_limit = now - timedelta(days=draft_days)
    case_limit = now - timedelta(days=closed_case_days)
    drafts = session.execute(delete(Draft).where(Draft.updated_at < draft_limit)).rowcount or 0
    expired = list(session.scalars(select(Case.id).where(Case.status == "cloturee", Case.closed_at.is_not(None),
                                                         Case.closed_at < case_limit)))
    events = statements = bookings = cases = 0
    if expired:
        # Explicitly, child tables first: the counts are reported, and no database's cascade is relied upon.
        bookings = _count(session, Booking, Booking.case_id.in_(expired))
        session.execute(delete(Booking).where(Booking.case_id.in_(expired)))
        statements = _count(session, Statement, Statement.case_id.in_(expired))
        session.execute(delete(Statement).where(Statement.case_id.in_(expired)))
        events = _count(session, CaseEvent, CaseEvent.case_id.in_(expired))
        session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(expired)))
        cases = session.execute(delete(Case).where(Case.id.in_(expired))).rowcount or 0
    booked = exists().where(Booking.slot_id == HearingSlot.id)
    slots = session.execute(delete(HearingSlot).where(HearingSlot.ends_at < now - timedelta(days=PAST_SLOT_DAYS),
                                                      ~booked).execution_options(synchronize_session=False)
                            ).rowcount or 0
    session.expire_all()
    return Purged(drafts=drafts, cases=cases, events=events, statements=statements, bookings=bookings, slots=slots)
