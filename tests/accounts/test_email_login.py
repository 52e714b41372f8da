"""The alternative to FranceConnect: a one-time code sent by e-mail."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from accounts.models import EMAIL_ISSUER, Account, LoginCode, OutboxMessage
from tests.accounts.conftest import csrf_token


def _ask_code(client, email="camille@example.org", next_url=None):
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    data = {"csrf_token": token, "email": email}
    if next_url:
        data["next"] = next_url
    return client.post("/connexion/email", data=data)


def _last_code(db_session, email="camille@example.org") -> str:
    message = db_session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                                 .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def _send_code(client, code, next_url=None):
    token = csrf_token(client.get("/connexion/email/code").get_data(as_text=True))
    data = {"csrf_token": token, "code": code}
    if next_url:
        data["next"] = next_url
    return client.post("/connexion/email/code", data=data)


def test_sign_in_with_a_code_sent_by_email(browser, db_session):
    client = browser.portal
    response = _ask_code(client, next_url="/demarches/thesee/commencer")
    assert response.status_code == 303 and "/connexion/email/code" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "camille@example.org" in page and "valable 10 minutes" in page
    code = _last_code(db_session)
    done = _send_code(client, code, "/demarches/thesee/commencer")
    assert done.headers["Location"] == "/demarches/thesee/commencer"
    html = client.get("/demarches/thesee/commencer").get_data(as_text=True)
    assert "votre identité n'a pas été vérifiée" in html
    account = db_session.scalars(select(Account).where(Account.issuer == EMAIL_ISSUER)).first()
    assert not account.identity_verified
    assert "camille" not in account.subject  # only a hash of the address is kept


def test_the_outbox_page_shows_the_message_in_development(browser, db_session):
    _ask_code(browser.portal)
    page = browser.portal.get("/dev/boite-mail").get_data(as_text=True)
    assert "Votre code de connexion" in page and _last_code(db_session) in page


def test_a_wrong_code_counts_down_then_dies(browser, db_session):
    client = browser.portal
    _ask_code(client)
    good = _last_code(db_session)
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = _send_code(client, wrong)
        assert response.status_code == 400
        assert f"Il vous reste {left} essai" in response.get_data(as_text=True)
    last = _send_code(client, wrong)
    assert "Trop d&#39;essais" in last.get_data(as_text=True)
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    late = client.post("/connexion/email/code", data={"csrf_token": token, "code": good})
    assert late.status_code == 400 and client.get("/mon-espace").status_code == 302


def test_a_code_expires_after_10_minutes(browser, db_session):
    client = browser.portal
    _ask_code(client)
    code = _last_code(db_session)
    (row,) = db_session.scalars(select(LoginCode)).all()
    assert timedelta(minutes=9) < row.expires_at.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(minutes=10)
    db_session.execute(update(LoginCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db_session.commit()
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    response = client.post("/connexion/email/code", data={"csrf_token": token, "code": code})
    assert response.status_code == 400 and "a expiré" in response.get_data(as_text=True)


def test_the_code_works_only_in_the_browser_that_asked(browser, app, db_session):
    _ask_code(browser.portal)
    code = _last_code(db_session)
    elsewhere = app.test_client()
    token = csrf_token(elsewhere.get("/connexion").get_data(as_text=True))
    response = elsewhere.post("/connexion/email/code", data={"csrf_token": token, "code": code})
    assert response.status_code == 400


def test_sending_codes_is_rate_limited(browser, db_session):
    client = browser.portal
    for _ in range(3):
        assert _ask_code(client, "limite@example.org").status_code == 303
    blocked = _ask_code(client, "limite@example.org")
    assert blocked.status_code == 429
    assert db_session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "limite@example.org")
                             .order_by(OutboxMessage.id.desc()).offset(3)) is None


def test_an_invalid_address_is_explained_in_french(browser):
    response = _ask_code(browser.portal, "pas-une-adresse")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Saisissez une adresse électronique valide" in html and 'aria-describedby="email-error"' in html


@pytest.mark.parametrize("hostile", ["a\x00b@example.fr", "camille@exa\nmple.fr", "cami\x85lle@example.fr",
                                     "cam\u200bille@example.fr", "camille\u2028@example.fr"])
def test_control_and_invisible_characters_are_refused(browser, db_session, caplog, hostile):
    sent = db_session.scalar(select(func.count()).select_from(OutboxMessage))
    with caplog.at_level(logging.DEBUG):
        response = _ask_code(browser.portal, hostile)
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == sent
    assert "\x00" not in caplog.text and "\x85" not in caplog.text
