"""Agents' sign-in with ProConnect (AGENTS_OIDC_*), against the local FranceConnect standing in for ProConnect.

ProConnect runs FranceConnect's software; the local FranceConnect registers the agents' space as a second
client (EXTRA_CLIENTS) with ProConnect's ``usual_name`` scope. The portal is a throwaway one configured with
that provider; the browser is the citizens' test helper (portal: Flask test client, provider: real HTTP).
ProConnect replaces the password only: back from it, the agent types their TOTP code at /agents/connexion/code.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest
import requests
from sqlalchemy import select, update

from agents import proconnect, services
from agents.models import Agent, AgentSession, AuditEvent
from local_franceconnect.identities import SCOPE_CLAIMS
from maps.models import Station
from portal.benchserver import free_port
from portal.extensions import db
from portal.security import limiter
from tests.accounts.conftest import Browser, csrf_token, path_of, query
from tests.agents.helpers import DEFAULT_PASSWORD
from tests.conftest import make_app, start_local_fc

UNIT = "police-72181-test"
CLIENT_ID = "espace-agents-local"
CLIENT_SECRET = "secret-de-l-espace-agents-pour-les-tests"
# The identities of the local provider used here, and their e-mails.
PAUL = ("nom_compose", "paul.delafontaine@example.org")
MARIE = ("prenom_compose", "mc.leroy@example.org")
ANGELA = ("test", "wossewodda-3728@yopmail.com")
PAUL_TOTP_SECRET = "PAULDELAFONTAINETESTSECRETAB2345"
CODE_PAGE = "/agents/connexion/code"


@pytest.fixture(scope="module")
def provider():
    portal_url = f"http://127.0.0.1:{free_port()}"
    started = start_local_fc(PORTAL_PUBLIC_URL=portal_url, EXTRA_CLIENTS=[{
        "client_id": CLIENT_ID, "secret": CLIENT_SECRET, "name": "Espace agents du portail",
        "redirect_uris": [f"{portal_url}/agents/connexion/proconnect/retour"],
        "post_logout_redirect_uris": [f"{portal_url}/agents/deconnexion/proconnect/retour"],
        "scopes": [*SCOPE_CLAIMS, "usual_name"],
    }])
    started.portal_url = portal_url
    yield started
    started.server.stop()


@pytest.fixture
def oidc_app(tmp_path, provider):
    """A portal whose agents sign in with the provider, on an empty database with one Le Mans unit."""
    application = make_app(tmp_path, PUBLIC_URL=provider.portal_url, FRANCECONNECT_ISSUER=provider.issuer,
                           AGENTS_OIDC_ISSUER=provider.issuer, AGENTS_OIDC_CLIENT_ID=CLIENT_ID,
                           AGENTS_OIDC_CLIENT_SECRET=CLIENT_SECRET)
    with application.app_context():
        db.session.add(Station(id=UNIT, kind="police", name="Commissariat de police du Mans (test)",
                               commune="Le Mans", code_insee="72181", department_code="72",
                               updated_at=datetime.now(UTC)))
        services.create_agent(db.session, "Paul.DelaFontaine@example.org", ["officer"], unit_id=UNIT,
                              password=DEFAULT_PASSWORD, display_name="Paul De La Fontaine",
                              totp_secret=PAUL_TOTP_SECRET)
        inactive, _ = services.create_agent(db.session, MARIE[1], ["officer"], unit_id=UNIT)
        inactive.active = False
        db.session.commit()
    provider.provider.faults.clear()
    limiter.reset()
    yield application
    provider.provider.faults.clear()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def new_browser(oidc_app, provider) -> Browser:
    parts = urlsplit(provider.issuer)
    return Browser(oidc_app.test_client(), requests.Session(), f"{parts.scheme}://{parts.netloc}")


@pytest.fixture
def browser(oidc_app, provider):
    return new_browser(oidc_app, provider)


def start(browser: Browser, next_url: str | None = None) -> str:
    """Click "S'identifier avec ProConnect"; returns the provider's authorize URL."""
    page = browser.portal.get("/agents/connexion" + (f"?next={next_url}" if next_url else ""))
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.get_data(as_text=True))}
    if next_url:
        data["next"] = next_url
    response = browser.portal.post("/agents/connexion/proconnect", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def back_from_proconnect(browser: Browser, login: str = PAUL[0], next_url: str | None = None):
    """ProConnect's part of the sign-in: the portal answers with its code page."""
    answer = browser.come_back(browser.pick_identity(start(browser, next_url=next_url), login))
    assert answer.status_code == 303 and answer.headers["Location"] == CODE_PAGE, answer.get_data(as_text=True)[:500]
    return answer


def send_code(browser: Browser, code: str):
    page = browser.portal.get(CODE_PAGE)
    assert page.status_code == 200, page.headers.get("Location")
    return browser.portal.post(CODE_PAGE, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                "code": code})


def current_code() -> str:
    return pyotp.TOTP(PAUL_TOTP_SECRET).now()


def wrong_code() -> str:
    return f"{(int(current_code()) + 1) % 1_000_000:06d}"


def sign_in_with_proconnect(browser: Browser):
    back_from_proconnect(browser)
    answer = send_code(browser, current_code())
    assert answer.status_code == 303 and answer.headers["Location"] == "/agents/"
    return answer


def paul(app) -> Agent:
    with app.app_context():
        agent = services.find_agent(db.session, PAUL[1])
        db.session.expunge(agent)
        return agent


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def session_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(AgentSession)).all())


def test_the_sign_in_page_offers_proconnect_instead_of_the_password(browser, provider):
    page = browser.portal.get("/agents/connexion")
    html = page.get_data(as_text=True)
    assert "fr-connect--pro" in html and "ProConnect" in html
    assert 'name="password"' not in html and 'name="code"' not in html
    # The button's form leads to the provider: CSP form-action allows its origin on this page.
    assert browser.fc_origin in page.headers["Content-Security-Policy"].split("form-action")[1].split(";")[0]


def test_the_authorization_request_carries_every_check(browser, provider):
    params = query(start(browser))
    assert params["client_id"] == CLIENT_ID and params["response_type"] == "code"
    assert params["scope"] == "openid email given_name usual_name"
    assert params["redirect_uri"] == f"{provider.portal_url}/agents/connexion/proconnect/retour"
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32 and params["state"] != params["nonce"]


def test_a_provisioned_agent_signs_in_with_proconnect_then_the_code_and_reaches_the_console(browser, oidc_app):
    answer = back_from_proconnect(browser, next_url="/agents/journal")
    # ProConnect replaces the password only: no agent session yet, the console stays closed.
    assert "portail_agent=" not in answer.headers.get("Set-Cookie", "")
    assert session_count(oidc_app) == 0 and events(oidc_app, "login.ok") == []
    closed = browser.portal.get("/agents/")
    assert closed.status_code == 303 and closed.headers["Location"].startswith("/agents/connexion")
    page = browser.portal.get(CODE_PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Code de vérification" in html and 'name="code"' in html
    assert 'name="password"' not in html and 'autocomplete="one-time-code"' in html
    assert page.headers["Cache-Control"] == "no-store"

    done = browser.portal.post(CODE_PAGE, data={"csrf_token": csrf_token(html), "code": current_code()})
    assert done.status_code == 303 and done.headers["Location"] == "/agents/journal"  # the page asked first
    assert "portail_agent=" in done.headers.get("Set-Cookie", "")
    home = browser.portal.get("/agents/")
    assert home.status_code == 200
    assert "Paul De La Fontaine" in home.get_data(as_text=True)
    ok = events(oidc_app, "login.ok")
    assert len(ok) == 1 and ok[0].agent_email == PAUL[1] and ok[0].target_type == "proconnect"
    assert session_count(oidc_app) == 1
    assert paul(oidc_app).last_login_at is not None
    # The pending state is gone: the code page now sends back to the sign-in.
    after = browser.portal.get(CODE_PAGE)
    assert after.status_code == 303 and after.headers["Location"] == "/agents/connexion"


def test_the_code_page_without_a_proconnect_sign_in_sends_to_the_sign_in_page(browser, oidc_app):
    page = browser.portal.get(CODE_PAGE)
    assert page.status_code == 303 and page.headers["Location"] == "/agents/connexion"
    sign_in_page = browser.portal.get("/agents/connexion")
    answer = browser.portal.post(CODE_PAGE, data={"csrf_token": csrf_token(sign_in_page.get_data(as_text=True)),
                                                  "code": current_code()})
    assert answer.status_code == 303 and answer.headers["Location"] == "/agents/connexion"
    assert session_count(oidc_app) == 0 and events(oidc_app, "login.failed") == []


def test_the_code_form_without_csrf_token_is_refused(browser, oidc_app):
    back_from_proconnect(browser)
    answer = browser.portal.post(CODE_PAGE, data={"code": current_code()})
    assert answer.status_code == 400 and session_count(oidc_app) == 0


def test_a_wrong_code_is_refused_counted_and_the_right_one_then_accepted(browser, oidc_app):
    back_from_proconnect(browser)
    answer = send_code(browser, wrong_code())
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "<title>Erreur : " in html and 'id="error-summary"' in html and 'href="#code"' in html
    assert 'id="code-error"' in html and 'aria-describedby="code-hint code-error"' in html
    assert "Code incorrect ou déjà utilisé" in html
    assert "portail_agent=" not in answer.headers.get("Set-Cookie", "") and session_count(oidc_app) == 0
    assert paul(oidc_app).failed_attempts == 1
    failed = events(oidc_app, "login.failed")
    assert len(failed) == 1 and failed[0].agent_email == PAUL[1] and failed[0].target_type == "proconnect"
    assert send_code(browser, current_code()).status_code == 303  # still pending: the right code goes through
    assert paul(oidc_app).failed_attempts == 0 and session_count(oidc_app) == 1


@pytest.mark.parametrize(("typed", "message"), [("", "Saisissez le code à 6 chiffres"),
                                                ("12ab56", "Le code doit compter 6 chiffres")])
def test_a_missing_or_malformed_code_is_explained_and_not_counted(browser, oidc_app, typed, message):
    back_from_proconnect(browser)
    answer = send_code(browser, typed)
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert paul(oidc_app).failed_attempts == 0 and events(oidc_app, "login.failed") == []


def test_a_replayed_code_is_refused(browser, oidc_app, provider):
    sign_in_with_proconnect(browser)
    used = paul(oidc_app).last_totp_step
    # Someone who saw the code, in another browser, through ProConnect as the same agent.
    other = new_browser(oidc_app, provider)
    back_from_proconnect(other)
    answer = send_code(other, pyotp.TOTP(PAUL_TOTP_SECRET).at(used * 30))  # the code just used
    assert answer.status_code == 400 and "Code incorrect ou déjà utilisé" in answer.get_data(as_text=True)
    assert "portail_agent=" not in answer.headers.get("Set-Cookie", "")
    assert session_count(oidc_app) == 1 and paul(oidc_app).last_totp_step == used
    assert len(events(oidc_app, "login.failed")) == 1


def test_lockout_after_repeated_wrong_codes_even_with_the_right_one(browser, oidc_app):
    back_from_proconnect(browser)
    max_failures = oidc_app.config["AGENT_MAX_FAILURES"]
    answers = [send_code(browser, wrong_code()) for _ in range(max_failures)]
    assert [a.status_code for a in answers] == [400] * max_failures
    assert paul(oidc_app).locked_until is not None
    assert len(events(oidc_app, "login.failed")) == max_failures and len(events(oidc_app, "login.locked")) == 1
    refused = send_code(browser, current_code())
    # Word for word the answer to a wrong code.
    assert refused.status_code == 400 and "Code incorrect ou déjà utilisé" in refused.get_data(as_text=True)
    assert "portail_agent=" not in refused.headers.get("Set-Cookie", "") and session_count(oidc_app) == 0
    assert len(events(oidc_app, "login.locked")) == 2 and events(oidc_app, "login.ok") == []
    assert browser.portal.get("/agents/").status_code == 303


def test_the_code_page_is_rate_limited_like_the_password_form(tmp_path, provider):
    application = make_app(tmp_path, PUBLIC_URL=provider.portal_url, AGENTS_OIDC_ISSUER=provider.issuer,
                           AGENTS_OIDC_CLIENT_ID=CLIENT_ID, AGENTS_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                           AGENT_SIGN_IN_RATE_LIMIT="2 per minute")
    limiter.reset()
    try:
        client = application.test_client()
        token = csrf_token(client.get("/agents/connexion").get_data(as_text=True))
        statuses = [client.post(CODE_PAGE, data={"csrf_token": token, "code": "123456"}).status_code
                    for _ in range(3)]
        assert statuses == [303, 303, 429]
    finally:
        limiter.reset()
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_pending_code_expires_after_five_minutes(browser, oidc_app):
    back_from_proconnect(browser, next_url="/agents/journal")
    with browser.portal.session_transaction() as flask_session:
        pending = flask_session[proconnect.SECOND_FACTOR_KEY]
        flask_session[proconnect.SECOND_FACTOR_KEY] = {**pending, "at": pending["at"] - 5 * 60 - 1}
    page = browser.portal.get(CODE_PAGE)
    assert page.status_code == 303
    assert page.headers["Location"] == "/agents/connexion?next=/agents/journal&delai=1"
    assert "délai pour saisir le code" in browser.portal.get(page.headers["Location"]).get_data(as_text=True)
    # The state is gone: even the right code opens nothing now.
    answer = browser.portal.post(CODE_PAGE, data={"csrf_token": csrf_token(
        browser.portal.get("/agents/connexion").get_data(as_text=True)), "code": current_code()})
    assert answer.status_code == 303 and answer.headers["Location"] == "/agents/connexion"
    assert session_count(oidc_app) == 0 and events(oidc_app, "login.ok") == []


def test_an_agent_without_a_totp_secret_cannot_complete_the_sign_in(browser, oidc_app):
    with oidc_app.app_context():
        db.session.execute(update(Agent).where(Agent.email == PAUL[1]).values(totp_secret=None))
        db.session.commit()
    answer = browser.come_back(browser.pick_identity(start(browser), PAUL[0]))
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 403 and "administrateur" in html and "application d'authentification" in html
    assert "portail_agent=" not in answer.headers.get("Set-Cookie", "") and session_count(oidc_app) == 0
    refused = events(oidc_app, "login.refused")
    assert len(refused) == 1 and refused[0].agent_email == PAUL[1]
    assert browser.portal.get(CODE_PAGE).headers["Location"] == "/agents/connexion"


def test_agents_are_always_created_with_a_totp_secret(oidc_app):
    with oidc_app.app_context():
        agent, secret = services.create_agent(db.session, "sans.mot.de.passe@example.org", ["editor"])
        assert secret and agent.totp_secret == secret and agent.password_hash == ""
        db.session.rollback()


def test_leaving_at_the_code_page_ends_the_pending_sign_in_and_proconnect_s(browser, oidc_app):
    back_from_proconnect(browser)
    page = browser.portal.get(CODE_PAGE)
    out = browser.portal.post("/agents/deconnexion", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert out.status_code == 303 and out.headers["Location"].startswith(browser.fc_origin + "/api/v2/session/end?")
    assert "id_token_hint=" in out.headers["Location"]
    assert browser.portal.get(CODE_PAGE).headers["Location"] == "/agents/connexion"
    assert session_count(oidc_app) == 0


def test_an_unknown_e_mail_is_refused_and_recorded(browser, oidc_app):
    answer = browser.come_back(browser.pick_identity(start(browser), ANGELA[0]))
    assert answer.status_code == 403
    assert "aucun agent actif" in answer.get_data(as_text=True)
    assert "portail_agent=" not in answer.headers.get("Set-Cookie", "")
    assert session_count(oidc_app) == 0
    refused = events(oidc_app, "login.refused")
    assert len(refused) == 1 and refused[0].agent_id is None and refused[0].agent_email == ANGELA[1]
    assert browser.portal.get("/agents/").status_code == 303  # still sent to the sign-in page
    with oidc_app.app_context():  # never created on the way
        assert services.find_agent(db.session, ANGELA[1]) is None


def test_an_inactive_agent_is_refused(browser, oidc_app):
    answer = browser.come_back(browser.pick_identity(start(browser), MARIE[0]))
    assert answer.status_code == 403
    assert session_count(oidc_app) == 0
    refused = events(oidc_app, "login.refused")
    assert len(refused) == 1 and refused[0].agent_id is not None


def test_an_identity_without_e_mail_is_refused(browser, oidc_app):
    answer = browser.come_back(browser.pick_identity(start(browser), "sans_mail"))
    assert answer.status_code == 403 and session_count(oidc_app) == 0


def test_a_forged_state_is_refused_and_does_not_cancel_the_real_sign_in(browser, oidc_app):
    callback = browser.pick_identity(start(browser), PAUL[0])
    forged = re.sub(r"state=[^&]+", "state=" + "f" * 64, callback)
    answer = browser.come_back(forged)
    assert answer.status_code == 400 and "ne correspond pas" in answer.get_data(as_text=True)
    assert session_count(oidc_app) == 0
    genuine = browser.come_back(callback)  # the genuine answer still goes through
    assert genuine.status_code == 303 and genuine.headers["Location"] == CODE_PAGE
    assert send_code(browser, current_code()).status_code == 303
    assert session_count(oidc_app) == 1


@pytest.mark.parametrize("iss", ["https://faux-proconnect.example/api/v2", None])
def test_an_answer_from_another_issuer_is_refused(browser, oidc_app, iss):
    callback = browser.pick_identity(start(browser), PAUL[0])
    params = query(callback)
    if iss is None:
        params.pop("iss")
    else:
        params["iss"] = iss
    answer = browser.portal.get(urlsplit(callback).path + "?" + urlencode(params))
    assert answer.status_code == 400 and "ne vient pas de ProConnect" in answer.get_data(as_text=True)
    assert session_count(oidc_app) == 0


def test_a_callback_without_a_sign_in_under_way_is_refused(browser, oidc_app):
    answer = browser.portal.get("/agents/connexion/proconnect/retour?code=abc&state=" + "a" * 64)
    assert answer.status_code == 400 and "Connexion expirée" in answer.get_data(as_text=True)
    assert session_count(oidc_app) == 0


@pytest.mark.parametrize("fault", ["userinfo_tampered", "wrong_nonce", "wrong_aud"])
def test_unverifiable_tokens_are_refused(browser, oidc_app, provider, fault):
    callback = browser.pick_identity(start(browser), PAUL[0])
    provider.provider.faults.add(fault)
    answer = browser.come_back(callback)
    assert answer.status_code == 400 and "pu être vérifiée" in answer.get_data(as_text=True)
    assert session_count(oidc_app) == 0


def test_the_password_form_is_refused_while_proconnect_is_configured(browser, oidc_app):
    page = browser.portal.get("/agents/connexion")
    answer = browser.portal.post("/agents/connexion", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": PAUL[1], "password": DEFAULT_PASSWORD,
        "code": "123456"})
    assert answer.status_code == 403 and "ProConnect" in answer.get_data(as_text=True)
    assert "portail_agent=" not in answer.headers.get("Set-Cookie", "")
    assert session_count(oidc_app) == 0 and events(oidc_app, "login.failed") == []


def test_sign_out_ends_the_agent_session_and_proconnect_s(browser, oidc_app):
    sign_in_with_proconnect(browser)
    home = browser.portal.get("/agents/")
    out = browser.portal.post("/agents/deconnexion", data={"csrf_token": csrf_token(home.get_data(as_text=True))})
    assert out.status_code == 303 and out.headers["Location"].startswith(browser.fc_origin + "/api/v2/session/end?")
    assert session_count(oidc_app) == 0
    assert browser.portal.get("/agents/").status_code == 303
    back = browser.fc.get(out.headers["Location"], allow_redirects=False)
    assert back.status_code == 303 and "/agents/deconnexion/proconnect/retour?state=" in back.headers["Location"]
    done = browser.portal.get(path_of(back.headers["Location"]))
    assert done.status_code == 303 and done.headers["Location"].endswith("/agents/connexion?deconnecte=1")
    # The provider's single sign-on ended too: the next click asks who signs in.
    again = browser.fc.get(start(browser), allow_redirects=False)
    assert "/interaction/" in again.headers["Location"]


def test_without_proconnect_the_password_form_stays_and_its_routes_do_not_exist(client):
    html = client.get("/agents/connexion").get_data(as_text=True)
    assert 'name="password"' in html and "fr-connect--pro" not in html
    assert client.get("/agents/connexion/proconnect/retour?state=x&code=y").status_code == 404
    assert client.get(CODE_PAGE).status_code == 404


def test_password_and_code_failures_share_one_count_and_one_lock(oidc_app):
    """check_second_factor (after ProConnect) and authenticate (password) count towards the same lock."""
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    max_failures = oidc_app.config["AGENT_MAX_FAILURES"]
    with oidc_app.app_context():
        for i in range(max_failures - 1):
            assert services.authenticate(db.session, PAUL[1], "faux-mot-de-passe", "000000",
                                         now=t0 + timedelta(seconds=i)).outcome == "failed"
        agent = services.find_agent(db.session, PAUL[1])
        wrong = f"{(int(pyotp.TOTP(PAUL_TOTP_SECRET).at(t0)) + 1) % 1_000_000:06d}"
        assert services.check_second_factor(db.session, agent, wrong, now=t0 + timedelta(seconds=10)).outcome \
            == "locked"
        right = pyotp.TOTP(PAUL_TOTP_SECRET).at(t0 + timedelta(seconds=20))
        assert services.check_second_factor(db.session, agent, right, now=t0 + timedelta(seconds=20)).outcome \
            == "locked"
        later = t0 + timedelta(minutes=oidc_app.config["AGENT_LOCK_MINUTES"], seconds=30)
        assert services.check_second_factor(db.session, agent, pyotp.TOTP(PAUL_TOTP_SECRET).at(later),
                                            now=later).ok
        db.session.commit()
    assert [e.target_type for e in events(oidc_app, "login.locked")] == ["proconnect", "proconnect"]
    assert len(events(oidc_app, "login.failed")) == max_failures
