"""Signing in with FranceConnect, over real HTTP against the local FranceConnect, and every refusal."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import select

from accounts import franceconnect as fc_module
from accounts.models import Account, OutboxMessage, WebSession
from tests.accounts.conftest import csrf_token, path_of, query
from tests.conftest import free_port, make_app


def _signed_in(browser) -> bool:
    return browser.portal.get("/mon-espace").status_code == 200


def test_the_authorization_request_carries_what_franceconnect_requires(browser, local_fc):
    url = browser.start_franceconnect("/mon-espace")
    params = query(url)
    assert url.startswith(f"{local_fc.issuer}/authorize?")
    assert params["response_type"] == "code"
    assert params["acr_values"] == "eidas1"
    assert params["scope"].split() == ["openid", "given_name", "family_name", "birthdate", "gender",
                                       "birthplace", "birthcountry", "email"]
    assert len(params["state"]) == 64 and len(params["nonce"]) == 64
    assert params["state"] != params["nonce"]
    assert params["redirect_uri"] == f"{local_fc.portal_url}/connexion/franceconnect/retour"
    assert query(browser.start_franceconnect())["state"] != params["state"]  # fresh for each attempt


def test_sign_in_brings_the_citizen_back_with_their_identity(browser, app, db_session, caplog):
    with caplog.at_level(logging.INFO, logger="accounts.audit"):
        response = browser.sign_in("test", "/demarches/plainte-en-ligne/commencer")
    assert response.status_code == 302
    assert response.headers["Location"] == "/demarches/plainte-en-ligne/commencer"
    html = browser.portal.get("/demarches/plainte-en-ligne/commencer").get_data(as_text=True)
    for shown in ("DUBOIS", "Angela Claire Louise", "24 août 1962", "Commune de code INSEE 75107",
                  "wossewodda-3728@yopmail.com", "ne peuvent pas être modifiées"):
        assert shown in html
    account = db_session.scalars(select(Account).order_by(Account.last_login_at.desc())).first()
    assert account.issuer == app.config["FRANCECONNECT_ISSUER"]
    assert len(account.subject) == 66 and account.subject.endswith("v1")
    assert account.identity_verified
    assert "login ok: method=franceconnect" in caplog.text
    assert "DUBOIS" not in caplog.text and "wossewodda" not in caplog.text


def test_the_same_person_gets_the_same_account(browser, app, local_fc, db_session):
    browser.sign_in("prenom_compose")
    first = db_session.scalars(select(Account).order_by(Account.last_login_at.desc())).first()
    other = type(browser)(app.test_client(), requests.Session(), browser.fc_origin)
    other.sign_in("prenom_compose")
    again = db_session.scalars(select(Account).order_by(Account.last_login_at.desc())).first()
    assert again.id == first.id
    assert db_session.scalars(select(Account).where(Account.subject == first.subject)).all() == [again]


def test_identity_quirks_are_shown_not_rejected(browser):
    browser.sign_in("naissance_etranger")
    html = browser.portal.get("/mon-espace").get_data(as_text=True)
    assert "BENALI" in html and "pays de code INSEE 99352" in html
    assert browser.portal.post("/deconnexion", data={"csrf_token": _token(browser)}).status_code == 303
    browser.fc.cookies.clear()
    browser.sign_in("sans_mail")
    html = browser.portal.get("/mon-espace").get_data(as_text=True)
    assert "BERNARD" in html and "Non communiquée" in html


def _token(browser) -> str:
    from tests.accounts.conftest import csrf_token

    return csrf_token(browser.portal.get("/mon-espace").get_data(as_text=True))


def test_the_session_cookie_holds_no_identity(browser, app, db_session):
    browser.sign_in("test")
    cookie = browser.portal.get_cookie("portail_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert "DUBOIS" not in cookie.value and "." not in cookie.value and len(cookie.value) >= 43
    rows = db_session.scalars(select(WebSession)).all()
    assert any(r.data.get("identity", {}).get("family_name") == "DUBOIS" for r in rows)
    assert all(cookie.value not in r.id_hash for r in rows)  # stored hashed


def test_signing_in_gives_a_new_session_identifier(browser):
    authorize_url = browser.start_franceconnect()  # the sign-in under way is kept on the server
    before = browser.portal.get_cookie("portail_session").value
    browser.come_back(browser.pick_identity(authorize_url))
    after = browser.portal.get_cookie("portail_session").value
    assert after != before
    planted = browser.portal.__class__(browser.portal.application)
    planted.set_cookie("portail_session", before)
    assert planted.get("/mon-espace").status_code == 302  # the old identifier opens nothing


REFUSALS = [
    ("wrong_nonce", "id_token_nonce"),
    ("wrong_aud", "id_token_aud"),
    ("wrong_iss", "id_token_iss"),
    ("expired", "id_token_exp"),
    ("alg_none", "id_token_algorithm"),
    ("hs256_public_key", "id_token_algorithm"),
    ("low_acr", "id_token_acr"),
    ("unpublished_kid", "id_token_unknown_kid"),
]


@pytest.mark.parametrize(("fault", "reason"), REFUSALS, ids=[f for f, _ in REFUSALS])
def test_a_bad_id_token_is_refused_and_logged(browser, local_fc, caplog, fault, reason):
    callback = browser.pick_identity(browser.start_franceconnect("/mon-espace"))
    local_fc.provider.faults.add(fault)
    with caplog.at_level(logging.WARNING, logger="accounts.audit"):
        response = browser.come_back(callback)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Connexion refusée" in html and "S’identifier avec" in html and "adresse électronique" in html
    assert f"franceconnect login refused: reason={reason}" in caplog.text
    assert not _signed_in(browser)


USERINFO_REFUSALS = [
    ("userinfo_json", "userinfo_not_signed"),
    ("userinfo_tampered", "userinfo_signature"),
    ("userinfo_wrong_aud", "userinfo_aud"),
]


@pytest.mark.parametrize(("fault", "reason"), USERINFO_REFUSALS, ids=[f for f, _ in USERINFO_REFUSALS])
def test_unsigned_or_tampered_userinfo_is_refused(browser, local_fc, caplog, fault, reason):
    callback = browser.pick_identity(browser.start_franceconnect())
    local_fc.provider.faults.add(fault)
    with caplog.at_level(logging.WARNING, logger="accounts.audit"):
        response = browser.come_back(callback)
    assert response.status_code == 400
    assert f"reason={reason}" in caplog.text
    assert not _signed_in(browser)


class _JwksCounter:
    def __init__(self, monkeypatch):
        self.count = 0
        real_get = requests.get

        def counting_get(url, *args, **kwargs):
            if url.endswith("/jwks"):
                self.count += 1
            return real_get(url, *args, **kwargs)

        monkeypatch.setattr(fc_module.requests, "get", counting_get)


def test_a_new_signing_key_triggers_exactly_one_jwks_refetch(browser, app, local_fc, monkeypatch):
    browser.sign_in("test")  # keys cached by now
    counter = _JwksCounter(monkeypatch)
    local_fc.provider.rotate()
    other = type(browser)(app.test_client(), requests.Session(), browser.fc_origin)
    response = other.sign_in("test", "/mon-espace")
    assert response.headers["Location"] == "/mon-espace"
    assert counter.count == 1


def test_an_unknown_key_is_refetched_once_then_refused(browser, app, local_fc, monkeypatch):
    browser.sign_in("test")  # keys cached by now
    counter = _JwksCounter(monkeypatch)
    other = type(browser)(app.test_client(), requests.Session(), browser.fc_origin)
    callback = other.pick_identity(other.start_franceconnect())
    local_fc.provider.faults.add("unpublished_kid")
    assert other.come_back(callback).status_code == 400
    assert counter.count == 1


def test_a_state_that_does_not_match_is_refused(browser, caplog):
    callback = browser.pick_identity(browser.start_franceconnect())
    params = query(callback)
    forged = path_of(callback).replace(params["state"], "0" * 64)
    with caplog.at_level(logging.WARNING, logger="accounts.audit"):
        response = browser.portal.get(forged)
    assert response.status_code == 400 and "ne correspond pas" in response.get_data(as_text=True)
    assert "reason=state_mismatch" in caplog.text
    assert not _signed_in(browser)


def test_a_callback_without_a_pending_login_is_refused(browser):
    response = browser.portal.get("/connexion/franceconnect/retour?code=abc&state=" + "a" * 64)
    assert response.status_code == 400 and "Connexion expirée" in response.get_data(as_text=True)


def test_a_code_replayed_is_refused(browser):
    callback = browser.pick_identity(browser.start_franceconnect())
    assert browser.come_back(callback).status_code == 302
    replay = browser.portal.__class__(browser.portal.application)
    assert replay.get(path_of(callback)).status_code == 400


def test_going_back_from_franceconnect_offers_a_retry_and_the_alternative(browser):
    authorize = browser.start_franceconnect("/mon-espace")
    interaction = browser.fc.get(authorize, allow_redirects=False).headers["Location"]
    back = browser.fc.get(browser.fc_origin + interaction + "/abort", allow_redirects=False)
    assert query(back.headers["Location"])["error"] == "access_denied"
    response = browser.come_back(back.headers["Location"])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Connexion annulée" in html and "S’identifier avec" in html
    assert 'href="/connexion?next=/mon-espace"' in html
    assert not _signed_in(browser)


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable"])
def test_franceconnect_errors_say_try_again(browser, local_fc, error):
    authorize = browser.start_franceconnect()
    state = query(authorize)["state"]
    response = browser.portal.get(f"/connexion/franceconnect/retour?error={error}&state={state}"
                                  f"&iss={quote(local_fc.issuer, safe='')}")
    assert response.status_code == 503
    assert "Réessayer" in response.get_data(as_text=True)


def test_an_unreachable_franceconnect_gives_connexion_indisponible(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/api/v2"
    application = make_app(tmp_path, FRANCECONNECT_ISSUER=closed, FRANCECONNECT_TIMEOUT=2)
    client = application.test_client()
    from tests.accounts.conftest import csrf_token

    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    response = client.post("/connexion/franceconnect", data={"csrf_token": token})
    assert response.status_code == 503
    assert "Connexion indisponible" in response.get_data(as_text=True)
    # The rest of the portal is unaffected.
    assert client.get("/demarches/").status_code == 200
    assert client.get("/accessibilite").status_code == 200


def test_a_slow_franceconnect_times_out(tmp_path, local_fc):
    application = make_app(tmp_path, FRANCECONNECT_ISSUER=local_fc.issuer, FRANCECONNECT_TIMEOUT=1,
                           PUBLIC_URL=local_fc.portal_url)
    client = application.test_client()
    from tests.accounts.conftest import csrf_token

    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    local_fc.provider.faults.add("slow")
    try:
        response = client.post("/connexion/franceconnect", data={"csrf_token": token})
    finally:
        local_fc.provider.faults.clear()
    assert response.status_code == 503 and "Connexion indisponible" in response.get_data(as_text=True)


def test_logout_ends_the_portal_and_the_franceconnect_sessions(browser):
    browser.sign_in("test")
    token = _token(browser)
    response = browser.portal.post("/deconnexion", data={"csrf_token": token})
    end_session = response.headers["Location"]
    params = query(end_session)
    assert end_session.split("?")[0].endswith("/api/v2/session/end")
    assert params["post_logout_redirect_uri"].endswith("/deconnexion/retour")
    assert len(params["state"]) == 64 and params["id_token_hint"].count(".") == 2
    assert not _signed_in(browser)  # local session ended first

    back = browser.fc.get(end_session, allow_redirects=False)
    assert back.status_code == 303 and query(back.headers["Location"])["state"] == params["state"]
    done = browser.come_back(back.headers["Location"])
    assert done.headers["Location"].endswith("franceconnect=ok")
    page = browser.portal.get(path_of(done.headers["Location"]))
    assert "déconnecté du portail et de FranceConnect" in page.get_data(as_text=True)
    assert page.headers["Clear-Site-Data"] == '"cache", "storage"'
    # FranceConnect's single sign-on ended too: signing in again asks who you are.
    authorize = browser.start_franceconnect()
    assert "/interaction/" in browser.fc.get(authorize, allow_redirects=False).headers["Location"]


def test_without_logout_franceconnect_would_sign_the_next_person_in(browser):
    """Why logging out of FranceConnect matters: its 30-minute session answers at once."""
    browser.sign_in("test")
    browser.portal.delete_cookie("portail_session")
    authorize = browser.start_franceconnect()
    assert "/interaction/" not in browser.fc.get(authorize, allow_redirects=False).headers["Location"]


def test_a_logout_return_with_the_wrong_state_is_not_confirmed(browser):
    browser.sign_in("test")
    response = browser.portal.post("/deconnexion", data={"csrf_token": _token(browser)})
    assert "session/end" in response.headers["Location"]
    done = browser.portal.get("/deconnexion/retour?state=" + "f" * 64)
    assert done.headers["Location"].endswith("franceconnect=non-confirme")
    page = browser.portal.get(path_of(done.headers["Location"])).get_data(as_text=True)
    assert "non confirmée" in page


@pytest.mark.parametrize("hostile", ["//evil.example/x", "/\\evil.example", "/\t/evil.example",
                                     "https://evil.example/", "javascript:alert(1)", "mon-espace"])
def test_the_return_address_is_always_a_local_path(browser, hostile):
    response = browser.sign_in("test", hostile)
    assert response.headers["Location"] == "/mon-espace"


def test_a_forged_return_does_not_cancel_the_sign_in_under_way(browser, caplog):
    """A cross-site link to the callback with another state is refused, and the real return still works."""
    callback = browser.pick_identity(browser.start_franceconnect("/mon-espace"))
    forged = f"/connexion/franceconnect/retour?code=abc&state={'1' * 64}"
    with caplog.at_level(logging.WARNING, logger="accounts.audit"):
        assert browser.portal.get(forged).status_code == 400
        assert browser.portal.get("/connexion/franceconnect/retour?state=%C3%A9t%C3%A9").status_code == 400
    assert caplog.text.count("reason=state_mismatch") == 2
    response = browser.come_back(callback)
    assert response.status_code == 302 and response.headers["Location"] == "/mon-espace"
    assert _signed_in(browser)


def test_a_citizen_signed_in_by_email_can_confirm_with_franceconnect(browser, db_session):
    client = browser.portal
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    client.post("/connexion/email", data={"csrf_token": token, "email": "claire@example.org"})
    body = db_session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == "claire@example.org")
                              .order_by(OutboxMessage.id.desc())).first()
    token = csrf_token(client.get("/connexion/email/code").get_data(as_text=True))
    client.post("/connexion/email/code", data={"csrf_token": token, "code": re.search(r"\d{6}", body).group()})
    start = client.get("/demarches/plainte-en-ligne/commencer").get_data(as_text=True)
    assert "votre identité n'a pas été vérifiée" in start
    # The start page's button goes straight to FranceConnect, and comes back here.
    form = re.search(r'<form method="post" action="(/connexion/franceconnect)">(.*?)</form>', start, re.S)
    assert form and 'name="next" value="/demarches/plainte-en-ligne/commencer"' in form.group(2)
    login_page = client.get("/connexion").get_data(as_text=True)
    assert "S’identifier avec" in login_page and "Recevoir un code" not in login_page
    back = browser.sign_in("test", "/demarches/plainte-en-ligne/commencer")
    assert back.headers["Location"] == "/demarches/plainte-en-ligne/commencer"
    html = client.get("/demarches/plainte-en-ligne/commencer").get_data(as_text=True)
    assert "DUBOIS" in html and "votre identité n'a pas été vérifiée" not in html
    assert client.get("/connexion").status_code == 302  # now verified: nothing more to sign in with


def test_an_account_with_a_large_id_stays_signed_in(app, db_session):
    from accounts import load_account

    now = datetime.now(UTC)
    db_session.add(Account(id=1_000_000, issuer="https://fc.example", subject="grand", identity_verified=True,
                           created_at=now, last_login_at=now))
    db_session.commit()
    with app.test_request_context():
        assert load_account("1000000").subject == "grand"
        for hostile in ("0", "-1", "1e6", "²", "9" * 40, "1000000 "):
            assert load_account(hostile) is None


def test_an_answer_naming_another_issuer_is_refused(browser, local_fc, caplog):
    callback = browser.pick_identity(browser.start_franceconnect())
    assert query(callback)["iss"] == local_fc.issuer  # FranceConnect names itself (RFC 9207)
    mixed_up = path_of(callback).replace("iss=", "iss=https%3A%2F%2Fautre-fournisseur.example%2F&was=")
    unnamed = path_of(callback).replace("iss=", "was=")
    with caplog.at_level(logging.WARNING, logger="accounts.audit"):
        assert browser.portal.get(mixed_up).status_code == 400
        assert browser.portal.get(unnamed).status_code == 400
    assert caplog.text.count("reason=iss_mismatch") == 2 and not _signed_in(browser)
    assert browser.come_back(callback).status_code == 302  # the real answer still signs in


def test_forged_returns_cannot_use_up_the_limit_of_the_real_one(browser):
    callback = browser.pick_identity(browser.start_franceconnect("/mon-espace"))
    statuses = [browser.portal.get(f"/connexion/franceconnect/retour?code=x&state={i:064d}").status_code
                for i in range(31)]
    assert statuses[:30] == [400] * 30 and statuses[30] == 429
    response = browser.come_back(callback)
    assert response.status_code == 302 and response.headers["Location"] == "/mon-espace"
