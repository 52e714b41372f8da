"""``userinfo`` answers as FranceConnect's api-userinfo.feature says (fcp-low scenarios).

Source: france-connect/sources, quality/fcp/cypress/integration/api/api-userinfo.feature at
cafd40430e0a4ac9059c5b98f65990e46b55cd1d (the newest version stored); its ``@fcpHigh``
scenarios (encrypted userinfo) are FranceConnect+ and not reproduced.
"""

from __future__ import annotations

import time

import pytest
from joserfc import jwt

from tests.local_franceconnect.conftest import ALL_SCOPES, assert_api_error, jws_header

# « le payload du JWT a 15 propriétés » for a service asking for every identity scope.
FULL_USERINFO = {"sub", "given_name", "given_name_array", "family_name", "birthdate", "idp_birthdate", "gender",
                 "preferred_username", "birthcountry", "birthplace", "email", "aud", "exp", "iat", "iss"}


def assert_signed_userinfo(response, fc, alg: str, kid: str, audience: str) -> dict:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/jwt")
    assert "Set-Cookie" not in response.headers
    assert response.text.count(".") == 2  # « le JWT n'est pas chiffré »
    assert jws_header(response.text) == {"alg": alg, "kid": kid}
    claims = jwt.decode(response.text, fc.jwks(), algorithms=[alg]).claims
    assert set(claims) == FULL_USERINFO  # no acr, amr or nonce
    assert claims["iss"] == fc.issuer and claims["aud"] == audience
    return claims


def test_fcp_low_userinfo_avec_signature_es256(fc):
    """api-userinfo.feature — « API userinfo - FCP Low - userinfo avec signature ES256 »."""
    body = fc.token(fc.code(scope=ALL_SCOPES)).json()
    claims = assert_signed_userinfo(fc.userinfo(body["access_token"]), fc, "ES256", "pkcs11:ES256:hsm",
                                    "portail-citoyen-local")
    assert claims["given_name"] == "Angela Claire Louise"
    assert claims["given_name_array"] == ["Angela", "Claire", "Louise"]
    assert claims["family_name"] == "DUBOIS" and claims["birthdate"] == claims["idp_birthdate"] == "1962-08-24"
    assert claims["birthplace"] == "75107" and claims["birthcountry"] == "99100"


def test_fcp_low_userinfo_avec_signature_rs256(fc):
    """api-userinfo.feature — « API userinfo - FCP Low - userinfo avec signature RS256 »."""
    body = fc.rs256_tokens(scope=ALL_SCOPES)
    assert_signed_userinfo(fc.userinfo(body["access_token"]), fc, "RS256", "pkcs11:RS256:hsm",
                           "fs-signature-rs256")


@pytest.mark.parametrize("case", ["inconnu", "expiré"])
def test_erreur_token_expire_ou_non_trouve(fc, case):
    """api-userinfo.feature — « API userinfo - erreur token expiré ou non trouvé »."""
    if case == "inconnu":
        access_token = "tototototo"
    else:
        access_token = fc.token(fc.code()).json()["access_token"]
        fc.provider.tokens[access_token]["expires"] = time.time() - 1  # 60 seconds later
    assert_api_error(fc.userinfo(access_token), 401, "invalid_token",
                 "invalid token provided (access token not found)", "Y040001")


def test_erreur_access_token_manquant(fc):
    """api-userinfo.feature — « API userinfo - erreur access_token manquant »."""
    assert_api_error(fc.userinfo(None), 401, "invalid_token", "no access token provided (no access token provided)",
                 "Y04146A2")


def test_userinfo_releases_only_what_the_scopes_ask(fc):
    """fcp-low.scopes.ts: each scope releases its claims, nothing else."""
    body = fc.token(fc.code(scope="openid family_name")).json()
    claims = jwt.decode(fc.userinfo(body["access_token"]).text, fc.jwks(), algorithms=["ES256"]).claims
    assert set(claims) == {"family_name", "sub", "aud", "exp", "iat", "iss"}
