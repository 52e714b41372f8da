"""A local FranceConnect v2, for development and tests: an OpenID Connect client cannot tell it apart.

It mirrors FranceConnect v2 (eIDAS "faible"): the discovery document, an
ES256 JWKS, ``/api/v2/authorize`` that validates every parameter and answers
bad ones with FranceConnect's own error codes on its own page (never a
redirect), a page to pick a test identity with a "Revenir" link that returns
``access_denied``, a 30-minute SSO cookie, single-use 30-second codes bound
to their redirect_uri, 60-second access tokens, userinfo as a signed JWT
filtered by scope, and ``/api/v2/session/end``. Facts:
../shared/notes/franceconnect.md, section 5.

It refuses to start in production (PORTAL_ENV=production). In tests only
(``TESTING``), ``app.extensions["local_franceconnect"].faults`` makes it
misbehave on purpose, to prove the portal refuses what it must.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, jsonify, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import errors as jose_errors
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, OctKey

from local_franceconnect.identities import IDENTITIES, SCOPE_CLAIMS, claims_for
from portal.config import (
    DEV_FRANCECONNECT_CLIENT_ID,
    DEV_FRANCECONNECT_CLIENT_SECRET,
    ROOT,
    dev_public_url,
    local_franceconnect_issuer,
)

PREFIX = "/api/v2"
SSO_COOKIE = "fc_local_sso"
SSO_SECONDS = 30 * 60
CODE_SECONDS = 30
TOKEN_SECONDS = 60
INTERACTION_SECONDS = 30 * 60
MIN_STATE_NONCE = 22
PROMPTS = {"login", "consent"}


@dataclass
class Client:
    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    name: str = "Portail citoyen"


@dataclass
class Provider:
    """The provider's state: keys, pending interactions, codes and tokens (in memory, one process)."""

    issuer: str
    clients: dict[str, Client]
    keys: list[ECKey]
    interactions: dict[str, dict] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    faults: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def signing_key(self) -> ECKey:
        return self.keys[-1]

    def public_jwks(self) -> dict:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def rotate(self) -> ECKey:
        """A new signing key, published beside the old one (tests: the client must re-fetch)."""
        key = new_key(f"pkcs11:ES256:hsm:{len(self.keys) + 1}")
        with self.lock:
            self.keys.append(key)
        return key

    def take_fault(self, name: str) -> bool:
        with self.lock:
            if name in self.faults:
                self.faults.discard(name)
                return True
        return False

    def sign(self, claims: dict) -> str:
        """An ES256 JWS whose header holds only alg and kid, as FranceConnect's."""
        key = self.signing_key
        header = {"alg": "ES256", "kid": key.kid}
        payload = json.dumps(claims, separators=(",", ":")).encode()
        if self.take_fault("unpublished_kid"):
            rogue = new_key("pkcs11:ES256:unpublished")
            return jws.serialize_compact({"alg": "ES256", "kid": rogue.kid}, payload, rogue)
        if self.take_fault("alg_none"):
            return f"{_b64({'alg': 'none'})}.{_b64(claims)}."
        if self.take_fault("hs256_public_key"):
            # The classic forgery: HMAC keyed with the provider's public key.
            secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
            return jws.serialize_compact({"alg": "HS256", "kid": key.kid}, payload, secret,
                                         algorithms=["HS256"])
        return jws.serialize_compact(header, payload, key)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def new_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})


def _load_keys(path: Path | None) -> list[ECKey]:
    """The signing key, generated once and kept (development), or fresh for each run (tests)."""
    if path is None:
        return [new_key("pkcs11:ES256:hsm")]
    if path.exists():
        return [ECKey.import_key(k) for k in json.loads(path.read_text())["keys"]]
    key = new_key("pkcs11:ES256:hsm")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"keys": [key.as_dict(private=True)]}, handle)
    return [key]


def pairwise_sub(client_id: str, login: str) -> str:
    """64 hex characters + "v1", different for each service, as FranceConnect's."""
    return hashlib.sha256(f"{client_id}:{login}".encode()).hexdigest() + "v1"


def _error_page(code: str, message: str, status: int = 400) -> tuple[str, int]:
    return render_template("local_franceconnect/error.html", code=code, message=message), status


def _oauth_error(error: str, status: int, description: str = "") -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirect_with(uri: str, params: dict) -> Response:
    separator = "&" if "?" in uri else "?"
    return redirect(f"{uri}{separator}{urlencode(params)}", 303)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    if (config.get("PORTAL_ENV") or os.environ.get("PORTAL_ENV", "production")) == "production":
        raise RuntimeError("Le FranceConnect local ne démarre pas en production (PORTAL_ENV=production).")
    app = Flask(__name__, instance_path=str(ROOT / "instance" / "local-franceconnect"))
    app.config.update(
        SECRET_KEY=config.get("SECRET_KEY") or secrets.token_urlsafe(32),
        TESTING=bool(config.get("TESTING", False)),
    )
    issuer = config.get("ISSUER") or local_franceconnect_issuer()
    public_url = config.get("PORTAL_PUBLIC_URL") or dev_public_url()
    client = Client(
        client_id=config.get("CLIENT_ID", DEV_FRANCECONNECT_CLIENT_ID),
        secret=config.get("CLIENT_SECRET", DEV_FRANCECONNECT_CLIENT_SECRET),
        redirect_uris=(f"{public_url}/connexion/franceconnect/retour",),
        post_logout_redirect_uris=(f"{public_url}/deconnexion/retour",),
    )
    keys_file = None if app.config["TESTING"] else Path(app.instance_path) / "jwks-private.json"
    provider = Provider(issuer=issuer.rstrip("/"), clients={client.client_id: client},
                        keys=_load_keys(keys_file))
    app.extensions["local_franceconnect"] = provider
    sso = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="fc-local-sso")

    def faulty(name: str) -> bool:
        return app.config["TESTING"] and provider.take_fault(name)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                    "frame-ancestors 'none'; base-uri 'none'")
        return response

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
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["HS256", "ES256", "RS256"],
            "userinfo_signing_alg_values_supported": ["HS256", "ES256", "RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "claims_parameter_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "code_challenge_methods_supported": ["S256"],
            "claim_types_supported": ["normal"],
        })

    @app.get(f"{PREFIX}/jwks")
    def jwks():
        return jsonify(provider.public_jwks())

    @app.route(f"{PREFIX}/authorize", methods=["GET", "POST"])
    def authorize():
        params = request.values
        client = provider.clients.get(params.get("client_id", ""))
        if client is None:
            return _error_page("Y04EA6EF", "Le fournisseur de service est inconnu.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _error_page("Y04C013C", "L'adresse de retour n'est pas déclarée pour ce fournisseur.")
        required = ("response_type", "client_id", "redirect_uri", "scope", "acr_values", "state", "nonce")
        if any(not params.get(name) for name in required):
            return _error_page("Y030007", "Un paramètre obligatoire est absent.")
        if len(params["nonce"]) < MIN_STATE_NONCE or len(params["state"]) < MIN_STATE_NONCE:
            return _error_page("Y030007", "Les paramètres state et nonce doivent faire au moins 22 caractères.")
        if params["acr_values"].split() != ["eidas1"]:
            return _error_page("Y030007", "Le niveau demandé (acr_values) n'est pas eidas1.")
        prompt = set(params.get("prompt", "").split()) if "prompt" in params else set()
        if "prompt" in params and (not prompt or not prompt <= PROMPTS):
            return _error_page("Y030007", "La valeur de prompt n'est pas acceptée.")
        state = params["state"]
        if params["response_type"] != "code":
            return _redirect_with(redirect_uri, {"error": "unsupported_response_type", "state": state,
                                                 "iss": provider.issuer})
        scopes = params["scope"].split()
        if "openid" not in scopes:
            return _redirect_with(redirect_uri, {"error": "invalid_request", "state": state,
                                                 "error_description": "openid scope must be requested",
                                                 "iss": provider.issuer})
        if any(s not in SCOPE_CLAIMS for s in scopes):
            return _redirect_with(redirect_uri, {"error": "invalid_scope", "state": state,
                                                 "iss": provider.issuer})
        interaction = {
            "client_id": client.client_id, "redirect_uri": redirect_uri, "state": state,
            "nonce": params["nonce"], "scopes": scopes, "claims": params.get("claims", ""),
            "expires": time.time() + INTERACTION_SECONDS,
        }
        login = _sso_login()
        if login and "login" not in prompt:
            return _issue_code(interaction, login)
        uid = secrets.token_urlsafe(16)
        with provider.lock:
            provider.interactions[uid] = interaction
        return redirect(f"{PREFIX}/interaction/{uid}", 303)

    def _sso_login() -> str | None:
        try:
            login = sso.loads(request.cookies.get(SSO_COOKIE, ""), max_age=SSO_SECONDS)
        except BadSignature:
            return None
        return login if login in IDENTITIES else None

    def _interaction(uid: str) -> dict:
        with provider.lock:
            interaction = provider.interactions.get(uid)
        if interaction is None or interaction["expires"] < time.time():
            abort(404)
        return interaction

    @app.get(f"{PREFIX}/interaction/<uid>")
    def interaction(uid: str):
        pending = _interaction(uid)
        client = provider.clients[pending["client_id"]]
        return render_template("local_franceconnect/identities.html", uid=uid, client=client,
                               identities=IDENTITIES, prefix=PREFIX)

    @app.post(f"{PREFIX}/interaction/<uid>/login")
    def choose(uid: str):
        pending = _interaction(uid)
        login = request.form.get("login", "")
        if login not in IDENTITIES:
            abort(400)
        with provider.lock:
            provider.interactions.pop(uid, None)
        response = _issue_code(pending, login)
        response.set_cookie(SSO_COOKIE, sso.dumps(login), max_age=SSO_SECONDS, httponly=True,
                            samesite="Lax", path="/")
        return response

    @app.get(f"{PREFIX}/interaction/<uid>/abort")
    def abort_interaction(uid: str):
        pending = _interaction(uid)
        with provider.lock:
            provider.interactions.pop(uid, None)
        return _redirect_with(pending["redirect_uri"], {
            "error": "access_denied", "error_description": "User auth aborted",
            "state": pending["state"], "iss": provider.issuer,
        })

    def _issue_code(pending: dict, login: str) -> Response:
        code = secrets.token_urlsafe(32)
        with provider.lock:
            provider.codes[code] = {**pending, "login": login, "auth_time": int(time.time()),
                                    "expires": time.time() + CODE_SECONDS, "used": False}
        return _redirect_with(pending["redirect_uri"], {"code": code, "state": pending["state"],
                                                        "iss": provider.issuer})

    @app.post(f"{PREFIX}/token")
    def token():
        if request.headers.get("Authorization", "").lower().startswith("basic"):
            return _oauth_error("invalid_client", 401, "client_secret_basic is not accepted")
        form = request.form
        client = provider.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(form.get("client_secret", ""), client.secret):
            return _oauth_error("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", 400)
        code = form.get("code")
        if not code:
            return _oauth_error("invalid_request", 400, "code is missing")
        with provider.lock:
            grant = provider.codes.get(code)
            if grant is not None:
                used, grant["used"] = grant["used"], True
        if (grant is None or used or grant["expires"] < time.time()
                or grant["client_id"] != client.client_id
                or grant["redirect_uri"] != form.get("redirect_uri")):
            return _oauth_error("invalid_grant", 400, "authorization code not found")
        now = int(time.time())
        sub = pairwise_sub(client.client_id, grant["login"])
        claims = {
            "iss": provider.issuer, "sub": sub, "aud": client.client_id, "exp": now + TOKEN_SECONDS,
            "iat": now, "auth_time": grant["auth_time"], "acr": "eidas1", "nonce": grant["nonce"],
        }
        if "amr" in grant["claims"]:
            claims["amr"] = ["pwd"]
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
                                             "scopes": grant["scopes"], "expires": time.time() + TOKEN_SECONDS}
        response = jsonify({
            "access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
            "id_token": provider.sign(claims), "scope": " ".join(grant["scopes"]),
        })
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route(f"{PREFIX}/userinfo", methods=["GET", "POST"])
    def userinfo():
        auth = request.headers.get("Authorization", "")
        access_token = auth[7:] if auth.startswith("Bearer ") else ""
        with provider.lock:
            grant = provider.tokens.get(access_token)
        if grant is None or grant["expires"] < time.time():
            return _oauth_error("invalid_token", 401)
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
        signed = provider.sign(claims)
        if faulty("userinfo_tampered"):
            header, _, signature = signed.split(".")
            signed = f"{header}.{_b64({**claims, 'family_name': 'MALVEILLANT'})}.{signature}"
        return Response(signed, mimetype="application/jwt")

    @app.get(f"{PREFIX}/session/end")
    def session_end():
        hint = request.args.get("id_token_hint", "")
        try:
            claims = jwt.decode(hint, KeySet.import_key_set(provider.public_jwks()),
                                algorithms=["ES256"]).claims
        except (jose_errors.JoseError, ValueError):
            return _error_page("Y000400", "Le paramètre id_token_hint est absent ou invalide.")
        client = provider.clients.get(claims.get("aud", ""))
        if client is None or claims.get("iss") != provider.issuer:
            return _error_page("Y000400", "Le jeton id_token_hint n'a pas été émis pour ce service.")
        target = request.args.get("post_logout_redirect_uri", "")
        if target not in client.post_logout_redirect_uris:
            return _error_page("Y000400", "L'adresse de retour après déconnexion n'est pas déclarée.")
        params = {"state": request.args["state"]} if "state" in request.args else {}
        response = _redirect_with(target, params)
        response.delete_cookie(SSO_COOKIE, path="/")
        return response

    @app.post(f"{PREFIX}/token/revocation")
    def revoke():
        with provider.lock:
            provider.tokens.pop(request.form.get("token", ""), None)
        return "", 200

    return app
