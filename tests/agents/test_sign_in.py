"""Agents sign in with e-mail, password and a TOTP code; failures count, lock, and all look alike."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from html import unescape

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import select

from agents import passwords, services
from agents.models import Agent, AuditEvent
from portal.security import limiter
from tests.agents.helpers import DEFAULT_PASSWORD, make_agent, sign_in_agent

REFUSED = "Adresse électronique, mot de passe ou code incorrect."
T0 = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def actions(db_session, agent_id: int) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.agent_id == agent_id)
                                   .order_by(AuditEvent.id)))


def test_password_and_code_open_the_agents_space(client, db_session):
    agent, secret = make_agent(db_session, email="Martine.Opj@Interieur.gouv.fr", roles=("officer",),
                               display_name="Martine Opj")
    response = sign_in_agent(client, "martine.opj@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    assert response.headers["Location"] == "/agents/"
    home = client.get("/agents/")
    html = unescape(home.get_data(as_text=True))
    assert home.status_code == 200
    assert "Espace agents" in html and "Martine Opj" in html and "Se déconnecter" in html
    assert "Officier ou agent de police judiciaire" in html
    assert "Le Mans" in html  # the unit
    assert "Journal d'audit" not in html  # officers only
    assert home.headers["Cache-Control"] == "no-store"
    assert "noindex" in home.headers["X-Robots-Tag"]
    assert actions(db_session, agent.id)[-1] == "login.ok"


def test_the_session_cookie_is_the_agents_own(client, db_session):
    _, secret = make_agent(db_session, email="cookie@interieur.gouv.fr")
    response = sign_in_agent(client, "cookie@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("portail_agent="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/agents" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # ends with the browser too
    token = cookie.split(";")[0].split("=", 1)[1]
    # Only the token's hash is stored.
    from agents.models import AgentSession
    assert db_session.get(AgentSession, services.token_hash(token)) is not None
    assert db_session.scalar(select(AgentSession).where(AgentSession.id_hash == token)) is None


def test_the_cookie_is_secure_when_sessions_are(small_app):
    small_app.config["SESSION_COOKIE_SECURE"] = True
    from portal.extensions import db
    with small_app.app_context():
        _, secret = make_agent(db.session, email="secure@interieur.gouv.fr", unit_id="police-72181-test")
    client = small_app.test_client()
    response = sign_in_agent(client, "secure@interieur.gouv.fr", DEFAULT_PASSWORD, secret)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("portail_agent="))
    assert "Secure" in cookie


def test_a_code_typed_with_spaces_is_accepted(client, db_session):
    _, secret = make_agent(db_session, email="espaces@interieur.gouv.fr")
    code = pyotp.TOTP(secret).now()
    sign_in_agent(client, "espaces@interieur.gouv.fr", DEFAULT_PASSWORD, code=f" {code[:3]} {code[3:]} ")


def test_a_wrong_password_is_refused_with_the_generic_message(client, db_session):
    agent, secret = make_agent(db_session, email="mauvais@interieur.gouv.fr")
    response = sign_in_agent(client, "mauvais@interieur.gouv.fr", "pas-le-bon-mot-de-passe", secret,
                             expect_success=False)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert REFUSED in html and "<title>Erreur : " in html
    assert "portail_agent=" not in " ".join(response.headers.getlist("Set-Cookie"))
    assert client.get("/agents/").status_code == 303
    assert actions(db_session, agent.id)[-1] == "login.failed"


def test_a_wrong_code_is_refused(client, db_session):
    _, secret = make_agent(db_session, email="code@interieur.gouv.fr")
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = sign_in_agent(client, "code@interieur.gouv.fr", DEFAULT_PASSWORD, code=wrong, expect_success=False)
    assert response.status_code == 400 and REFUSED in unescape(response.get_data(as_text=True))


def test_an_unknown_email_gets_the_same_answer(client, db_session):
    response = sign_in_agent(client, "personne@interieur.gouv.fr", DEFAULT_PASSWORD, code="123456",
                             expect_success=False)
    assert response.status_code == 400 and REFUSED in unescape(response.get_data(as_text=True))
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "login.failed" and event.agent_email == "" and event.agent_id is None


def test_a_replayed_code_is_refused(client, db_session):
    _, secret = make_agent(db_session, email="rejeu@interieur.gouv.fr")
    code = pyotp.TOTP(secret).now()
    sign_in_agent(client, "rejeu@interieur.gouv.fr", DEFAULT_PASSWORD, code=code)
    other = client.application.test_client()
    response = sign_in_agent(other, "rejeu@interieur.gouv.fr", DEFAULT_PASSWORD, code=code, expect_success=False)
    assert response.status_code == 400 and REFUSED in unescape(response.get_data(as_text=True))


def test_codes_are_single_use_and_drift_tolerant_at_the_service_level(ctx):
    db_session = ctx
    agent, secret = make_agent(db_session, email="pas@interieur.gouv.fr")
    previous = code_at(secret, T0 - timedelta(seconds=30))
    assert services.authenticate(db_session, agent.email, DEFAULT_PASSWORD, previous, now=T0).ok  # one step late
    # Neither the same code nor an earlier step's code is accepted again.
    assert not services.authenticate(db_session, agent.email, DEFAULT_PASSWORD, previous, now=T0).ok
    assert not services.authenticate(db_session, agent.email, DEFAULT_PASSWORD,
                                     code_at(secret, T0 - timedelta(seconds=60)), now=T0).ok
    assert services.authenticate(db_session, agent.email, DEFAULT_PASSWORD, code_at(secret, T0), now=T0).ok
    # Two steps away: refused.
    later = T0 + timedelta(minutes=5)
    assert not services.authenticate(db_session, agent.email, DEFAULT_PASSWORD,
                                     code_at(secret, later + timedelta(seconds=90)), now=later).ok


def test_missing_fields_are_explained_next_to_each_field(client):
    page = client.get("/agents/connexion").get_data(as_text=True)
    from tests.agents.helpers import csrf_token
    response = client.post("/agents/connexion", data={"csrf_token": csrf_token(page), "email": "",
                                                       "password": "", "code": "12ab"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "<title>Erreur : " in html
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert "Saisissez votre mot de passe." in html and 'id="password-error"' in html
    assert "Le code doit compter 6 chiffres" in html and 'code-error"' in html
    assert 'href="#email"' in html and 'href="#password"' in html and 'href="#code"' in html


def test_lockout_after_repeated_failures_even_with_the_right_password(ctx, app):
    db_session = ctx
    agent, secret = make_agent(db_session, email="verrou@interieur.gouv.fr")
    max_failures, lock = app.config["AGENT_MAX_FAILURES"], app.config["AGENT_LOCK_MINUTES"]
    results = []
    for i in range(max_failures):
        now = T0 + timedelta(seconds=i)
        results.append(services.authenticate(db_session, agent.email, "faux-mot-de-passe", "000000", now=now))
    assert [r.outcome for r in results] == ["failed"] * (max_failures - 1) + ["locked"]
    during = T0 + timedelta(minutes=lock - 1)
    refused = services.authenticate(db_session, agent.email, DEFAULT_PASSWORD, code_at(secret, during), now=during)
    assert refused.outcome == "locked"
    after = T0 + timedelta(minutes=lock, seconds=max_failures + 1)
    assert services.authenticate(db_session, agent.email, DEFAULT_PASSWORD, code_at(secret, after), now=after).ok
    db_session.refresh(agent)
    assert agent.failed_attempts == 0 and agent.locked_until is None
    log = actions(db_session, agent.id)
    assert log.count("login.failed") == max_failures and log.count("login.locked") == 2  # locking, then refused
    assert log[-1] == "login.ok"


def test_a_locked_account_answers_like_a_wrong_password(client, db_session, app):
    agent, secret = make_agent(db_session, email="verrouille@interieur.gouv.fr")
    agent.locked_until = datetime.now(UTC) + timedelta(minutes=10)
    agent_id = agent.id
    db_session.commit()
    response = sign_in_agent(client, "verrouille@interieur.gouv.fr", DEFAULT_PASSWORD, secret, expect_success=False)
    wrong = sign_in_agent(client, "verrouille@interieur.gouv.fr", "un-autre-mot-de-passe", secret,
                          expect_success=False)
    assert response.status_code == wrong.status_code == 400
    # Word for word the answer to a wrong password: nothing tells that the account exists and is locked.
    locked_alert = unescape(response.get_data(as_text=True)).split('id="error-summary"')[1].split("</div>")[0]
    wrong_alert = unescape(wrong.get_data(as_text=True)).split('id="error-summary"')[1].split("</div>")[0]
    assert REFUSED in locked_alert and locked_alert == wrong_alert
    assert actions(db_session, agent_id)[-2:] == ["login.locked", "login.locked"]


def test_sign_in_posts_are_rate_limited_per_address(client, db_session):
    limiter.reset()
    from tests.agents.helpers import csrf_token
    token = csrf_token(client.get("/agents/connexion").get_data(as_text=True))
    statuses = [client.post("/agents/connexion", data={"csrf_token": token, "email": f"x{i}@interieur.gouv.fr",
                                                       "password": "x" * 12, "code": "123456"}).status_code
                for i in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    limiter.reset()


def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(ctx):
    db_session = ctx
    agent, secret = make_agent(db_session, email="rehash@interieur.gouv.fr")
    agent.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(DEFAULT_PASSWORD)
    db_session.commit()
    assert passwords.needs_rehash(agent.password_hash)
    assert services.authenticate(db_session, agent.email, DEFAULT_PASSWORD, code_at(secret, T0), now=T0).ok
    db_session.refresh(agent)
    assert not passwords.needs_rehash(agent.password_hash)
    assert passwords.verify_password(agent.password_hash, DEFAULT_PASSWORD)


def test_next_goes_back_into_the_agents_space_only(client, db_session):
    _, secret = make_agent(db_session, email="suite@interieur.gouv.fr", roles=("officer", "admin"))
    response = sign_in_agent(client, "suite@interieur.gouv.fr", DEFAULT_PASSWORD, secret,
                             next_url="/agents/journal")
    assert response.headers["Location"] == "/agents/journal"
    _, secret2 = make_agent(db_session, email="suite2@interieur.gouv.fr")
    other = client.application.test_client()
    response = sign_in_agent(other, "suite2@interieur.gouv.fr", DEFAULT_PASSWORD, secret2,
                             next_url="//evil.example/agents")
    assert response.headers["Location"] == "/agents/"


def test_nothing_secret_reaches_the_logs(client, db_session, caplog):
    _, secret = make_agent(db_session, email="discret@interieur.gouv.fr")
    code = pyotp.TOTP(secret).now()
    with caplog.at_level(logging.DEBUG):
        sign_in_agent(client, "discret@interieur.gouv.fr", "mauvais-mot-de-passe-123", code=code,
                      expect_success=False)
        sign_in_agent(client, "discret@interieur.gouv.fr", DEFAULT_PASSWORD, code=code)
        client.get("/agents/")
    assert caplog.records  # the attempts were logged…
    for secret_text in (DEFAULT_PASSWORD, "mauvais-mot-de-passe-123", code, secret, "discret@interieur"):
        assert secret_text not in caplog.text  # …without a password, a code, the secret or the e-mail
    assert db_session.scalar(select(Agent.last_login_at).where(Agent.email == "discret@interieur.gouv.fr"))
