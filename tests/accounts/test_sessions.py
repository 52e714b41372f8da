"""Server-side sessions: an identifier in the cookie, the data on the server, 30 minutes idle, 12 hours in all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from accounts.models import LoginCode, WebSession
from portal.extensions import db
from tests.accounts.conftest import csrf_token
from tests.conftest import make_app


def test_public_pages_create_no_session(client, db_session):
    before = db_session.scalar(select(func.count()).select_from(WebSession))
    for url in ("/", "/recherche?q=vol", "/demarches/thesee"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers
    assert db_session.scalar(select(func.count()).select_from(WebSession)) == before


def test_a_session_ends_after_30_minutes_without_activity(browser, db_session):
    browser.sign_in("test")
    assert browser.portal.get("/mon-espace").status_code == 200
    db_session.execute(update(WebSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    db_session.commit()
    response = browser.portal.get("/mon-espace")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def test_activity_keeps_a_session_but_not_beyond_12_hours(browser, db_session):
    browser.sign_in("test")
    db_session.execute(update(WebSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=29)))
    db_session.commit()
    assert browser.portal.get("/mon-espace").status_code == 200
    db_session.execute(update(WebSession).values(created_at=datetime.now(UTC) - timedelta(hours=12, minutes=1)))
    db_session.commit()
    assert browser.portal.get("/mon-espace").status_code == 302


def test_an_expired_session_is_said_on_the_sign_in_page(browser, db_session):
    browser.sign_in("test")
    db_session.execute(update(WebSession).values(last_seen_at=datetime.now(UTC) - timedelta(hours=1)))
    db_session.commit()
    assert "Votre session a expiré" in browser.portal.get("/connexion").get_data(as_text=True)


def test_sign_out_deletes_the_stored_session(browser, db_session):
    from tests.accounts.conftest import csrf_token

    browser.sign_in("test")
    cookie = browser.portal.get_cookie("portail_session").value
    token = csrf_token(browser.portal.get("/mon-espace").get_data(as_text=True))
    browser.portal.post("/deconnexion", data={"csrf_token": token})
    replay = browser.portal.__class__(browser.portal.application)
    replay.set_cookie("portail_session", cookie)
    assert replay.get("/mon-espace").status_code == 302


def test_secure_cookies_over_https(tmp_path):
    application = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    client = application.test_client()
    page = client.get("/connexion", base_url="https://localhost")
    token_cookie = page.headers["Set-Cookie"]
    assert token_cookie.startswith("__Host-portail-jeton=")
    asked = client.post("/connexion/email", base_url="https://localhost", headers={"Referer": "https://localhost/"},
                        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "email": "a@example.org"})
    assert asked.status_code == 303
    (session_cookie,) = [c for c in asked.headers.getlist("Set-Cookie") if c.startswith("__Host-portail=")]
    for cookie in (token_cookie, session_cookie):
        for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            assert attribute in cookie
        assert "Domain" not in cookie and "Expires" not in cookie


def _every_page(app) -> list[str]:
    """Every GET page of the portal, with real arguments, and a few with query strings."""
    samples = {"slug": "thesee", "station_id": "1", "code": "72", "reference": "PEL-2026-AAAAAA",
               "step": "faits", "kind": "plainte_en_ligne"}
    pages = ["/recherche?q=vol+de+papiers", "/recherche?q=vol&page=2", "/commissariats?q=72000",
             "/situations/vol-cambriolage", "/connexion?next=/mon-espace", "/fiches/F1344",
             "/connexion/franceconnect/retour?state=x&code=y"]
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(("/assets/", "/api/", "/dev/")):
            pages.append(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: samples.get(m.group(1), "1"), rule.rule))
    return pages


def test_anonymous_visitors_create_no_rows(app, client):
    def rows() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(WebSession))

    pages = _every_page(app)
    before = rows()
    visits = 0
    while visits < 300:
        visitor = app.test_client()  # a new visitor each round, who then comes back with its cookies
        for page in pages:
            for _ in range(2):
                assert visitor.get(page).status_code < 500, page
                visits += 1
    assert rows() == before
    # A form's token travels in a signed cookie of its own, not in a row.
    cookies = client.get("/connexion").headers.getlist("Set-Cookie")
    assert [c.split("=")[0] for c in cookies] == ["portail_jeton"]


def test_the_purge_command_removes_expired_sessions_and_codes(app):
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add_all([
            LoginCode(id="code-mort", email="a@example.org", code_hash="x" * 64, attempts=0,
                      expires_at=now - timedelta(seconds=1)),
            LoginCode(id="code-vivant", email="b@example.org", code_hash="y" * 64, attempts=0,
                      expires_at=now + timedelta(minutes=5)),
        ])
        db.session.commit()
    output = app.test_cli_runner().invoke(args=["accounts", "purge-sessions"]).output
    assert "Codes de connexion expirés supprimés : 1" in output
    with app.app_context():
        assert {c.id for c in db.session.scalars(select(LoginCode))} >= {"code-vivant"}
        assert db.session.get(LoginCode, "code-mort") is None
        db.session.execute(delete(LoginCode).where(LoginCode.id == "code-vivant"))
        db.session.commit()
