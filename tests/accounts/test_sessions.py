"""Server-side sessions: an identifier in the cookie, the data on the server, 30 minutes idle, 12 hours in all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from accounts.models import WebSession
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


def test_secure_cookie_over_https(tmp_path):
    application = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    response = application.test_client().get("/connexion", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portail=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie and "Expires" not in cookie
