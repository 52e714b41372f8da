"""Going back to the service, and logging out, as FranceConnect's scenarios say.

Sources (france-connect/sources, quality/fcp/cypress/integration/), newest versions stored:
api/api-redirect-to-sp.feature at 498f918a1a8e08d8eed1bf563e8f8d2dfa06cc62 (the link back to
the service on FranceConnect's pages; its three scenarios on a hand-made request are not
reproduced, see local_franceconnect's docstring), usager/deconnexion-usager.feature at
cafd40430e0a4ac9059c5b98f65990e46b55cd1d and usager/connexion-sso-fcp-low.feature at
7a8566f690b9c67955757b32dbe5671246901d29 (logout and the SSO session), and
back/libs/oidc-provider/src/dto/logout-params.dto.ts.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from joserfc import jwt

from tests.local_franceconnect.conftest import STATE, error_page, sent_back


def test_redirect_to_sp_redirect_with_error(fc):
    """api-redirect-to-sp.feature — « API redirect-to-sp - Redirect with error » (fcp-low example)."""
    interaction = fc.authorize().headers["Location"]
    response = fc.http.get(fc.origin + interaction + "/abort", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Content-Type"].startswith("text/plain")
    delimiter, params = sent_back(response.headers["Location"], fc.redirect_uri)
    assert delimiter == "?"
    assert params == [("error", "access_denied"), ("error_description", "user authentication aborted"),
                      ("state", STATE), ("iss", fc.issuer)]
    assert "error_description=user+authentication+aborted" in response.headers["Location"]


def _end_session(fc, id_token, **changes):
    params = {"id_token_hint": id_token, "state": STATE, "post_logout_redirect_uri": fc.logout_uri}
    params.update(changes)
    return fc.http.get(f"{fc.issuer}/session/end", params={k: v for k, v in params.items() if v is not None},
                       allow_redirects=False)


def test_deconnexion_d_un_usager(fc):
    """deconnexion-usager.feature — « Déconnexion d'un usager (FI sans endSessionUrl) »: back to the
    service with its state, the FranceConnect session destroyed, the ``fc_session_id`` cookie deleted.
    """
    id_token = fc.token(fc.code()).json()["id_token"]
    assert "fc_session_id" in fc.http.cookies
    response = _end_session(fc, id_token)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{fc.logout_uri}?state={STATE}"
    assert "fc_session_id=;" in response.headers["Set-Cookie"]
    assert "fc_session_id" not in fc.http.cookies
    again = fc.authorize(prompt=None)
    assert "/interaction/" in again.headers["Location"]  # FranceConnect asks who you are


def test_connexion_sso_fcp_low_deconnexion_et_sso_termine(fc):
    """connexion-sso-fcp-low.feature — « Connexion SSO - FCP Low - déconnexion d'un FS seulement et SSO terminé »:
    within 30 minutes FranceConnect answers at once (unless ``prompt=login``); after logout it asks again.
    """
    id_token = fc.token(fc.code()).json()["id_token"]
    sso = fc.authorize(prompt="consent")
    assert sso.status_code == 303 and dict(parse_qsl(urlsplit(sso.headers["Location"]).query))["code"]
    assert "/interaction/" in fc.authorize(prompt="login").headers["Location"]
    assert _end_session(fc, id_token).status_code == 303
    assert "/interaction/" in fc.authorize(prompt="consent").headers["Location"]


def test_logout_accepts_an_expired_id_token_hint(fc):
    """oidc-provider validates ``id_token_hint`` with ``ignoreExpiration``: a service may log out hours later."""
    id_token = fc.token(fc.code()).json()["id_token"]
    claims = jwt.decode(id_token, fc.jwks(), algorithms=["ES256"]).claims
    expired = fc.provider.sign({**claims, "iat": claims["iat"] - 7200, "exp": claims["exp"] - 7200})
    assert _end_session(fc, expired).status_code == 303


def test_logout_requires_a_valid_hint_for_this_service_and_a_declared_address(fc):
    """LogoutParamsDto (``id_token_hint`` required) and oidc-provider's end_session checks: an error
    page, never a redirect.
    """
    id_token = fc.token(fc.code()).json()["id_token"]
    missing = _end_session(fc, None)
    assert missing.status_code == 400 and error_page(missing)[0] == "Y000400"
    forged = _end_session(fc, id_token[:-4] + "AAAA")
    assert forged.status_code == 400 and error_page(forged)[0] == "Y045AFAE"
    other_alg = fc.provider.sign(jwt.decode(id_token, fc.jwks(), algorithms=["ES256"]).claims, "RS256")
    assert _end_session(fc, other_alg).status_code == 400  # not the algorithm registered for this service
    elsewhere = _end_session(fc, id_token, post_logout_redirect_uri="https://evil.example/")
    assert elsewhere.status_code == 400 and "Location" not in elsewhere.headers
    assert _end_session(fc, id_token).status_code == 303  # none of the refusals ended the session


def test_logout_without_a_return_address_ends_the_session_on_franceconnect(fc):
    """deconnexion-usager.feature — « Déconnexion depuis un FS sans post logout redirect uri »: the session
    ends and FranceConnect shows its own logout confirmation (``post_logout_redirect_uri`` is optional in
    LogoutParamsDto).
    """
    id_token = fc.token(fc.code()).json()["id_token"]
    response = _end_session(fc, id_token, post_logout_redirect_uri=None)
    assert response.status_code == 200 and "Location" not in response.headers
    assert "déconnecté de FranceConnect" in response.text
    assert "fc_session_id" not in fc.http.cookies
