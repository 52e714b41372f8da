"""Discovery and the bare ``/api/v2`` answer as api-discovery.feature and api-core.feature say.

Sources (france-connect/sources, quality/fcp/cypress/integration/api/), newest versions stored:
api-discovery.feature at eb0492bc6c20a9ca2ae2056348610701642f5ed9 (its « fcp-high » scenario is
FranceConnect+, not reproduced), api-core.feature at a9dd276e114a9bd370329f336d18af4fc358e5d2.
"""

from __future__ import annotations

import requests

from tests.local_franceconnect.conftest import error_page

# The fields FranceConnect's GetDiscoveryDto requires, validated with ``forbidNonWhitelisted``
# (quality/fcp/cypress/support/api/dto/get-discovery.dto.ts, "sans chiffrement"), and the
# ``iss`` of the authorization response its newer DTO adds.
DISCOVERY_FIELDS = {
    "acr_values_supported", "authorization_endpoint", "claims_parameter_supported", "claims_supported",
    "code_challenge_methods_supported", "end_session_endpoint", "grant_types_supported",
    "id_token_signing_alg_values_supported", "issuer", "jwks_uri", "response_modes_supported",
    "response_types_supported", "scopes_supported", "subject_types_supported",
    "token_endpoint_auth_methods_supported", "token_endpoint_auth_signing_alg_values_supported", "token_endpoint",
    "request_object_signing_alg_values_supported", "request_parameter_supported", "request_uri_parameter_supported",
    "require_request_uri_registration", "userinfo_endpoint", "userinfo_signing_alg_values_supported",
    "revocation_endpoint", "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported", "claim_types_supported",
    "authorization_response_iss_parameter_supported",
}


def test_api_discovery_fcp_low(fc):
    """api-discovery.feature — « API discovery - fcp-low »."""
    response = requests.get(f"{fc.issuer}/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in response.headers
    doc = response.json()
    assert set(doc) == DISCOVERY_FIELDS  # « configuration openid "sans chiffrement" »: no encryption, no backchannel
    assert doc["issuer"] == fc.issuer and doc["issuer"].endswith("/api/v2")
    assert doc["acr_values_supported"] == ["eidas1"]
    assert {"openid", "profile", "preferred_username", "idp_birthdate"} <= set(doc["scopes_supported"])
    assert "offline_access" not in doc["scopes_supported"] and "address" not in doc["scopes_supported"]
    assert {"sub", "given_name", "given_name_array", "amr", "acr"} <= set(doc["claims_supported"])
    assert set(doc["id_token_signing_alg_values_supported"]) == {"HS256", "ES256", "RS256"}
    assert set(doc["userinfo_signing_alg_values_supported"]) == {"HS256", "ES256", "RS256"}
    for endpoint in ("authorize", "token", "userinfo", "session/end", "jwks", "token/revocation"):
        assert f"{fc.issuer}/{endpoint}" in doc.values()


def test_jwks_publishes_franceconnect_signing_keys(fc):
    """The keys api-token.feature checks signatures with: ``pkcs11:ES256:hsm`` and ``pkcs11:RS256:hsm``."""
    keys = {key["kid"]: key for key in requests.get(f"{fc.issuer}/jwks").json()["keys"]}
    assert keys["pkcs11:ES256:hsm"]["kty"] == "EC" and keys["pkcs11:ES256:hsm"]["crv"] == "P-256"
    assert keys["pkcs11:RS256:hsm"]["kty"] == "RSA"
    assert all(key["use"] == "sig" for key in keys.values())
    assert not any(private in key for key in keys.values() for private in ("d", "p", "q"))


def test_api_core_redirection_vers_le_site_usager(fc):
    """api-core.feature — « API core - redirection vers le site usager »."""
    response = requests.get(fc.issuer, allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Location"] == "https://franceconnect.gouv.fr"


def test_api_core_page_inconnue_dans_le_dossier_api_v2(fc):
    """api-core.feature — « API core - Page inconue dans le dossier /api/v2 »."""
    response = requests.get(f"{fc.issuer}/wrong-url", allow_redirects=False)
    assert response.status_code == 404
    assert error_page(response)[0] == "Y000404"


def test_api_core_page_inconnue_dans_le_dossier_racine(fc):
    """api-core.feature — « API core - Page inconue dans le dossier / »."""
    response = requests.get(f"{fc.origin}/wrong-url", allow_redirects=False)
    assert response.status_code == 404
    assert error_page(response)[0] == "Y000404"
