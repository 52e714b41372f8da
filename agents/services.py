"""Agents' accounts, sign-in (password + TOTP, lockout) and sessions, apart from citizens'.

The functions take the database session and, where time matters, ``now``:
tests freeze time by passing it. They add and flush; the caller commits.

An agent's session is a random token in a cookie of its own (``portail_agent``,
path /agents, HttpOnly, SameSite=Lax, Secure like the citizens' cookie); the
database keeps its SHA-256 only, in ``agent_session``. It ends after
AGENT_SESSION_IDLE_MINUTES without a request or AGENT_SESSION_ABSOLUTE_HOURS in
all, and at sign-out. Citizens' sessions (Flask's, accounts/sessions.py) are
separate: a citizen signed in with FranceConnect is no agent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_request_context, request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agents import audit, passwords
from agents.models import ROLES, Agent, AgentSession, AuditEvent
from maps.models import Station
from portal.extensions import db, utc

log = logging.getLogger("agents.audit")

COOKIE_NAME = "portail_agent"
COOKIE_PATH = "/agents"
# Writing last_seen_at on every request would make every page a write.
TOUCH_EVERY = timedelta(seconds=30)
_MISSING = object()


class AgentError(ValueError):
    """Refused input when creating an agent (a French message)."""


# --- Accounts ---------------------------------------------------------------------------------

def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()[:254]


def find_agent(db_session: Session, email: str) -> Agent | None:
    email = normalise_email(email)
    return db_session.scalar(select(Agent).where(Agent.email == email)) if email else None


def create_agent(db_session: Session, email: str, roles: list[str] | tuple[str, ...], unit_id: str | None = None,
                 password: str | None = None, display_name: str = "", totp_secret: str | None = None,
                 now: datetime | None = None) -> tuple[Agent, str]:
    """A new active agent; returns (agent, TOTP secret). Raises AgentError with a French message."""
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AgentError("Adresse électronique invalide.")
    roles = list(dict.fromkeys(roles))
    if not roles:
        raise AgentError("Indiquez au moins un rôle (" + ", ".join(ROLES) + ").")
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise AgentError(f"Rôle inconnu : {', '.join(unknown)}. Rôles possibles : {', '.join(ROLES)}.")
    if unit_id and db_session.get(Station, unit_id) is None:
        raise AgentError(f"Unité inconnue : {unit_id}. Indiquez l'identifiant d'un commissariat ou d'une "
                         "brigade (table station, par exemple commissariat_police-72181-01).")
    if "officer" in roles and not unit_id:
        raise AgentError("Un officier doit être rattaché à une unité (--unit).")
    if find_agent(db_session, email) is not None:
        raise AgentError("Un agent existe déjà avec cette adresse électronique.")
    if password is not None and (problem := passwords.password_problem(password)):
        raise AgentError(problem)
    secret = totp_secret or passwords.new_totp_secret()
    agent = Agent(email=email, display_name=display_name.strip()[:120], roles=roles, unit_id=unit_id or None,
                  password_hash=passwords.hash_password(password) if password else "", totp_secret=secret,
                  last_totp_step=0, failed_attempts=0, active=True, created_at=now or datetime.now(UTC))
    db_session.add(agent)
    db_session.flush()
    audit.record(db_session, None, "agent.create", "agent", str(agent.id), agent.unit_id or "", now=now)
    return agent, secret


def unit_of(db_session: Session, agent: Agent) -> Station | None:
    return db_session.get(Station, agent.unit_id) if agent.unit_id else None


# --- Sign-in ----------------------------------------------------------------------------------

@dataclass
class SignIn:
    """What a sign-in attempt gave: ``outcome`` is "ok", "failed" or "locked" (the last two look alike)."""

    outcome: str
    agent: Agent | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _setting(name: str, default: int) -> int:
    try:
        return int(current_app.config.get(name, default))
    except RuntimeError:  # outside an application
        return default


def is_locked(agent: Agent, now: datetime) -> bool:
    return agent.locked_until is not None and utc(agent.locked_until) > now


def authenticate(db_session: Session, email: str, password: str, code: str, now: datetime | None = None,
                 writing=nullcontext) -> SignIn:
    """Check e-mail, password and TOTP code; count failures, lock, record each attempt in the audit log.

    A locked account is refused even with the right credentials, and answers
    like a wrong password (the caller shows one message for both). The checks
    only read; the writes that follow run in ``writing()`` (the view passes
    ``own_transaction``) as single UPDATE statements, so that two attempts at
    once neither lose a failure nor both accept the same code.
    """
    now = now or datetime.now(UTC)
    agent = find_agent(db_session, email)
    if agent is None or not agent.active:
        passwords.hasher_burn(password or "")
        who = (agent.id, agent.email, agent.unit_id or "") if agent else (None, "", "")
        with writing():
            _record(db_session, who, "login.failed", now)
        log.info("agent sign-in refused: %s", "inactive agent" if agent else "unknown e-mail")
        return SignIn("failed")
    if is_locked(agent, now):
        passwords.hasher_burn(password or "")  # as long as a real check: "locked" is not told by timing
        return _refuse_locked(db_session, agent, now, writing, "agent")
    password_ok = passwords.verify_password(agent.password_hash, password or "")
    step = passwords.accepted_step(agent.totp_secret, code, now, agent.last_totp_step or 0)
    new_hash = passwords.hash_password(password) if password_ok and passwords.needs_rehash(agent.password_hash) \
        else None
    return _settle(db_session, agent, step if password_ok else None, now, writing, "agent",
                   {"password_hash": new_hash} if new_hash else {})


def check_second_factor(db_session: Session, agent: Agent, code: str | None, now: datetime | None = None,
                        writing=nullcontext, target_type: str = "proconnect") -> SignIn:
    """The TOTP code of an agent whose first factor is already proven (ProConnect), counted like a sign-in.

    Same rules as ``authenticate`` after the password: a locked or inactive
    agent is refused, a wrong or replayed code is a failure that counts towards
    the lock, the accepted step is stored so that the code never works twice.
    The audit entries carry ``target_type`` ("proconnect": the way in).
    """
    now = now or datetime.now(UTC)
    if not agent.active:
        who = _who(agent)  # read before writing(), which may commit and expire the Agent
        with writing():
            _record(db_session, who, "login.failed", now, target_type)
        log.info("agent second factor refused: agent %s inactive", who[0])
        return SignIn("failed")
    if is_locked(agent, now):
        return _refuse_locked(db_session, agent, now, writing, target_type)
    step = passwords.accepted_step(agent.totp_secret, code, now, agent.last_totp_step or 0)
    return _settle(db_session, agent, step, now, writing, target_type)


def _who(agent: Agent) -> tuple[int | None, str, str]:
    return agent.id, agent.email, agent.unit_id or ""


def _refuse_locked(db_session: Session, agent: Agent, now: datetime, writing, target_type: str) -> SignIn:
    agent_id, who = agent.id, _who(agent)
    with writing():
        _record(db_session, who, "login.locked", now, target_type)
    log.info("agent sign-in refused: agent %s locked", agent_id)
    return SignIn("locked", agent)


def _settle(db_session: Session, agent: Agent, step: int | None, now: datetime, writing, target_type: str,
            extra: dict | None = None) -> SignIn:
    """Accept ``step`` (every factor checked; None when one failed) or count a failure and lock at the limit.

    The Agent is read before ``writing()``, which may commit (and expire it).
    """
    agent_id, who = agent.id, _who(agent)
    lock_ran_out = agent.locked_until is not None
    this_agent = Agent.id == agent_id
    with writing():
        if step is not None:
            values = {"failed_attempts": 0, "locked_until": None, "last_totp_step": step, "last_login_at": now,
                      **(extra or {})}
            # The step condition makes the code single-use even when two requests race with it.
            accepted = db_session.execute(
                update(Agent).where(this_agent, Agent.last_totp_step < step).values(**values)
            ).rowcount == 1
            if accepted:
                _record(db_session, who, "login.ok", now, target_type)
                log.info("agent %s signed in (%s)", agent_id, target_type)
                return SignIn("ok", agent)
        if lock_ran_out:  # a fresh count once a lock has run out
            db_session.execute(update(Agent).where(this_agent).values(failed_attempts=1, locked_until=None))
        else:
            db_session.execute(update(Agent).where(this_agent).values(failed_attempts=Agent.failed_attempts + 1))
        _record(db_session, who, "login.failed", now, target_type)
        locked = db_session.execute(
            update(Agent).where(this_agent, Agent.failed_attempts >= _setting("AGENT_MAX_FAILURES", 5))
            .values(locked_until=now + timedelta(minutes=_setting("AGENT_LOCK_MINUTES", 15)), failed_attempts=0)
        ).rowcount == 1
        if locked:
            _record(db_session, who, "login.locked", now, target_type)
    if locked:
        log.warning("agent %s locked after repeated failed sign-ins", agent_id)
        return SignIn("locked", agent)
    log.info("agent sign-in refused: agent %s", agent_id)
    return SignIn("failed", agent)


def _record(db_session: Session, who: tuple[int | None, str, str], action: str, now: datetime,
            target_type: str = "agent") -> None:
    """An audit entry about an agent (id, e-mail, unit), without touching the (possibly expired) Agent.

    An unknown e-mail is recorded without it: what was typed may be anything, a password included.
    """
    agent_id, email, unit_id = who
    db_session.add(AuditEvent(at=now, agent_id=agent_id, agent_email=email, action=action,
                              target_type=target_type, target_id=str(agent_id) if agent_id else "",
                              unit_id=unit_id))
    db_session.flush()


@contextmanager
def own_transaction(session: Session) -> Iterator[Session]:
    """End the request's reads, then write in a short transaction whose first statement is a write.

    On SQLite a transaction that read before another connection wrote cannot
    write any more; one that starts with its write waits for the lock (busy
    timeout). The request must have nothing pending (it is committed, not lost).
    """
    session.commit()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


# --- Sessions ---------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db_session: Session, agent: Agent, now: datetime | None = None) -> str:
    """A new session for ``agent``; returns the token for the cookie (only its hash is stored).

    The agent's sessions that have run out are removed on the way.
    """
    now = now or datetime.now(UTC)
    idle = timedelta(minutes=_setting("AGENT_SESSION_IDLE_MINUTES", 15))
    db_session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id,
                                                  AgentSession.last_seen_at < now - idle))
    token = secrets.token_urlsafe(32)
    db_session.add(AgentSession(id_hash=token_hash(token), agent_id=agent.id, created_at=now, last_seen_at=now))
    db_session.flush()
    return token


def session_expired(row: AgentSession, now: datetime) -> bool:
    idle = timedelta(minutes=_setting("AGENT_SESSION_IDLE_MINUTES", 15))
    absolute = timedelta(hours=_setting("AGENT_SESSION_ABSOLUTE_HOURS", 8))
    return now - utc(row.last_seen_at) > idle or now - utc(row.created_at) > absolute


def resume_session(db_session: Session, token: str | None, now: datetime | None = None,
                   writing=nullcontext) -> Agent | None:
    """The active agent whose session ``token`` opens at ``now``, its last activity moved to ``now``; else None.

    A session that ran out is deleted. ``writing()`` is the context the
    writes run in (the request uses a short write transaction of its own).
    """
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(UTC)
    key = token_hash(token)
    row = db_session.get(AgentSession, key)
    if row is None:
        return None
    agent_id, expired = row.agent_id, session_expired(row, now)
    if expired or now - utc(row.last_seen_at) >= TOUCH_EVERY:
        with writing():
            if expired:
                db_session.execute(delete(AgentSession).where(AgentSession.id_hash == key))
            else:
                db_session.execute(update(AgentSession).where(AgentSession.id_hash == key)
                                   .values(last_seen_at=now))
    if expired:
        return None
    agent = db_session.get(Agent, agent_id)
    return agent if agent is not None and agent.active else None


def purge_sessions(db_session: Session, now: datetime | None = None) -> int:
    """Delete every session that has run out at ``now`` (idle or absolute time); flushed, not committed.

    ``resume_session`` deletes an expired session when its cookie comes back;
    this removes those whose cookie never does (``flask agents purge-sessions``).
    """
    now = now or datetime.now(UTC)
    idle = timedelta(minutes=_setting("AGENT_SESSION_IDLE_MINUTES", 15))
    absolute = timedelta(hours=_setting("AGENT_SESSION_ABSOLUTE_HOURS", 8))
    return db_session.execute(delete(AgentSession).where(
        (AgentSession.last_seen_at < now - idle) | (AgentSession.created_at < now - absolute))).rowcount or 0


def close_session(db_session: Session, token: str | None) -> None:
    if token:
        db_session.execute(delete(AgentSession).where(AgentSession.id_hash == token_hash(token)))


def current_agent() -> Agent | None:
    """The agent signed in for this request (their own cookie), loaded once per request; None otherwise."""
    if not has_request_context():
        return None
    cached = g.get("_agent", _MISSING)
    if cached is not _MISSING:
        return cached
    token = request.cookies.get(COOKIE_NAME)
    agent = None
    if token:
        session = db.session
        pending = bool(session.new or session.dirty or session.deleted)
        # The writes (last activity, an expired row) in a short transaction of their own, unless the
        # request already changed something: then they join the request's transaction.
        writing = nullcontext if pending else (lambda: own_transaction(session))
        agent = resume_session(session, token, writing=writing)
        if agent is None:
            g.agent_cookie_stale = True
    g._agent = agent
    return agent


def current_unit_name() -> str:
    """The signed-in agent's unit as officers know it: the station's name (its id if unknown); "" without a unit."""
    agent = current_agent()
    unit_id = agent.unit_id if agent is not None else None
    if not unit_id:
        return ""
    cached = g.get("_agent_unit_name")
    if cached is None:
        from maps.services import station_names

        cached = g._agent_unit_name = station_names(db.session, [unit_id]).get(unit_id, unit_id)
    return cached


def forget_current_agent() -> None:
    g.pop("_agent", None)
    g.pop("_agent_unit_name", None)
