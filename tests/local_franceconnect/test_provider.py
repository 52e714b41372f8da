"""What the local FranceConnect adds around FranceConnect's scenarios: identities, keys, safety.

No FranceConnect feature file is followed here (the ones followed are named in the other
modules and in local_franceconnect's docstring).
"""

from __future__ import annotations

import json
import stat

import pytest
import requests
from joserfc import jwt

import local_franceconnect
from local_franceconnect import pairwise_sub
from tests.conftest import start_local_fc
from tests.local_franceconnect.conftest import FC, NONCE, error_page


def test_the_identity_page_offers_the_test_identities_and_a_way_back(fc):
    page = fc.authorize(follow=True)
    assert "Angela Claire Louise DUBOIS" in page.text
    assert "Revenir sur Portail citoyen" in page.text


def test_an_unknown_or_finished_interaction_says_the_session_expired(fc):
    interaction = fc.authorize().headers["Location"]
    assert fc.http.post(fc.origin + interaction + "/login", data={"login": "test"},
                        allow_redirects=False).status_code == 303
    again = fc.http.get(fc.origin + interaction)
    assert again.status_code == 401 and error_page(again)[0] == "Y190001"


def test_given_names_come_as_a_string_and_an_array(fc):
    body = fc.token(fc.code("prenom_compose", scope="openid given_name")).json()
    claims = jwt.decode(fc.userinfo(body["access_token"]).text, fc.jwks(), algorithms=["ES256"]).claims
    assert claims["given_name"] == "Marie-Christine Élodie"
    assert claims["given_name_array"] == ["Marie-Christine", "Élodie"]


def test_born_abroad_has_an_empty_birthplace(fc):
    body = fc.token(fc.code("naissance_etranger", scope="openid birth")).json()
    claims = jwt.decode(fc.userinfo(body["access_token"]).text, fc.jwks(), algorithms=["ES256"]).claims
    assert claims["birthplace"] == "" and claims["birthcountry"] == "99352"


def test_subjects_are_pairwise():
    assert pairwise_sub("service-a", "test") != pairwise_sub("service-b", "test")
    assert len(pairwise_sub("service-a", "test")) == 66 and pairwise_sub("service-a", "test").endswith("v1")


def test_faults_are_ignored_outside_tests(tmp_path):
    """Fault injection is for tests only: without TESTING a requested fault changes nothing."""
    server = start_local_fc(TESTING=False, KEYS_FILE=str(tmp_path / "jwks.json"))
    try:
        assert server.provider.testing is False
        server.provider.faults.update({"wrong_nonce", "userinfo_json"})
        fc = FC(server)
        body = fc.token(fc.code()).json()
        assert jwt.decode(body["id_token"], fc.jwks(), algorithms=["ES256"]).claims["nonce"] == NONCE
        assert fc.userinfo(body["access_token"]).headers["Content-Type"].startswith("application/jwt")
    finally:
        server.server.stop()


def test_development_keys_are_kept_between_runs_and_private(tmp_path):
    """A restarted local FranceConnect publishes the same keys, so a running portal keeps verifying."""
    keys_file = tmp_path / "jwks-private.json"
    first = start_local_fc(TESTING=False, KEYS_FILE=str(keys_file))
    try:
        published = requests.get(f"{first.issuer}/jwks").json()
    finally:
        first.server.stop()
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert {k["kid"] for k in json.loads(keys_file.read_text())["keys"]} == {"pkcs11:ES256:hsm", "pkcs11:RS256:hsm"}
    second = start_local_fc(TESTING=False, KEYS_FILE=str(keys_file))
    try:
        assert requests.get(f"{second.issuer}/jwks").json() == published
    finally:
        second.server.stop()


def test_it_refuses_to_start_in_production():
    with pytest.raises(RuntimeError, match="production"):
        local_franceconnect.create_app({"PORTAL_ENV": "production", "TESTING": True})
