"""``authorize`` answers as FranceConnect's api-authorize.feature and api-authorize-localhost.feature say.

Sources (france-connect/sources, quality/fcp/cypress/integration/api/), newest versions stored:
api-authorize.feature at 93cd5d7c16c1d0937586a09f4c4a06dcacdb6645, api-authorize-localhost.feature
at 279ddb0fe833210808baae3fa6a86723fa64dd7e. One test per scenario (each example of a « Plan du
Scénario » is a parameter). Not reproduced, for the reasons given in local_franceconnect's
docstring: the two ``sector_identifier`` scenarios and the steps that read FranceConnect's
technical log; « localhost refusé en integ pour FC+ » is FranceConnect+.
"""

from __future__ import annotations

import pytest

from local_franceconnect import Client
from tests.conftest import start_local_fc
from tests.local_franceconnect.conftest import FC, STATE, error_page, sent_back

SP_INCIDENT = ("Un incident technique est en cours sur le service à l’origine de la demande d’authentification "
               "via FranceConnect. Nous allons nous rapprocher de leurs équipes pour résoudre cet incident. "
               "Veuillez vous reconnecter ultérieurement.")
SP_COMMUNICATION = ("Une erreur de communication avec le fournisseur de service est survenue. "
                    "Veuillez réessayer ultérieurement.")


def assert_identity_provider_selection(response):
    """« le statut de la réponse est 200 … je suis redirigé vers la page sélection du fournisseur d'identité »."""
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.text
    assert "/api/v2/interaction/" in response.url
    assert "Choisir une identité de test" in response.text


def assert_sent_back_with(response, fc: FC, error: str, description: str, delimiter: str = "?"):
    """303 (text/html) to the service's redirect_uri: error, error_description, state, iss, in that order."""
    assert response.status_code == 303
    assert response.headers["Content-Type"].startswith("text/html")
    found, params = sent_back(response.headers["Location"], fc.redirect_uri)
    assert found == delimiter
    assert params == [("error", error), ("error_description", description), ("state", STATE),
                      ("iss", fc.issuer)]


@pytest.mark.parametrize("prompt", ["login", "consent", "login consent", "consent login"])
def test_cas_nominal_prompt(fc, prompt):
    """api-authorize.feature — « API authorize - Cas nominal prompt=<prompt> »."""
    assert_identity_provider_selection(fc.authorize(follow=True, prompt=prompt))


def test_cas_nominal_sans_prompt(fc):
    """api-authorize.feature — « API authorize - Cas nominal sans prompt »."""
    assert_identity_provider_selection(fc.authorize(follow=True, prompt=None))


@pytest.mark.parametrize("param", ["acr_values", "client_id", "nonce", "redirect_uri", "response_type", "scope",
                                   "state"])
def test_erreur_y030007_parametre_manquant(fc, param):
    """api-authorize.feature — « API authorize - erreur Y030007 <param> manquant »."""
    response = fc.authorize(**{param: None})
    assert response.status_code == 400
    assert error_page(response)[0] == "Y030007"


@pytest.mark.parametrize("prompt", ["", "none", "select_account"])
def test_erreur_y030007_prompt(fc, prompt):
    """api-authorize.feature — « API authorize - erreur Y030007 prompt=<prompt> »."""
    response = fc.authorize(prompt=prompt)
    assert response.status_code == 400
    assert error_page(response)[0] == "Y030007"


@pytest.mark.parametrize("nonce", ["nonceatleastthirtytwocharacterss",
                                   "nonceatleastsixtyfourcharacterss@#&nonceatleastsixtyfourcharacterss"])
def test_cas_nominal_nonce(fc, nonce):
    """api-authorize.feature — « API authorize - Cas nominal nonce=<nonce> »."""
    assert_identity_provider_selection(fc.authorize(follow=True, nonce=nonce))


@pytest.mark.parametrize("nonce", ["", "nonce_trop_court"])
def test_erreur_y030007_nonce(fc, nonce):
    """api-authorize.feature — « API authorize - erreur Y030007 nonce=<nonce> »."""
    response = fc.authorize(nonce=nonce)
    assert response.status_code == 400
    assert error_page(response)[0] == "Y030007"


@pytest.mark.parametrize(("response_type", "error", "description"), [
    ("", "invalid_request", "missing required parameter 'response_type'"),
    ("inconnu", "unsupported_response_type", "unsupported response_type requested"),
])
def test_erreur_avec_response_type(fc, response_type, error, description):
    """api-authorize.feature — « API authorize - Erreur <error> avec response_type=<responseType> »."""
    assert_sent_back_with(fc.authorize(response_type=response_type), fc, error, description)


@pytest.mark.parametrize("response_type", ["id_token", "id_token token", "code id_token", "code token"])
def test_erreur_avec_response_type_redirection_contenant_un_fragment(fc, response_type):
    """api-authorize.feature — « … avec response_type=<responseType> avec redirection contenant un fragment »."""
    assert_sent_back_with(fc.authorize(response_type=response_type), fc, "unsupported_response_type",
                          "unsupported response_type requested", delimiter="#")


def test_erreur_y030007_client_id_vide(fc):
    """api-authorize.feature — « API authorize - erreur Y030007 client_id= »."""
    response = fc.authorize(client_id="")
    assert response.status_code == 400
    assert error_page(response)[0] == "Y030007"


@pytest.mark.parametrize("client_id", ["inconnu", "my-service-provider-deactivated"])
def test_erreur_y04ea6ef_client_id(fc, client_id):
    """api-authorize.feature — « API authorize - erreur Y04EA6EF client_id=<clientId> »."""
    response = fc.authorize(client_id=client_id)
    assert response.status_code == 400
    assert error_page(response) == ("Y04EA6EF", SP_COMMUNICATION)


@pytest.mark.parametrize("scope", ["", "profile"])
def test_erreur_invalid_request_scope(fc, scope):
    """api-authorize.feature — « API authorize - erreur invalid_request scope=<scope> »."""
    assert_sent_back_with(fc.authorize(scope=scope), fc, "invalid_request",
                          "openid scope must be requested when using the acr_values parameter")


@pytest.mark.parametrize(("redirect_uri", "code", "message"), [
    ("", "Y030007", SP_INCIDENT),
    ("https://my-malicious-url.fr/callback", "Y04C013C", SP_COMMUNICATION),
    ("example.com", "Y030007", SP_INCIDENT),
])
def test_erreur_redirect_uri(fc, redirect_uri, code, message):
    """api-authorize.feature — « API authorize - erreur <error> redirect_uri=<redirectUri> »."""
    response = fc.authorize(redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert error_page(response) == (code, message)


def test_erreur_de_parametres_scope_et_redirect_uri(fc):
    """api-authorize.feature — « API authorize - erreur de paramètres : erreur scope et erreur redirect_uri »."""
    response = fc.authorize(scope="email", redirect_uri=fc.redirect_uri + "/wrong-url")
    assert response.status_code == 400
    assert error_page(response) == ("Y040001", "Une erreur s’est produite, veuillez réessayer ultérieurement")


def test_parametre_ui_locales_autorise_mais_non_utilise(fc):
    """api-authorize.feature — « API authorize - Paramètre ui_locales autorisé mais non utilisé »."""
    assert_identity_provider_selection(fc.authorize(follow=True, ui_locales="fr-FR"))


def test_localhost_refuse_sur_la_stack_locale():
    """api-authorize-localhost.feature — « API authorize - localhost refusé sur la stack locale ».

    FranceConnect's own stack (and production) want a redirect_uri with a top-level domain.
    """
    server = start_local_fc(REDIRECT_URI_REQUIRE_TLD=True)
    try:
        response = FC(server).authorize(redirect_uri="http://localhost/login-callback")
    finally:
        server.server.stop()
    assert response.status_code == 400
    assert error_page(response) == ("Y030007", SP_INCIDENT)


def test_localhost_autorise_en_integ_pour_fc(fc_server):
    """api-authorize-localhost.feature — « API authorize - localhost autorisé en integ pour FC »."""
    fc_server.provider.clients["fs-localhost"] = Client(
        client_id="fs-localhost", secret="secret", name="Service en localhost",
        redirect_uris=("http://localhost/login-callback",), post_logout_redirect_uris=())
    try:
        fc = FC(fc_server)
        response = fc.authorize(follow=True, client_id="fs-localhost", redirect_uri="http://localhost/login-callback")
    finally:
        del fc_server.provider.clients["fs-localhost"]
    assert_identity_provider_selection(response)


def test_authorize_by_post_answers_as_by_get(fc):
    """FranceConnect's authorize also takes a POST form (core-fcp controller ``postAuthorize``)."""
    response = fc.http.post(f"{fc.issuer}/authorize", data=fc.authorize_params())
    assert_identity_provider_selection(response)
    refused = fc.http.post(f"{fc.issuer}/authorize", data=fc.authorize_params(nonce="trop-court"))
    assert refused.status_code == 400 and error_page(refused)[0] == "Y030007"


def test_a_short_state_is_accepted_as_by_franceconnect(fc):
    """FranceConnect's DTO only wants ``state`` present (no length): the code comes back with it."""
    callback = fc.callback(state="court")
    assert callback["state"] == "court" and callback["iss"] == fc.issuer and callback["code"]
