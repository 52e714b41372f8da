"""Server-side sessions: the cookie holds a random identifier, the data stays in the database.

A citizen's identity (from FranceConnect) must never travel in a cookie,
even a signed one, which anyone holding it can read. Sessions end after
30 minutes without activity or 12 hours in all; signing in gives a new
identifier (no session fixation); signing out deletes the row.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from werkzeug.datastructures import CallbackDict

from accounts.models import WebSession
from portal.extensions import db

# Writing last_seen on every request would make every page a database write.
TOUCH_EVERY = timedelta(minutes=1)
# Static files and machine endpoints never need the session: no database read for them.
SESSIONLESS_PREFIXES = ("/assets/", "/healthz", "/csp-report", "/api/")


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data=None, session_id: str | None = None, created_at: datetime | None = None,
                 last_seen_at: datetime | None = None, expired: bool = False) -> None:
        def on_update(_):
            self.modified = True

        super().__init__(data or {}, on_update)
        self.session_id = session_id
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.new = session_id is None
        self.modified = False
        self.rotate = False
        self.destroy = False
        # The visitor's previous session ran out (shown on the sign-in page).
        self.expired = expired

    def regenerate(self) -> None:
        """A new identifier at sign-in: an identifier planted before it opens nothing after."""
        self.rotate = True
        self.modified = True

    def end(self) -> None:
        """Sign-out: the stored session is deleted and the cookie removed."""
        self.clear()
        self.destroy = True


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, idle: timedelta, absolute: timedelta) -> None:
        self.idle = idle
        self.absolute = absolute

    def get_cookie_name(self, app: Flask) -> str:
        # "__Host-" makes browsers refuse the cookie unless Secure, host-only and Path=/.
        return "__Host-portail" if app.config["SESSION_COOKIE_SECURE"] else "portail_session"

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        session_id = request.cookies.get(self.get_cookie_name(app))
        if not session_id or len(session_id) > 100 or request.path.startswith(SESSIONLESS_PREFIXES):
            return ServerSession()
        row = db.session.get(WebSession, _hash(session_id))
        if row is None:
            return ServerSession()
        now = _now()
        created, seen = _aware(row.created_at), _aware(row.last_seen_at)
        if now - seen > self.idle or now - created > self.absolute:
            db.session.delete(row)
            db.session.commit()
            return ServerSession(expired=True)
        data = dict(row.data or {})
        db.session.expunge(row)
        return ServerSession(data, session_id, created, seen)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        cookie = {
            "domain": None,
            "path": "/",
            "secure": app.config["SESSION_COOKIE_SECURE"],
            "httponly": True,
            "samesite": app.config["SESSION_COOKIE_SAMESITE"],
        }
        now = _now()
        if session.destroy or (session.rotate and session.session_id):
            if session.session_id:
                db.session.execute(delete(WebSession).where(WebSession.id_hash == _hash(session.session_id)))
            if session.destroy and not session:
                db.session.commit()
                response.delete_cookie(name, path="/", domain=None, secure=cookie["secure"],
                                       httponly=True, samesite=cookie["samesite"])
                return
            session.session_id = None
        if session.session_id and not session and session.modified:
            # Emptied (the last pending value was used): nothing left to keep.
            db.session.execute(delete(WebSession).where(WebSession.id_hash == _hash(session.session_id)))
            db.session.commit()
            response.delete_cookie(name, path="/", domain=None, secure=cookie["secure"],
                                   httponly=True, samesite=cookie["samesite"])
            return
        if not session.session_id:
            if not session:
                if session.expired:  # the browser still holds the identifier of a dead session
                    response.delete_cookie(name, path="/", domain=None, secure=cookie["secure"],
                                           httponly=True, samesite=cookie["samesite"])
                return  # nothing to keep: no row, no cookie
            session.session_id = secrets.token_urlsafe(32)
            session.created_at = now
            db.session.add(WebSession(id_hash=_hash(session.session_id), data=dict(session),
                                      created_at=now, last_seen_at=now))
        elif session.modified or now - session.last_seen_at > TOUCH_EVERY:
            row = db.session.get(WebSession, _hash(session.session_id))
            if row is None:  # deleted meanwhile (signed out in another tab)
                response.delete_cookie(name, path="/")
                return
            row.data = dict(session)
            row.last_seen_at = now
        else:
            return
        db.session.commit()
        response.vary.add("Cookie")
        response.set_cookie(name, session.session_id, **cookie)


def purge_expired(idle: timedelta, absolute: timedelta) -> int:
    """Delete sessions past their idle or absolute limit; returns how many."""
    now = _now()
    result = db.session.execute(
        delete(WebSession).where(
            (WebSession.last_seen_at < now - idle) | (WebSession.created_at < now - absolute)
        )
    )
    db.session.commit()
    return result.rowcount or 0
