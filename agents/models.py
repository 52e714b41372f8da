"""Agents (officers, editors, reviewers, administrators), their sessions and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.crypto import EncryptedText
from portal.extensions import db

# What an agent may do; an agent holds one or more. Officers handle the cases of their unit;
# editors write and reviewers approve the catalogue (issue 11); administrators manage agents,
# read the audit log and register mairies.
ROLES = {
    "officer": "Officier ou agent de police judiciaire",
    "editor": "Rédacteur",
    "reviewer": "Relecteur",
    "admin": "Administrateur",
}


class Agent(db.Model):
    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Lower-cased; the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    # The unit (commissariat or brigade) an officer works in: they see its cases only.
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("station.id"), index=True)
    # Argon2id (argon2-cffi); empty when the agent signs in through the agents' OpenID provider only.
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("agent.totp_secret"))
    # The last TOTP time step accepted: a code is never accepted twice.
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def has_role(self, role: str) -> bool:
        return role in (self.roles or [])


class AgentSession(db.Model):
    """An agent's session, apart from citizens' (its own cookie, table and shorter lifetime)."""

    __tablename__ = "agent_session"

    # SHA-256 of the cookie's value.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditEvent(db.Model):
    """Who did what, when, to which object: append-only (database triggers refuse UPDATE and DELETE).

    Never a complaint's text, a token or an identity: the object is named by its
    reference only.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the log outlives agents
    agent_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(80), default="", index=True)
    unit_id: Mapped[str] = mapped_column(String(60), default="")
