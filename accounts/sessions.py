"""Server-side sessions: the cookie holds a random identifier, the data stays in the database.

A citizen's identity (from FranceConnect) must never travel in a cookie,
even a signed one, which anyone holding it can read. Sessions end after
30 minutes without activity or 12 hours in all; signing in gives a new
identifier (no session fixation); signing out deletes the row.

An anonymous visitor who only holds a CSRF token (any page with a form)
gets no row: the token travels in a signed cookie of its own, so that plain
GETs cannot fill the table. A row appears when something worth keeping on
the server does (a sign-in under way, a signed-in citizen).

Concurrency: a request reads its session in a transaction it ends at once,
and writes, only when something changed, in a short transaction of its own
whose first statement is the write, so that SQLite waits for its lock
(busy timeout) instead of failing on a stale read snapshot, and nothing
stays locked while the page is rendered or FranceConnect answers.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from accounts.models import WebSession
from portal.extensions import db, utc, write_transaction

# Writing last_seen on every request would make every page a database write.
TOUCH_EVERY = timedelta(minutes=1)
# Static files, machine endpoints and the widgets (framed by mairies: no cookie, no consent banner) never need
# the session: no database read for them, and no cookie set.
SESSIONLESS_PREFIXES = ("/assets/", "/healthz", "/csp-report", "/api/", "/.well-known/", "/widgets/")
# What an anonymous visitor's session may hold without a row: the CSRF token of its forms.
COOKIE_ONLY_KEYS = frozenset({"csrf_token"})
MAX_COOKIE_CHARS = 400


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data=None, session_id: str | None = None, created_at: datetime | None = None,
                 last_seen_at: datetime | None = None, expired: bool = False,
                 token_cookie: bool = False) -> None:
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
        # The browser sent the cookie-only session (CSRF token) with this request.
        self.token_cookie = token_cookie

    def regenerate(self) -> None:
        """A new identifier at sign-in: an identifier planted before it opens nothing after."""
        self.rotate = True
        self.modified = True

    def end(self) -> None:
        """Sign-out: the stored session is deleted and the cookies removed."""
        self.clear()
        self.destroy = True

    @property
    def cookie_only(self) -> bool:
        return set(self) <= COOKIE_ONLY_KEYS


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, idle: timedelta, absolute: timedelta) -> None:
        self.idle = idle
        self.absolute = absolute

    def get_cookie_name(self, app: Flask) -> str:
        # "__Host-" makes browsers refuse the cookie unless Secure, host-only and Path=/.
        return "__Host-portail" if app.config["SESSION_COOKIE_SECURE"] else "portail_session"

    def token_cookie_name(self, app: Flask) -> str:
        return "__Host-portail-jeton" if app.config["SESSION_COOKIE_SECURE"] else "portail_jeton"

    def _serializer(self, app: Flask) -> URLSafeSerializer:
        return URLSafeSerializer(app.secret_key, salt="portail-jeton")

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return ServerSession()
        session_id = request.cookies.get(self.get_cookie_name(app))
        if session_id and len(session_id) <= 100:
            found = self._load(session_id)
            if found is not None:
                return found
        # An identifier that opens nothing is ignored, not deleted: it may belong to a request that was
        # overtaken by another of the same browser, whose response brings the cookie's successor.
        return self._open_token_cookie(app, request)

    def _load(self, session_id: str) -> ServerSession | None:
        id_hash = _hash(session_id)
        row = db.session.execute(
            select(WebSession.data, WebSession.created_at, WebSession.last_seen_at)
            .where(WebSession.id_hash == id_hash)
        ).first()
        db.session.rollback()  # ends the read: nothing stays open while the page is built
        if row is None:
            return None
        now = datetime.now(UTC)
        created, seen = utc(row.created_at), utc(row.last_seen_at)
        if now - seen > self.idle or now - created > self.absolute:
            self._write(delete(WebSession).where(WebSession.id_hash == id_hash))
            return ServerSession(expired=True)
        return ServerSession(dict(row.data or {}), session_id, created, seen)

    def _open_token_cookie(self, app: Flask, request: Request) -> ServerSession:
        raw = request.cookies.get(self.token_cookie_name(app))
        if not raw or len(raw) > MAX_COOKIE_CHARS:
            return ServerSession(token_cookie=bool(raw))
        try:
            data = self._serializer(app).loads(raw)
        except BadSignature:
            return ServerSession(token_cookie=True)
        kept = {k: v for k, v in data.items() if k in COOKIE_ONLY_KEYS} if isinstance(data, dict) else {}
        return ServerSession(kept, token_cookie=True)

    def _cookie_options(self, app: Flask) -> dict:
        return {"domain": None, "path": "/", "secure": app.config["SESSION_COOKIE_SECURE"], "httponly": True,
                "samesite": app.config["SESSION_COOKIE_SAMESITE"]}

    def _forget(self, response: Response, name: str, options: dict) -> None:
        response.delete_cookie(name, path="/", domain=None, secure=options["secure"], httponly=True,
                               samesite=options["samesite"])

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        options = self._cookie_options(app)
        name, token_name = self.get_cookie_name(app), self.token_cookie_name(app)
        if session or session.session_id:
            # Whatever this response shows depends on who asks: no shared cache may keep it.
            response.vary.add("Cookie")
            if not response.cache_control.no_store:
                response.cache_control.private = True
        if session.expired:
            self._forget(response, name, options)
        now = datetime.now(UTC)
        old_id = session.session_id
        if old_id and (session.destroy or session.rotate or (session.modified and session.cookie_only)):
            # Signed out, signed in (new identifier), or nothing left that needs a row.
            self._write(delete(WebSession).where(WebSession.id_hash == _hash(old_id)))
            session.session_id = None
            # Only a sign-out removes the cookie. When a session merely has nothing left to keep, a request
            # sent at the same time may have signed the citizen in and given the browser a new cookie that
            # this response must not delete; a dead identifier costs a lookup that finds nothing.
            if session.destroy:
                self._forget(response, name, options)
        elif old_id:
            if session.modified:
                # If the row went meanwhile (signed out, or signed in again by a request sent at the same
                # time), this updates nothing, and the cookie is left alone: the browser may hold a newer one.
                self._write(update(WebSession).where(WebSession.id_hash == _hash(old_id))
                            .values(data=dict(session), last_seen_at=now))
            elif now - session.last_seen_at > TOUCH_EVERY:
                # Several requests of one session may arrive together: the first one touches it.
                self._write(update(WebSession).where(WebSession.id_hash == _hash(old_id),
                                                     WebSession.last_seen_at < now - TOUCH_EVERY)
                            .values(last_seen_at=now))
            return
        if not session:
            if session.token_cookie:
                self._forget(response, token_name, options)
            return
        if session.cookie_only:
            if session.modified or not session.token_cookie:
                response.set_cookie(token_name, self._serializer(app).dumps(dict(session)), **options)
            return
        session.session_id = secrets.token_urlsafe(32)
        self._write(insert(WebSession).values(id_hash=_hash(session.session_id), data=dict(session),
                                              created_at=now, last_seen_at=now))
        response.set_cookie(name, session.session_id, **options)
        if session.token_cookie:
            self._forget(response, token_name, options)

    @staticmethod
    def _write(statement) -> None:
        """One statement in a short transaction of its own.

        Whatever the view left uncommitted is abandoned, as it would be at the end of the request.
        """
        with write_transaction(db.session, abandon_pending=True) as session:
            session.execute(statement)


def purge_expired(idle: timedelta, absolute: timedelta) -> int:
    """Delete sessions past their idle or absolute limit; returns how many."""
    now = datetime.now(UTC)
    result = db.session.execute(
        delete(WebSession).where(
            (WebSession.last_seen_at < now - idle) | (WebSession.created_at < now - absolute)
        )
    )
    db.session.commit()
    return result.rowcount or 0
