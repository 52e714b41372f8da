"""A local FranceConnect of its own for these tests, over real HTTP, and what a client does with it.

The requests are those of FranceConnect's scenarios (france-connect/sources,
quality/fcp/cypress/integration/, the versions named in each test module) and of their
fixture api-common.json: an ``authorize`` with ``scope=openid profile``,
``acr_values=eidas1``, ``prompt=login consent``, ``claims`` asking for ``amr``, a
64-character state and nonce.

The server is built as the shared ``local_fc`` fixture builds it (``start_local_fc`` from
tests/conftest.py), but it is another
provider: other tests rotate the shared one's keys (``Provider.rotate``) and inject faults
into it, while these tests check the published keys and the exact answers, and register
services of their own (RS256, localhost) that the portal's tests must not see.
"""

from __future__ import annotations

import html
import json
import re
from base64 import urlsafe_b64decode
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from joserfc.jwk import KeySet

from local_franceconnect import Client
from portal.config import DEV_FRANCECONNECT_CLIENT_ID, DEV_FRANCECONNECT_CLIENT_SECRET
from tests.conftest import LocalFranceConnect, start_local_fc

NONCE = "f23f6cebd994466d1de0975d21471294fd729a2a6e5b16dbf0d6f6247a2f6917"
STATE = "00919d38c2f28fd6aa362042ee987200b8e8fee50a1a04bd34d192e40fe1186b"
AMR_CLAIMS = '{"id_token":{"amr":{"essential":true}}}'
ERRORS_DOC = "https://docs.partenaires.franceconnect.gouv.fr/fs/fs-technique/fs-technique-erreurs/"
RS256_CLIENT_ID = "fs-signature-rs256"
RS256_SECRET = "secret-du-fs-signature-rs256"
# The scopes of FranceConnect's mock service "tous les scopes" whose userinfo has 15 claims.
ALL_SCOPES = ("openid given_name family_name birthdate idp_birthdate gender preferred_username "
              "birthcountry birthplace email")


@pytest.fixture(scope="package")
def fc_server() -> Iterator[LocalFranceConnect]:
    """This package's own local FranceConnect (the shared one's keys are rotated by other tests)."""
    server = start_local_fc()
    server.provider.clients[RS256_CLIENT_ID] = Client(
        client_id=RS256_CLIENT_ID, secret=RS256_SECRET, name="Service signé en RS256",
        redirect_uris=(f"{server.portal_url}/rs256/retour",),
        post_logout_redirect_uris=(f"{server.portal_url}/rs256/deconnexion",), signing_alg="RS256")
    yield server
    server.server.stop()


class FC:
    """A service provider's view of the local FranceConnect: what it sends, over HTTP."""

    def __init__(self, server: LocalFranceConnect) -> None:
        self.http = requests.Session()
        self.provider = server.provider
        self.issuer = server.issuer
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(server.issuer))
        self.redirect_uri = f"{server.portal_url}/connexion/franceconnect/retour"
        self.logout_uri = f"{server.portal_url}/deconnexion/retour"
        self.rs256_redirect_uri = f"{server.portal_url}/rs256/retour"

    def authorize_params(self, **changes) -> dict:
        params = {
            "scope": "openid profile", "acr_values": "eidas1", "claims": AMR_CLAIMS, "prompt": "login consent",
            "client_id": DEV_FRANCECONNECT_CLIENT_ID, "redirect_uri": self.redirect_uri,
            "response_type": "code", "state": STATE, "nonce": NONCE,
        }
        params.update(changes)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, follow: bool = False, **changes) -> requests.Response:
        return self.http.get(f"{self.issuer}/authorize", params=self.authorize_params(**changes),
                             allow_redirects=follow)

    def callback(self, login: str = "test", **changes) -> dict[str, str]:
        """Authorize, pick an identity if asked, return the parameters sent back to the service."""
        response = self.authorize(**changes)
        location = response.headers["Location"]
        if "/interaction/" in location:
            response = self.http.post(self.origin + location + "/login", data={"login": login},
                                      allow_redirects=False)
            location = response.headers["Location"]
        return dict(parse_qsl(urlsplit(location).query))

    def code(self, login: str = "test", **changes) -> str:
        return self.callback(login, **changes)["code"]

    def token(self, code: str | None, **changes) -> requests.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": DEV_FRANCECONNECT_CLIENT_ID, "client_secret": DEV_FRANCECONNECT_CLIENT_SECRET}
        data.update(changes)
        return self.http.post(f"{self.issuer}/token", data={k: v for k, v in data.items() if v is not None})

    def rs256_tokens(self, **changes) -> dict:
        """The token answer of the service registered with RS256 signatures."""
        code = self.code(client_id=RS256_CLIENT_ID, redirect_uri=self.rs256_redirect_uri, **changes)
        return self.token(code, client_id=RS256_CLIENT_ID, client_secret=RS256_SECRET,
                          redirect_uri=self.rs256_redirect_uri).json()

    def userinfo(self, access_token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token is not None else {}
        return self.http.get(f"{self.issuer}/userinfo", headers=headers)

    def jwks(self) -> KeySet:
        return KeySet.import_key_set(requests.get(f"{self.issuer}/jwks").json())


@pytest.fixture
def fc(fc_server) -> FC:
    fc_server.provider.faults.clear()
    return FC(fc_server)


def jws_header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def error_page(response: requests.Response) -> tuple[str, str]:
    """FranceConnect's technical error page as its scenarios read it: (code, message).

    The page is HTML, has no redirect and no link back to the service.
    """
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Location" not in response.headers
    body = response.text
    assert "<html" in body and 'data-testid="error-section"' in body
    assert 'data-testid="back-to-sp-link"' not in body
    code = re.search(r'data-testid="error-code">(.*?)</p>', body, re.S)
    message = re.search(r'data-testid="error-message">(.*?)</p>', body, re.S)
    assert code and message

    def text(fragment: str) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())

    return text(code.group(1)).removeprefix("Code erreur : "), text(message.group(1))


def assert_api_error(response: requests.Response, status: int, error: str, description: str, code: str) -> None:
    """« le corps de la réponse contient une erreur »: JSON, no cookie, ``error_uri`` with FranceConnect's code."""
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in response.headers
    body = response.json()
    assert body["error"] == error and body["error_description"] == description
    assert body["error_uri"].startswith(f"{ERRORS_DOC}?code={code}&id=")
    assert "id_token" not in body and "access_token" not in body


def sent_back(location: str, redirect_uri: str) -> tuple[str, list[tuple[str, str]]]:
    """The answer on the service's redirect_uri: ("?" or "#", its parameters in order)."""
    assert location.startswith(redirect_uri)
    rest = location[len(redirect_uri):]
    return rest[0], parse_qsl(rest[1:], keep_blank_values=True)
