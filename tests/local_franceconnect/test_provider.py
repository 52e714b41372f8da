"""The local FranceConnect behaves as FranceConnect v2 does, over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from local_franceconnect import pairwise_sub
from portal.config import DEV_FRANCECONNECT_CLIENT_ID, DEV_FRANCECONNECT_CLIENT_SECRET

NONCE = "n" * 64
STATE = "s" * 64


@pytest.fixture
def fc(local_fc):
    local_fc.provider.faults.clear()
    parts = urlsplit(local_fc.issuer)
    session = requests.Session()
    session.origin = f"{parts.scheme}://{parts.netloc}"
    session.issuer = local_fc.issuer
    session.redirect_uri = f"{local_fc.portal_url}/connexion/franceconnect/retour"
    session.logout_uri = f"{local_fc.portal_url}/deconnexion/retour"
    return session


def authorize_params(fc, **changes) -> dict:
    params = {
        "response_type": "code", "client_id": DEV_FRANCECONNECT_CLIENT_ID, "redirect_uri": fc.redirect_uri,
        "scope": "openid given_name family_name birthdate email", "acr_values": "eidas1",
        "state": STATE, "nonce": NONCE,
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def get_code(fc, login="test", **changes) -> str:
    response = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc, **changes), allow_redirects=False)
    location = response.headers["Location"]
    if "/interaction/" in location:
        response = fc.post(fc.origin + location + "/login", data={"login": login}, allow_redirects=False)
        location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [STATE] and query["iss"] == [fc.issuer]
    return query["code"][0]


def token_request(fc, code, **changes):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": fc.redirect_uri,
            "client_id": DEV_FRANCECONNECT_CLIENT_ID, "client_secret": DEV_FRANCECONNECT_CLIENT_SECRET}
    data.update(changes)
    return fc.post(f"{fc.issuer}/token", data={k: v for k, v in data.items() if v is not None})


def keys(fc) -> KeySet:
    return KeySet.import_key_set(fc.get(f"{fc.issuer}/jwks").json())


def test_discovery_mirrors_franceconnect_v2(fc):
    doc = fc.get(f"{fc.issuer}/.well-known/openid-configuration").json()
    assert doc["issuer"] == fc.issuer and doc["issuer"].endswith("/api/v2")
    assert doc["acr_values_supported"] == ["eidas1"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_post", "private_key_jwt"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert {"ES256", "RS256"} <= set(doc["id_token_signing_alg_values_supported"])
    for endpoint in ("authorize", "token", "userinfo", "session/end", "jwks"):
        assert f"{fc.issuer}/{endpoint}" in doc.values()


def test_jwks_is_an_ec_p256_signing_key(fc):
    (key,) = fc.get(f"{fc.issuer}/jwks").json()["keys"][:1]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256" and key["use"] == "sig"
    assert "d" not in key  # never the private part


@pytest.mark.parametrize(("changes", "code"), [
    ({"nonce": None}, "Y030007"),
    ({"state": None}, "Y030007"),
    ({"nonce": "trop-court"}, "Y030007"),
    ({"state": "trop-court"}, "Y030007"),
    ({"acr_values": "eidas2"}, "Y030007"),
    ({"acr_values": None}, "Y030007"),
    ({"prompt": "none"}, "Y030007"),
    ({"client_id": "inconnu"}, "Y04EA6EF"),
    ({"redirect_uri": "https://evil.example/retour"}, "Y04C013C"),
])
def test_bad_authorization_requests_get_an_error_page_not_a_redirect(fc, changes, code):
    response = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc, **changes), allow_redirects=False)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert code in response.text


def test_scope_without_openid_is_sent_back_as_invalid_request(fc):
    response = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc, scope="email"), allow_redirects=False)
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]


def test_the_identity_page_offers_the_test_identities_and_a_way_back(fc):
    response = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc), allow_redirects=False)
    page = fc.get(fc.origin + response.headers["Location"])
    assert "Angela Claire Louise DUBOIS" in page.text
    assert "Revenir sur Portail citoyen" in page.text


def test_token_response_has_exactly_franceconnect_fields(fc):
    body = token_request(fc, get_code(fc)).json()
    assert set(body) == {"access_token", "token_type", "expires_in", "id_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    header = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[0] + "=="))
    assert set(header) == {"alg", "kid"} and header["alg"] == "ES256"
    claims = jwt.decode(body["id_token"], keys(fc), algorithms=["ES256"]).claims
    assert claims["iss"] == fc.issuer and claims["aud"] == DEV_FRANCECONNECT_CLIENT_ID
    assert claims["nonce"] == NONCE and claims["acr"] == "eidas1"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sub"] == pairwise_sub(DEV_FRANCECONNECT_CLIENT_ID, "test")


def test_http_basic_client_authentication_is_refused(fc):
    response = fc.post(f"{fc.issuer}/token", data={"grant_type": "authorization_code", "code": get_code(fc),
                                                   "redirect_uri": fc.redirect_uri},
                       auth=(DEV_FRANCECONNECT_CLIENT_ID, DEV_FRANCECONNECT_CLIENT_SECRET))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_codes_are_single_use_bound_to_the_redirect_uri_and_short_lived(fc, local_fc):
    code = get_code(fc)
    assert token_request(fc, code, redirect_uri="https://autre.example/retour").json()["error"] == "invalid_grant"
    assert token_request(fc, code).json()["error"] == "invalid_grant"  # burnt by the attempt above
    code = get_code(fc)
    assert token_request(fc, code).status_code == 200
    assert token_request(fc, code).json()["error"] == "invalid_grant"
    code = get_code(fc)
    local_fc.provider.codes[code]["expires"] = time.time() - 1  # 30 seconds later
    assert token_request(fc, code).json()["error"] == "invalid_grant"
    assert token_request(fc, get_code(fc), client_secret="faux").status_code == 401
    assert token_request(fc, None).json()["error"] == "invalid_request"


def test_userinfo_is_a_signed_jwt_filtered_by_scope(fc):
    body = token_request(fc, get_code(fc, scope="openid family_name")).json()
    response = fc.get(f"{fc.issuer}/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.headers["Content-Type"] == "application/jwt"
    claims = jwt.decode(response.text, keys(fc), algorithms=["ES256"]).claims
    assert claims["family_name"] == "DUBOIS"
    assert "email" not in claims and "given_name" not in claims
    assert {"sub", "iss", "aud", "iat", "exp"} <= set(claims)
    assert fc.get(f"{fc.issuer}/userinfo", headers={"Authorization": "Bearer faux"}).status_code == 401


def test_given_names_come_as_a_string_and_an_array(fc):
    body = token_request(fc, get_code(fc, login="prenom_compose", prompt="login")).json()
    response = fc.get(f"{fc.issuer}/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    claims = jwt.decode(response.text, keys(fc), algorithms=["ES256"]).claims
    assert claims["given_name"] == "Marie-Christine Élodie"
    assert claims["given_name_array"] == ["Marie-Christine", "Élodie"]


def test_single_sign_on_lasts_until_session_end(fc):
    first = token_request(fc, get_code(fc)).json()
    again = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc), allow_redirects=False)
    assert "code=" in again.headers["Location"]  # no identity page: the SSO cookie answered
    forced = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc, prompt="login"), allow_redirects=False)
    assert "/interaction/" in forced.headers["Location"]
    end = fc.get(f"{fc.issuer}/session/end", params={
        "id_token_hint": first["id_token"], "state": STATE, "post_logout_redirect_uri": fc.logout_uri,
    }, allow_redirects=False)
    assert end.status_code == 303 and end.headers["Location"] == f"{fc.logout_uri}?{urlencode({'state': STATE})}"
    after = fc.get(f"{fc.issuer}/authorize", params=authorize_params(fc), allow_redirects=False)
    assert "/interaction/" in after.headers["Location"]


def test_session_end_requires_a_valid_hint_and_a_registered_address(fc):
    id_token = token_request(fc, get_code(fc)).json()["id_token"]
    missing = fc.get(f"{fc.issuer}/session/end", params={"post_logout_redirect_uri": fc.logout_uri},
                     allow_redirects=False)
    assert missing.status_code == 400
    forged = fc.get(f"{fc.issuer}/session/end", params={
        "id_token_hint": id_token[:-4] + "AAAA", "post_logout_redirect_uri": fc.logout_uri,
    }, allow_redirects=False)
    assert forged.status_code == 400
    elsewhere = fc.get(f"{fc.issuer}/session/end", params={
        "id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/",
    }, allow_redirects=False)
    assert elsewhere.status_code == 400 and "Location" not in elsewhere.headers


def test_subjects_are_pairwise():
    assert pairwise_sub("service-a", "test") != pairwise_sub("service-b", "test")
    assert len(pairwise_sub("service-a", "test")) == 66
