"""Sign-in under light concurrency, over real HTTP: never a 5xx, on SQLite as on PostgreSQL.

The portal is served by a threaded server on loopback, as the local
FranceConnect is; each visitor is a requests session of its own, and a
barrier releases their requests at the same instant.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import delete, func, select, update

from accounts.models import Account, LoginCode, OutboxMessage, WebSession
from local_franceconnect import pairwise_sub
from local_franceconnect.identities import IDENTITIES
from portal.config import DEV_FRANCECONNECT_CLIENT_ID
from portal.extensions import db
from portal.security import limiter

VISITORS = 12


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _together(count: int, action: Callable[[int], requests.Response]) -> list[requests.Response]:
    """``action(i)`` for each visitor, all released at the same instant."""
    barrier = threading.Barrier(count)

    def run(i: int) -> requests.Response:
        barrier.wait(timeout=30)
        return action(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


class Visitor:
    def __init__(self, portal_url: str) -> None:
        self.portal_url = portal_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.portal_url + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, data: dict) -> requests.Response:
        return self.http.post(self.portal_url + path, data=data, allow_redirects=False, timeout=30)

    def form_token(self, path: str = "/connexion") -> str:
        return _token(self.get(path).text)

    def start_franceconnect(self, token: str) -> requests.Response:
        return self.post("/connexion/franceconnect", {"csrf_token": token})

    def callback_after(self, authorize_url: str, login: str) -> str:
        """On FranceConnect: pick an identity; the path of the callback on the portal."""
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
        interaction = self.http.get(authorize_url, allow_redirects=False, timeout=30).headers["Location"]
        chosen = self.http.post(origin + interaction + "/login", data={"login": login}, allow_redirects=False,
                                timeout=30)
        parts = urlsplit(chosen.headers["Location"])
        return f"{parts.path}?{parts.query}"


def _no_server_error(responses: list[requests.Response]) -> None:
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), statuses


def test_parallel_sign_in_starts_all_reach_franceconnect(live_portal, local_fc):
    limiter.reset()
    visitors = [Visitor(live_portal.url) for _ in range(VISITORS)]
    tokens = [v.form_token() for v in visitors]
    responses = _together(VISITORS, lambda i: visitors[i].start_franceconnect(tokens[i]))
    _no_server_error(responses)
    assert all(r.status_code == 303 and r.headers["Location"].startswith(local_fc.issuer) for r in responses)


def test_parallel_returns_from_franceconnect_all_sign_in(live_portal, app):
    limiter.reset()
    logins = list(IDENTITIES)
    visitors = [Visitor(live_portal.url) for _ in range(VISITORS)]
    callbacks = []
    for i, visitor in enumerate(visitors):
        started = visitor.start_franceconnect(visitor.form_token())
        callbacks.append(visitor.callback_after(started.headers["Location"], logins[i % len(logins)]))
    responses = _together(VISITORS, lambda i: visitors[i].get(callbacks[i]))
    _no_server_error(responses)
    assert all(r.status_code == 302 and r.headers["Location"] == "/mon-espace" for r in responses)
    assert all(v.get("/mon-espace").status_code == 200 for v in visitors)


def test_first_sign_ins_of_one_person_at_once_share_one_account(live_portal, app):
    """Two devices of someone who never signed in come back together: one account, no IntegrityError."""
    limiter.reset()
    login = "nom_compose"
    subject = pairwise_sub(DEV_FRANCECONNECT_CLIENT_ID, login)
    with app.app_context():
        db.session.execute(delete(Account).where(Account.subject == subject))
        db.session.commit()
    visitors = [Visitor(live_portal.url) for _ in range(6)]
    callbacks = []
    for visitor in visitors:
        started = visitor.start_franceconnect(visitor.form_token())
        # Each device signs in on FranceConnect on its own (no shared SSO cookie).
        callbacks.append(visitor.callback_after(started.headers["Location"], login))
    responses = _together(len(visitors), lambda i: visitors[i].get(callbacks[i]))
    _no_server_error(responses)
    assert all(r.status_code == 302 for r in responses)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account).where(Account.subject == subject)) == 1


def test_parallel_pages_in_one_signed_in_session(live_portal, app):
    limiter.reset()
    visitor = Visitor(live_portal.url)
    started = visitor.start_franceconnect(visitor.form_token())
    assert visitor.get(visitor.callback_after(started.headers["Location"], "test")).status_code == 302
    pages = ["/mon-espace", "/", "/recherche?q=vol+de+papiers", "/demarches/plainte-en-ligne/commencer",
             "/connexion", "/commissariats?q=72000"]
    for _ in range(3):
        # Old enough to be touched: every request of the round wants to write last_seen at once.
        with app.app_context():
            db.session.execute(update(WebSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=5)))
            db.session.commit()
        responses = _together(len(pages), lambda i: visitor.get(pages[i]))
        _no_server_error(responses)
        assert responses[0].status_code == 200  # still signed in


def _code_sent(app, visitor: Visitor, prefix: str) -> str:
    """Ask a code for a new address; the code the outbox received."""
    email = f"{prefix}-{datetime.now(UTC).timestamp()}@example.org"
    asked = visitor.post("/connexion/email", {"csrf_token": visitor.form_token(), "email": email})
    assert asked.status_code == 303, asked.text[:300]
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == email)).one()
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_parallel_wrong_codes_each_count(live_portal, app):
    """Eight wrong guesses at once spend the 5 attempts; the right code then opens nothing."""
    limiter.reset()
    visitor = Visitor(live_portal.url)
    good = _code_sent(app, visitor, "course")
    wrong = "000000" if good != "000000" else "111111"
    token = visitor.form_token("/connexion/email/code")
    responses = _together(8, lambda i: visitor.post("/connexion/email/code", {"csrf_token": token,
                                                                              "code": wrong}))
    _no_server_error(responses)
    assert all(r.status_code == 400 for r in responses)
    late = visitor.post("/connexion/email/code", {"csrf_token": token, "code": good})
    assert late.status_code == 400
    assert visitor.get("/mon-espace").status_code == 302
    with app.app_context():  # spent: the code is gone
        assert db.session.scalar(select(func.count()).select_from(LoginCode)
                                 .where(LoginCode.email.like("course-%"))) == 0


def test_the_right_code_sent_twice_at_once_signs_in_once(live_portal, app):
    limiter.reset()
    visitor = Visitor(live_portal.url)
    good = _code_sent(app, visitor, "course")
    token = visitor.form_token("/connexion/email/code")
    responses = _together(4, lambda i: visitor.post("/connexion/email/code", {"csrf_token": token,
                                                                              "code": good}))
    _no_server_error(responses)
    assert sorted(r.status_code for r in responses) == [302, 400, 400, 400]
    assert visitor.get("/mon-espace").status_code == 200  # the refused twins did not sign the winner out
