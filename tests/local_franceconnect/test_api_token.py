"""``token`` answers as FranceConnect's api-token.feature says (fcp-low scenarios), then oidc-provider's rules.

Source: france-connect/sources, quality/fcp/cypress/integration/api/api-token.feature at
93cd5d7c16c1d0937586a09f4c4a06dcacdb6645 (the newest version stored). Its ``@fcpHigh``
scenarios (encrypted id_token) are FranceConnect+, and its « le log technique … est
journalisé » steps read FranceConnect's own log: neither is reproduced.
"""

from __future__ import annotations

import time

from joserfc import jwt

from local_franceconnect import pairwise_sub
from portal.config import DEV_FRANCECONNECT_CLIENT_ID
from tests.local_franceconnect.conftest import NONCE, RS256_CLIENT_ID, assert_api_error, jws_header


def test_cas_nominal(fc):
    """api-token.feature — « API token - cas nominal »."""
    response = fc.token(fc.code())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in response.headers
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "id_token", "scope", "token_type"}
    assert body["expires_in"] == 60 and body["token_type"] == "Bearer"
    assert body["access_token"] and body["scope"] == "openid profile"


def test_fcp_low_id_token_avec_signature_es256(fc):
    """api-token.feature — « API token - FCP Low - id_token avec signature ES256 »."""
    response = fc.token(fc.code())
    assert response.status_code == 200
    id_token = response.json()["id_token"]
    assert id_token.count(".") == 2  # « le JWT n'est pas chiffré »
    assert jws_header(id_token) == {"alg": "ES256", "kid": "pkcs11:ES256:hsm"}
    claims = jwt.decode(id_token, fc.jwks(), algorithms=["ES256"]).claims
    assert set(claims) == {"sub", "acr", "amr", "auth_time", "nonce", "aud", "exp", "iat", "iss"}
    assert claims["acr"] == "eidas1" and claims["iss"] == fc.issuer
    assert claims["aud"] == DEV_FRANCECONNECT_CLIENT_ID and claims["nonce"] == NONCE
    assert claims["sub"] == pairwise_sub(DEV_FRANCECONNECT_CLIENT_ID, "test")
    assert claims["exp"] - claims["iat"] == 60


def test_fcp_low_id_token_avec_signature_rs256_sans_amr(fc):
    """api-token.feature — « API token - FCP Low - id_token avec signature RS256 (sans amr) »."""
    id_token = fc.rs256_tokens(claims=None)["id_token"]
    assert id_token.count(".") == 2
    assert jws_header(id_token) == {"alg": "RS256", "kid": "pkcs11:RS256:hsm"}
    claims = jwt.decode(id_token, fc.jwks(), algorithms=["RS256"]).claims
    assert set(claims) == {"sub", "acr", "auth_time", "nonce", "aud", "exp", "iat", "iss"}
    assert claims["acr"] == "eidas1" and claims["iss"] == fc.issuer and claims["aud"] == RS256_CLIENT_ID
    assert claims["sub"] == pairwise_sub(RS256_CLIENT_ID, "test")


def test_erreur_mauvais_client_secret(fc):
    """api-token.feature — « API token - erreur mauvais client_secret »."""
    assert_api_error(fc.token(fc.code(), client_secret="wrong-client-secret"), 401, "invalid_client",
                 "client authentication failed (invalid secret provided)", "Y0434A7B")


def test_erreur_code_manquant(fc):
    """api-token.feature — « API token - erreur code manquant »."""
    fc.code()
    assert_api_error(fc.token(""), 400, "invalid_request", "missing required parameter 'code' (undefined)",
                 "Y048017B")


def test_erreur_code_expire_ou_non_trouve(fc):
    """api-token.feature — « API token - erreur code expiré ou non trouvé »."""
    assert_api_error(fc.token("FRdEP6Pt4zIrHmzytWM_CZfzvkTd_cLEAPUznce_V7R"), 400, "invalid_grant",
                 "grant request is invalid (authorization code not found)", "Y049E20B")
    code = fc.code()
    fc.provider.codes[code]["expires"] = time.time() - 1  # 30 seconds later
    assert_api_error(fc.token(code), 400, "invalid_grant", "grant request is invalid (authorization code not found)",
                 "Y049E20B")


def test_erreur_code_deja_utilise(fc):
    """api-token.feature — « API token - erreur code déjà utilisé »: the first exchange works, the second not."""
    code = fc.code()
    assert fc.token(code).status_code == 200
    response = fc.token(code)
    assert_api_error(response, 400, "invalid_grant", "grant request is invalid (authorization code already consumed)",
                     "Y0416228")


def test_http_basic_is_refused_as_franceconnect_registers_client_secret_post(fc):
    """oidc-provider with ``token_endpoint_auth_method: client_secret_post``: HTTP Basic gets 401."""
    code = fc.code()
    response = fc.http.post(f"{fc.issuer}/token", data={"grant_type": "authorization_code", "code": code,
                                                         "redirect_uri": fc.redirect_uri},
                            auth=(DEV_FRANCECONNECT_CLIENT_ID, "secret"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "does not match the registered client authentication method" in response.json()["error_description"]
    assert fc.token(code).status_code == 200  # the refused attempt did not consume the code


def test_a_code_is_bound_to_its_redirect_uri_and_client_then_single_use(fc):
    """oidc-provider's authorization_code grant: checks before consuming, and a replay revokes the token."""
    code = fc.code()
    wrong_uri = fc.token(code, redirect_uri="https://autre.example/retour")
    assert wrong_uri.status_code == 400
    assert wrong_uri.json()["error_description"] == (
        "grant request is invalid (authorization code redirect_uri mismatch)")
    other_client = fc.token(code, client_id=RS256_CLIENT_ID, client_secret="secret-du-fs-signature-rs256")
    assert other_client.json()["error_description"] == "grant request is invalid (client mismatch)"
    first = fc.token(code)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert fc.userinfo(access_token).status_code == 200
    replay = fc.token(code)
    assert replay.status_code == 400
    assert replay.json()["error_description"] == "grant request is invalid (authorization code already consumed)"
    assert fc.userinfo(access_token).status_code == 401  # the replay revoked what the code gave


def test_only_the_authorization_code_grant(fc):
    """``grant_types_supported: ["authorization_code"]``: no refresh token, no other grant."""
    response = fc.token(fc.code(), grant_type="refresh_token")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    assert "refresh_token" not in fc.token(fc.code()).json()
