"""A local FranceConnect v2, for development and tests: a client that passes against it passes against FC.

It mirrors FranceConnect v2 "fcp-low" (eIDAS faible) as FranceConnect's own scenarios
describe it, over real HTTP, under ``/api/v2``. The scenarios followed are those of
france-connect/sources, quality/fcp/cypress/integration/, each at the newest version stored
(tests/local_franceconnect/ has one test per scenario):

- api/api-authorize.feature and api/api-token.feature at 93cd5d7c16c1d0937586a09f4c4a06dcacdb6645;
- api/api-authorize-localhost.feature at 279ddb0fe833210808baae3fa6a86723fa64dd7e;
- api/api-userinfo.feature and usager/deconnexion-usager.feature at
  cafd40430e0a4ac9059c5b98f65990e46b55cd1d;
- api/api-core.feature at a9dd276e114a9bd370329f336d18af4fc358e5d2;
- api/api-discovery.feature at eb0492bc6c20a9ca2ae2056348610701642f5ed9;
- api/api-redirect-to-sp.feature at 498f918a1a8e08d8eed1bf563e8f8d2dfa06cc62;
- usager/connexion-sso-fcp-low.feature at 7a8566f690b9c67955757b32dbe5671246901d29.

What it answers:

- the discovery document (no encryption field, ``idp_birthdate`` among the scopes) and a
  JWKS with FranceConnect's two signing keys, ``pkcs11:ES256:hsm`` and ``pkcs11:RS256:hsm``;
- ``authorize`` (GET or POST) checks its parameters as FranceConnect's DTO does, then as
  oidc-provider does. A missing or malformed parameter (``client_id``, ``redirect_uri``,
  a nonce under 22 characters, a ``prompt`` other than ``login``/``consent``…) gives
  FranceConnect's error page, HTTP 400, code Y030007, never a redirect; an unknown client
  gives Y04EA6EF and an undeclared ``redirect_uri`` Y04C013C (400, same page). An empty or
  unsupported ``response_type``, a scope without ``openid`` or a scope the service may not
  ask for are sent back to the ``redirect_uri`` with ``error``, ``error_description``,
  ``state`` and ``iss`` (in the fragment when ``response_type`` asks for a token), or give
  Y040001 when the ``redirect_uri`` is not declared either; ``acr_values`` without
  ``eidas1`` gives Y020002;
- a page to pick a test identity (FranceConnect's IdP choice and the IdP's login in one),
  with a link back to the service that answers 302 with ``access_denied`` / "user
  authentication aborted"; an unknown or finished interaction gives 401 Y190001; a 30-minute
  SSO session in the ``fc_session_id`` cookie, skipped when ``prompt`` holds ``login``;
- ``token``: ``client_secret_post`` only, single-use 30-second codes bound to their client and
  ``redirect_uri`` (a replayed code also revokes its access token), exactly five fields in
  the answer, an id_token signed with the service's algorithm (ES256; RS256 for a service so
  registered in ``Provider.clients``) holding ``iss sub aud exp iat auth_time acr nonce``,
  and ``amr`` when the ``claims`` parameter asks for it;
- ``userinfo``: a signed JWT (``application/jwt``) of the claims the scopes release, plus
  ``sub iss aud iat exp``; 60-second access tokens, sent as ``Authorization: Bearer``;
- errors of the back channel as FranceConnect words them: ``error``, ``error_description``
  ("grant request is invalid (authorization code not found)") and ``error_uri`` pointing at
  the partners' documentation with the code. The codes are FranceConnect's where its
  scenarios show them (Y0434A7B, Y048017B, Y049E20B, Y0416228 for a code used twice, Y040001,
  Y04146A2); other cases carry the code of the same error family;
- ``session/end``: ``id_token_hint`` required and checked as oidc-provider does (the
  service's algorithm, issuer and audience; an expired one is accepted), a
  ``post_logout_redirect_uri`` that is declared (without one, a page says the user is logged
  out), the SSO cookie deleted, 303 back with ``state``;
- ``token/revocation`` with the same client authentication as ``token``;
- ``/api/v2`` sends to franceconnect.gouv.fr (301); an unknown page answers as
  FranceConnect does, under ``/api/v2`` or elsewhere: 404, Y000404.

A redirect_uri on ``localhost`` is accepted, as FranceConnect's integration platform does;
``REDIRECT_URI_REQUIRE_TLD`` refuses it, as FranceConnect's own stack and production do.
Not mirrored: FranceConnect+ (encryption, eidas2/3, the ``@fcpHigh`` scenarios), HS256 and
``private_key_jwt`` clients, several identity providers, the information and consent pages,
``checktoken`` (data providers). Scenarios read but not reproduced, and why:

- api-authorize.feature, « Cas nominal URL avec domaine différent présent dans
  sector_identifier » and « sector_identifier URI ne répond pas » (400, Y04A8220 at
  93cd5d7c; Y04A3BD in the older 6fa80f703bd0f291932662561a9f5792317a279d): FranceConnect
  fetches a service's ``sector_identifier_uri`` (a JSON list of redirect_uris on several
  domains, served by the service) to accept a redirect_uri on another domain. A client here
  declares its redirect_uris itself and has no such URI; the portal has one domain and never
  registers one, so neither answer can reach it;
- the steps that read FranceConnect's own logs (« le log technique de code … est journalisé »
  in api-authorize and api-token, « l'événement … est journalisé » in deconnexion-usager):
  FranceConnect's internal journal, which no service sees;
- api-redirect-to-sp.feature, « sans state », « sans redirect_uri » and « avec redirect_uri
  invalide » (state=undefined; 500 Y030030): they forge FranceConnect's
  ``/redirect-to-sp-with-error?…`` by hand. The way back here (``/interaction/<uid>/abort``)
  takes no parameter: state and redirect_uri come from the pending authorization, already
  checked by ``authorize``, so these requests cannot be made;
- api-oidc-callback.feature (at 7a8566f690b9c67955757b32dbe5671246901d29) and
  api-oidc-callback-error.feature (at 3cb3fc1dfc1a78e0a92ee5f80f28ae60762d17cf): the identity
  provider's return to FranceConnect (``/api/v2/oidc-callback``), where FranceConnect is the
  client. A service never calls it and gets none of its answers (FranceConnect's own error
  pages Y020021/Y020022/Y020025/Y020026, or the identity-provider choice again with a
  message); here the identity provider's login is part of FranceConnect's page, so that leg
  does not exist.

The signing keys are kept in ``instance/local-franceconnect/jwks-private.json``
(``KEYS_FILE`` elsewhere), fresh for each run in tests.
Facts: ../shared/notes/franceconnect.md.

It refuses to start in production (PORTAL_ENV=production). In tests only
(``TESTING``), ``app.extensions["local_franceconnect"].faults`` makes it
misbehave on purpose, to prove the portal refuses what it must.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import errors as jose_errors
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from local_franceconnect.identities import IDENTITIES, LOCAL_IDP_AMR, SCOPE_CLAIMS, claims_for
from portal.config import (
    DEV_FRANCECONNECT_CLIENT_ID,
    DEV_FRANCECONNECT_CLIENT_SECRET,
    ROOT,
    dev_public_url,
    local_franceconnect_issuer,
)

PREFIX = "/api/v2"
SSO_COOKIE = "fc_session_id"
SSO_SECONDS = 30 * 60
CODE_SECONDS = 30
TOKEN_SECONDS = 60
INTERACTION_SECONDS = 30 * 60
MIN_NONCE = 22
PROMPTS = {"login", "consent"}
SIGNING_ALGORITHMS = ("ES256", "RS256")
USER_SITE = "https://franceconnect.gouv.fr"
ERRORS_DOC = "https://docs.partenaires.franceconnect.gouv.fr/fs/fs-technique/fs-technique-erreurs/"

# What FranceConnect's error page says (api-authorize.feature, api-authorize-localhost.feature, erreurs.md).
MSG_SP_INCIDENT = ("Un incident technique est en cours sur le service à l’origine de la demande "
                   "d’authentification via FranceConnect. Nous allons nous rapprocher de leurs équipes pour "
                   "résoudre cet incident. Veuillez vous reconnecter ultérieurement.")
MSG_SP_COMMUNICATION = ("Une erreur de communication avec le fournisseur de service est survenue. "
                        "Veuillez réessayer ultérieurement.")
MSG_GENERIC = "Une erreur s’est produite, veuillez réessayer ultérieurement"
MSG_TECHNICAL = "Une erreur technique est survenue, fermez l’onglet de votre navigateur et reconnectez-vous."
MSG_ACR = "Une erreur technique est survenue. Si le problème persiste, veuillez nous contacter."
MSG_SESSION = ("Votre session a expiré ou est invalide, fermez l’onglet de votre navigateur et "
               "reconnectez-vous.")

# Codes FranceConnect puts in ``error_uri`` (api-token.feature, api-userinfo.feature).
CODE_INVALID_SECRET = "Y0434A7B"
CODE_MISSING_CODE = "Y048017B"
CODE_GRANT_NOT_FOUND = "Y049E20B"
CODE_GRANT_CONSUMED = "Y0416228"
CODE_TOKEN_NOT_FOUND = "Y040001"
CODE_NO_TOKEN = "Y04146A2"


@dataclass
class Client:
    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    name: str = "Portail citoyen"
    signing_alg: str = "ES256"
    scopes: frozenset[str] = frozenset(SCOPE_CLAIMS)


@dataclass
class Provider:
    """The provider's state: keys, pending interactions, codes and tokens (in memory, one process)."""

    issuer: str
    clients: dict[str, Client]
    keys: list[ECKey | RSAKey]
    testing: bool = False
    interactions: dict[str, dict] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    faults: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def signing_key(self, alg: str = "ES256") -> ECKey | RSAKey:
        """The newest published key for that algorithm."""
        return [k for k in self.keys if k.alg == alg][-1]

    def public_jwks(self) -> dict:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def rotate(self) -> ECKey:
        """A new ES256 signing key, published beside the old one (tests: the client must re-fetch)."""
        key = new_ec_key(f"pkcs11:ES256:hsm:{len(self.keys) + 1}")
        with self.lock:
            self.keys.append(key)
        return key

    def take_fault(self, name: str) -> bool:
        """Whether a fault was asked for (tests only; never outside ``TESTING``)."""
        if not self.testing:
            return False
        with self.lock:
            if name in self.faults:
                self.faults.discard(name)
                return True
        return False

    def sign(self, claims: dict, alg: str = "ES256") -> str:
        """A JWS whose header holds only alg and kid, as FranceConnect's."""
        key = self.signing_key(alg)
        header = {"alg": alg, "kid": key.kid}
        payload = json.dumps(claims, separators=(",", ":")).encode()
        if self.take_fault("unpublished_kid"):
            rogue = new_ec_key("pkcs11:ES256:unpublished")
            return jws.serialize_compact({"alg": "ES256", "kid": rogue.kid}, payload, rogue)
        if self.take_fault("alg_none"):
            return f"{_b64({'alg': 'none'})}.{_b64(claims)}."
        if self.take_fault("hs256_public_key"):
            # The classic forgery: HMAC keyed with the provider's public key.
            secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
            return jws.serialize_compact({"alg": "HS256", "kid": key.kid}, payload, secret,
                                         algorithms=["HS256"])
        return jws.serialize_compact(header, payload, key, algorithms=[alg])

    def prune(self) -> None:
        """Forget expired codes, tokens and interactions (call with the lock held)."""
        now = time.time()
        for store in (self.codes, self.tokens, self.interactions):
            for key in [k for k, v in store.items() if v["expires"] < now]:
                del store[key]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def new_ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})


def new_rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})



def _fresh_keys() -> list[ECKey | RSAKey]:
    return [new_ec_key("pkcs11:ES256:hsm"), new_rsa_key("pkcs11:RS256:hsm")]


def _write_keys(path: Path, keys: list[ECKey | RSAKey]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"keys": [k.as_dict(private=True) for k in keys]}, handle)
    os.replace(tmp, path)


def _load_keys(path: Path | None) -> list[ECKey | RSAKey]:
    """The signing keys, generated once and kept (development), or fresh for each run (tests)."""
    if path is None:
        return _fresh_keys()
    if not path.exists():
        keys = _fresh_keys()
        _write_keys(path, keys)
        return keys
    keys = list(KeySet.import_key_set(json.loads(path.read_text())).keys)
    if not any(k.alg == "RS256" for k in keys):  # a file from before the RS256 key
        keys.append(new_rsa_key("pkcs11:RS256:hsm"))
        _write_keys(path, keys)
    return keys


def pairwise_sub(client_id: str, login: str) -> str:
    """64 hex characters + "v1", different for each service, as FranceConnect's."""
    return hashlib.sha256(f"{client_id}:{login}".encode()).hexdigest() + "v1"


def _error_page(code: str, message: str, status: int = 400) -> tuple[str, int]:
    """FranceConnect's technical error page: never a redirect, no link back to the service."""
    return render_template("local_franceconnect/error.html", code=code, message=message), status


def _oauth_error(error: str, status: int, description: str, detail: str | None, code: str) -> Response:
    """A back-channel error as FranceConnect words it: ``description (detail)`` and an ``error_uri``."""
    response = jsonify({
        "error": error,
        "error_description": f"{description} ({detail if detail is not None else 'undefined'})",
        "error_uri": f"{ERRORS_DOC}?{urlencode({'code': code, 'id': str(uuid.uuid4())})}",
    })
    response.status_code = status
    return response


def _redirect_with(uri: str, params: dict, status: int = 303, fragment: bool = False) -> Response:
    separator = "#" if fragment else ("&" if "?" in uri else "?")
    return redirect(f"{uri}{separator}{urlencode(params)}", status)


def _plain_redirect(location: str, status: int) -> Response:
    """A redirect whose body is text, as FranceConnect's Express answers (301, 302)."""
    phrase = "Moved Permanently" if status == 301 else "Found"
    response = Response(f"{phrase}. Redirecting to {location}", status=status, mimetype="text/plain")
    response.headers["Location"] = location
    return response


def _is_url(value: str, require_tld: bool) -> bool:
    """An absolute http(s) URL; with ``require_tld``, ``localhost`` and other bare names are refused."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if require_tld:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return "." in host.strip(".")
    return True


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    if (config.get("PORTAL_ENV") or os.environ.get("PORTAL_ENV", "production")) == "production":
        raise RuntimeError("Le FranceConnect local ne démarre pas en production (PORTAL_ENV=production).")
    app = Flask(__name__, instance_path=str(ROOT / "instance" / "local-franceconnect"))
    app.config.update(
        SECRET_KEY=config.get("SECRET_KEY") or secrets.token_urlsafe(32),
        TESTING=bool(config.get("TESTING", False)),
    )
    issuer = (config.get("ISSUER") or local_franceconnect_issuer()).rstrip("/")
    public_url = config.get("PORTAL_PUBLIC_URL") or dev_public_url()
    require_tld = bool(config.get("REDIRECT_URI_REQUIRE_TLD", False))
    client = Client(
        client_id=config.get("CLIENT_ID", DEV_FRANCECONNECT_CLIENT_ID),
        secret=config.get("CLIENT_SECRET", DEV_FRANCECONNECT_CLIENT_SECRET),
        redirect_uris=(f"{public_url}/connexion/franceconnect/retour",),
        post_logout_redirect_uris=(f"{public_url}/deconnexion/retour",),
    )
    default_keys_file = None if app.config["TESTING"] else Path(app.instance_path) / "jwks-private.json"
    keys_file = Path(config["KEYS_FILE"]) if config.get("KEYS_FILE") else default_keys_file
    clients = {client.client_id: client}
    # Tests only: more services registered beside the portal's, e.g. the agents' space using this provider
    # as its ProConnect (ProConnect runs FranceConnect's software; its ``usual_name`` scope is offered to
    # a client that lists it). Each entry holds ``Client``'s fields.
    for extra in config.get("EXTRA_CLIENTS", ()):
        extra = dict(extra)
        extra["redirect_uris"] = tuple(extra.get("redirect_uris", ()))
        extra["post_logout_redirect_uris"] = tuple(extra.get("post_logout_redirect_uris", ()))
        extra["scopes"] = frozenset(extra.get("scopes", SCOPE_CLAIMS))
        clients[extra["client_id"]] = Client(**extra)
    provider = Provider(issuer=issuer, clients=clients, keys=_load_keys(keys_file),
                        testing=app.config["TESTING"])
    app.extensions["local_franceconnect"] = provider
    sso = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="fc-local-sso")
    secure_cookie = issuer.startswith("https://")

    def faulty(name: str) -> bool:
        return app.config["TESTING"] and provider.take_fault(name)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                    "frame-ancestors 'none'; base-uri 'none'")
        if request.endpoint not in ("discovery", "jwks"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(404)
    def not_found(_error):
        # The same answer under /api/v2 and elsewhere (api-core.feature).
        return _error_page("Y000404", "La page que vous cherchez n'existe pas.", 404)

    @app.get(PREFIX)
    def core():
        return _plain_redirect(USER_SITE, 301)

    @app.get(f"{PREFIX}/.well-known/openid-configuration")
    def discovery():
        if faulty("slow"):
            time.sleep(8)
        base = provider.issuer
        return jsonify({
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/session/end",
            "jwks_uri": f"{base}/jwks",
            "revocation_endpoint": f"{base}/token/revocation",
            "acr_values_supported": ["eidas1"],
            "scopes_supported": sorted(SCOPE_CLAIMS),
            "claims_supported": sorted({c for cs in SCOPE_CLAIMS.values() for c in cs} | {"amr", "acr"}),
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": True,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["HS256", "ES256", "RS256"],
            "userinfo_signing_alg_values_supported": ["HS256", "ES256", "RS256"],
            "request_object_signing_alg_values_supported": ["HS256", "ES256", "RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "revocation_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "require_request_uri_registration": False,
            "authorization_response_iss_parameter_supported": True,
            "code_challenge_methods_supported": ["S256"],
        })

    @app.get(f"{PREFIX}/jwks")
    def jwks():
        return jsonify(provider.public_jwks())

    def _dto_valid(params) -> bool:
        """FranceConnect's AuthorizeParamsDto: presence and form of each parameter (else Y030007)."""
        required = ("client_id", "redirect_uri", "response_type", "scope", "acr_values", "state", "nonce")
        if any(name not in params for name in required):
            return False
        if not params["client_id"] or len(params["nonce"]) < MIN_NONCE:
            return False
        if not _is_url(params["redirect_uri"], require_tld):
            return False
        if "prompt" in params:
            prompt = params["prompt"].split()
            if not prompt or any(value not in PROMPTS for value in prompt):
                return False
        return True

    def _sent_back_error(params, client: Client) -> tuple[str, str, bool] | None:
        """oidc-provider's checks that answer on the redirect_uri: (error, description, in fragment)."""
        response_type = params["response_type"]
        types = response_type.split()
        if not types:
            return "invalid_request", "missing required parameter 'response_type'", False
        if types != ["code"]:
            return ("unsupported_response_type", "unsupported response_type requested",
                    "token" in types or "id_token" in types)
        if "claims" in params:
            try:
                claims = json.loads(params["claims"])
            except ValueError:
                claims = None
            if not isinstance(claims, dict):
                return "invalid_request", "could not parse the claims parameter JSON", False
        scopes = params["scope"].split()
        if "openid" not in scopes:
            return "invalid_request", "openid scope must be requested when using the acr_values parameter", False
        if any(scope not in client.scopes for scope in scopes):
            return "invalid_scope", "requested scope is not allowed", False
        return None

    @app.route(f"{PREFIX}/authorize", methods=["GET", "POST"])
    def authorize():
        params = request.form if request.method == "POST" else request.args
        if not _dto_valid(params):
            return _error_page("Y030007", MSG_SP_INCIDENT)
        client = provider.clients.get(params["client_id"])
        if client is None:
            return _error_page("Y04EA6EF", MSG_SP_COMMUNICATION)
        redirect_uri = params["redirect_uri"]
        declared = redirect_uri in client.redirect_uris
        state = params["state"]
        sent_back = _sent_back_error(params, client)
        if sent_back is not None:
            if not declared:
                return _error_page("Y040001", MSG_GENERIC)
            error, description, fragment = sent_back
            answer = {"error": error, "error_description": description}
            if state:
                answer["state"] = state
            answer["iss"] = provider.issuer
            return _redirect_with(redirect_uri, answer, fragment=fragment)
        if not declared:
            return _error_page("Y04C013C", MSG_SP_COMMUNICATION)
        if "eidas1" not in params["acr_values"].split():
            return _error_page("Y020002", MSG_ACR)
        claims = json.loads(params["claims"]) if "claims" in params else {}
        id_token_claims = claims.get("id_token") if isinstance(claims.get("id_token"), dict) else {}
        interaction = {
            "client_id": client.client_id, "redirect_uri": redirect_uri, "state": state,
            "nonce": params["nonce"], "scopes": params["scope"].split(), "amr": "amr" in id_token_claims,
            "expires": time.time() + INTERACTION_SECONDS,
        }
        login = _sso_login()
        if login and "login" not in params.get("prompt", "").split():
            return _remember(_issue_code(interaction, login), login)
        uid = secrets.token_urlsafe(16)
        with provider.lock:
            provider.prune()
            provider.interactions[uid] = interaction
        return redirect(f"{PREFIX}/interaction/{uid}", 303)

    def _sso_login() -> str | None:
        try:
            login = sso.loads(request.cookies.get(SSO_COOKIE, ""), max_age=SSO_SECONDS)
        except BadSignature:
            return None
        return login if login in IDENTITIES else None

    def _remember(response: Response, login: str) -> Response:
        """The SSO session, 30 minutes from its last use (FranceConnect's session slides)."""
        response.set_cookie(SSO_COOKIE, sso.dumps(login), max_age=SSO_SECONDS, httponly=True,
                            samesite="Lax", secure=secure_cookie, path="/")
        return response

    def _interaction(uid: str) -> dict | None:
        with provider.lock:
            interaction = provider.interactions.get(uid)
        if interaction is None or interaction["expires"] < time.time():
            return None
        return interaction

    @app.get(f"{PREFIX}/interaction/<uid>")
    def interaction(uid: str):
        pending = _interaction(uid)
        if pending is None:
            return _error_page("Y190001", MSG_SESSION, 401)
        client = provider.clients[pending["client_id"]]
        return render_template("local_franceconnect/identities.html", uid=uid, client=client,
                               identities=IDENTITIES, prefix=PREFIX)

    @app.post(f"{PREFIX}/interaction/<uid>/login")
    def choose(uid: str):
        pending = _interaction(uid)
        if pending is None:
            return _error_page("Y190001", MSG_SESSION, 401)
        login = request.form.get("login", "")
        if login not in IDENTITIES:
            return _error_page("Y030007", MSG_TECHNICAL)
        with provider.lock:
            provider.interactions.pop(uid, None)
        return _remember(_issue_code(pending, login), login)

    @app.get(f"{PREFIX}/interaction/<uid>/abort")
    def abort_interaction(uid: str):
        pending = _interaction(uid)
        if pending is None:
            return _error_page("Y190001", MSG_SESSION, 401)
        with provider.lock:
            provider.interactions.pop(uid, None)
        query = urlencode({"error": "access_denied", "error_description": "user authentication aborted",
                           "state": pending["state"], "iss": provider.issuer})
        separator = "&" if "?" in pending["redirect_uri"] else "?"
        return _plain_redirect(f"{pending['redirect_uri']}{separator}{query}", 302)

    def _issue_code(pending: dict, login: str) -> Response:
        code = secrets.token_urlsafe(32)
        with provider.lock:
            provider.prune()
            provider.codes[code] = {**pending, "login": login, "auth_time": int(time.time()),
                                    "expires": time.time() + CODE_SECONDS, "consumed": False}
        return _redirect_with(pending["redirect_uri"], {"code": code, "state": pending["state"],
                                                        "iss": provider.issuer})

    def _authenticate_client(form) -> Client | Response:
        """``client_secret_post``, the only method FranceConnect registers for its clients."""
        if request.authorization is not None:
            return _oauth_error("invalid_client", 401, "client authentication failed",
                                "the provided authentication mechanism does not match the registered "
                                "client authentication method", CODE_INVALID_SECRET)
        client_id = form.get("client_id")
        if not client_id:
            return _oauth_error("invalid_request", 400, "no client authentication mechanism provided", None,
                                CODE_MISSING_CODE)
        client = provider.clients.get(client_id)
        if client is None:
            return _oauth_error("invalid_client", 401, "client authentication failed", "client not found",
                                CODE_INVALID_SECRET)
        if not secrets.compare_digest(form.get("client_secret", ""), client.secret):
            return _oauth_error("invalid_client", 401, "client authentication failed",
                                "invalid secret provided", CODE_INVALID_SECRET)
        return client

    def _grant_error(detail: str, code: str = CODE_GRANT_NOT_FOUND) -> Response:
        return _oauth_error("invalid_grant", 400, "grant request is invalid", detail, code)

    @app.post(f"{PREFIX}/token")
    def token():
        form = request.form
        client = _authenticate_client(form)
        if isinstance(client, Response):
            return client
        if not form.get("grant_type"):
            return _oauth_error("invalid_request", 400, "missing required parameter 'grant_type'", None,
                                CODE_MISSING_CODE)
        if form["grant_type"] != "authorization_code":
            return _oauth_error("unsupported_grant_type", 400, "unsupported grant_type requested", None,
                                CODE_MISSING_CODE)
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                return _oauth_error("invalid_request", 400, f"missing required parameter '{name}'", None,
                                    CODE_MISSING_CODE)
        code = form["code"]
        with provider.lock:
            grant = provider.codes.get(code)
            if grant is None or grant["expires"] < time.time():
                return _grant_error("authorization code not found")
            if grant["client_id"] != client.client_id:
                return _grant_error("client mismatch")
            if grant["redirect_uri"] != form["redirect_uri"]:
                return _grant_error("authorization code redirect_uri mismatch")
            if grant["consumed"]:
                for revoked in [t for t, v in provider.tokens.items() if v["code"] == code]:
                    del provider.tokens[revoked]
                return _grant_error("authorization code already consumed", CODE_GRANT_CONSUMED)
            grant["consumed"] = True
        now = int(time.time())
        sub = pairwise_sub(client.client_id, grant["login"])
        claims = {
            "iss": provider.issuer, "sub": sub, "aud": client.client_id, "exp": now + TOKEN_SECONDS,
            "iat": now, "auth_time": grant["auth_time"], "acr": "eidas1", "nonce": grant["nonce"],
        }
        if grant["amr"]:
            claims["amr"] = list(LOCAL_IDP_AMR)
        if faulty("wrong_nonce"):
            claims["nonce"] = secrets.token_hex(32)
        if faulty("wrong_aud"):
            claims["aud"] = "un-autre-service"
        if faulty("wrong_iss"):
            claims["iss"] = "https://faux-franceconnect.example/api/v2"
        if faulty("expired"):
            claims["iat"], claims["exp"] = now - 600, now - 540
        if faulty("low_acr"):
            claims["acr"] = "eidas0"
        access_token = secrets.token_urlsafe(32)
        with provider.lock:
            provider.tokens[access_token] = {"login": grant["login"], "client_id": client.client_id,
                                             "scopes": grant["scopes"], "code": code,
                                             "expires": time.time() + TOKEN_SECONDS}
        return jsonify({
            "access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
            "id_token": provider.sign(claims, client.signing_alg), "scope": " ".join(grant["scopes"]),
        })

    @app.route(f"{PREFIX}/userinfo", methods=["GET", "POST"])
    def userinfo():
        auth = request.headers.get("Authorization", "")
        access_token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not access_token:
            return _oauth_error("invalid_token", 401, "no access token provided", "no access token provided",
                                CODE_NO_TOKEN)
        with provider.lock:
            grant = provider.tokens.get(access_token)
        if grant is None or grant["expires"] < time.time():
            return _oauth_error("invalid_token", 401, "invalid token provided", "access token not found",
                                CODE_TOKEN_NOT_FOUND)
        client = provider.clients[grant["client_id"]]
        now = int(time.time())
        claims = {
            **claims_for(grant["login"], grant["scopes"]),
            "sub": pairwise_sub(grant["client_id"], grant["login"]),
            "iss": provider.issuer, "aud": grant["client_id"], "iat": now, "exp": now + TOKEN_SECONDS,
        }
        if faulty("userinfo_json"):
            return jsonify(claims)
        if faulty("userinfo_wrong_aud"):
            claims["aud"] = "un-autre-service"
        signed = provider.sign(claims, client.signing_alg)
        if faulty("userinfo_tampered"):
            header, _, signature = signed.split(".")
            signed = f"{header}.{_b64({**claims, 'family_name': 'MALVEILLANT'})}.{signature}"
        return Response(signed, mimetype="application/jwt")

    @app.route(f"{PREFIX}/session/end", methods=["GET", "POST"])
    def session_end():
        params = request.form if request.method == "POST" else request.args
        hint = params.get("id_token_hint", "")
        if not hint:
            return _error_page("Y000400", "Le paramètre id_token_hint est absent.")
        try:
            audience = json.loads(jws.extract_compact(hint.encode()).payload).get("aud")
        except (jose_errors.JoseError, ValueError, AttributeError):
            return _error_page("Y045AFAE", "Le jeton id_token_hint n'a pas pu être vérifié.")
        client = provider.clients.get(audience) if isinstance(audience, str) else None
        if client is None or params.get("client_id", client.client_id) != client.client_id:
            return _error_page("Y000400", "Le jeton id_token_hint n'a pas été émis pour ce service.")
        try:
            # As oidc-provider: the client's algorithm, issuer and audience; an expired hint is accepted.
            claims = jwt.decode(hint, KeySet.import_key_set(provider.public_jwks()),
                                algorithms=[client.signing_alg]).claims
        except (jose_errors.JoseError, ValueError):
            return _error_page("Y045AFAE", "Le jeton id_token_hint n'a pas pu être vérifié.")
        if claims.get("iss") != provider.issuer or claims.get("aud") != client.client_id or not claims.get("sub"):
            return _error_page("Y045AFAE", "Le jeton id_token_hint n'a pas pu être vérifié.")
        target = params.get("post_logout_redirect_uri")
        if target is None:
            response = Response(render_template("local_franceconnect/logged_out.html"), mimetype="text/html")
        elif target not in client.post_logout_redirect_uris:
            return _error_page("Y000400", "L'adresse de retour après déconnexion n'est pas déclarée.")
        else:
            response = _redirect_with(target, {"state": params["state"]} if "state" in params else {})
        response.delete_cookie(SSO_COOKIE, path="/", secure=secure_cookie, httponly=True, samesite="Lax")
        return response

    @app.post(f"{PREFIX}/token/revocation")
    def revoke():
        client = _authenticate_client(request.form)
        if isinstance(client, Response):
            return client
        with provider.lock:
            grant = provider.tokens.get(request.form.get("token", ""))
            if grant is not None and grant["client_id"] == client.client_id:
                del provider.tokens[request.form["token"]]
        return "", 200

    return app
