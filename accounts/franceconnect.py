"""The FranceConnect v2 client: authorization code flow, every check FranceConnect asks for.

authlib builds the authorization URL and exchanges the code (with
``client_secret_post``: FranceConnect refuses HTTP Basic); joserfc verifies
the id_token and the userinfo, which FranceConnect v2 returns as a signed JWT.
The verification is ours rather than authlib's defaults, which accept any
algorithm the provider lists (HS256 included), generate a 20-character nonce
(FranceConnect wants at least 22) and read userinfo as JSON.
Facts and pitfalls: ../shared/notes/franceconnect.md.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet

log = logging.getLogger("accounts.audit")

ASYMMETRIC_ALGORITHMS = ["ES256", "RS256"]
ACR_LEVELS = {"eidas1": 1, "eidas2": 2, "eidas3": 3}
# Clock difference tolerated between the portal and FranceConnect.
LEEWAY_SECONDS = 30
METADATA_TTL_SECONDS = 3600


class ProviderUnavailable(RuntimeError):
    """FranceConnect did not answer in time, or answered nonsense: "connexion indisponible"."""


class LoginRefused(RuntimeError):
    """A check failed: the sign-in is refused. ``reason`` is logged, never shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LoginRequest:
    url: str
    state: str
    nonce: str


@dataclass(frozen=True)
class SignedIn:
    subject: str
    issuer: str
    claims: dict
    id_token: str
    acr: str


class FranceConnectClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str, redirect_uri: str,
                 post_logout_redirect_uri: str, scopes: str, acr: str = "eidas1",
                 timeout: float = 5.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.post_logout_redirect_uri = post_logout_redirect_uri
        self.scopes = scopes
        self.acr = acr
        self.timeout = timeout
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    # -- provider documents -------------------------------------------------

    def _get(self, url: str, **kwargs) -> requests.Response:
        try:
            response = requests.get(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            log.warning("franceconnect unreachable: %s", type(exc).__name__)
            raise ProviderUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500:
            log.warning("franceconnect error: status=%s url=%s", response.status_code, url.split("?")[0])
            raise ProviderUnavailable(f"status {response.status_code}")
        return response

    def metadata(self) -> dict:
        """The discovery document, cached for an hour."""
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata_at < METADATA_TTL_SECONDS:
                return self._metadata
        response = self._get(f"{self.issuer}/.well-known/openid-configuration")
        try:
            metadata = response.json()
        except ValueError as exc:
            raise ProviderUnavailable("discovery is not JSON") from exc
        if metadata.get("issuer") != self.issuer:
            log.warning("franceconnect discovery refused: issuer mismatch")
            raise ProviderUnavailable("discovery issuer mismatch")
        with self._lock:
            self._metadata, self._metadata_at = metadata, time.monotonic()
        return metadata

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        response = self._get(self.metadata()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(response.json())
        except (ValueError, jose_errors.JoseError) as exc:
            raise ProviderUnavailable("unreadable JWKS") from exc
        with self._lock:
            self._keys = keys
        return keys

    # -- the flow ------------------------------------------------------------

    def begin(self) -> LoginRequest:
        """Where to send the browser; state and nonce are 64 random hex characters each."""
        state, nonce = secrets.token_hex(32), secrets.token_hex(32)
        oauth = OAuth2Session(self.client_id, scope=self.scopes, redirect_uri=self.redirect_uri)
        url, _ = oauth.create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, nonce=nonce, acr_values=self.acr,
        )
        return LoginRequest(url=url, state=state, nonce=nonce)

    def complete(self, code: str, nonce: str) -> SignedIn:
        """Exchange the code, verify the id_token, fetch and verify userinfo at once (60 s token)."""
        metadata = self.metadata()
        oauth = OAuth2Session(
            self.client_id, self.client_secret, redirect_uri=self.redirect_uri,
            token_endpoint_auth_method="client_secret_post",
        )
        try:
            token = oauth.fetch_token(metadata["token_endpoint"], code=code,
                                      grant_type="authorization_code", timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("franceconnect token endpoint unreachable: %s", type(exc).__name__)
            raise ProviderUnavailable("token endpoint") from exc
        except Exception as exc:  # authlib's OAuthError and friends: the provider said no
            log.warning("franceconnect token refused: %s", getattr(exc, "error", type(exc).__name__))
            raise LoginRefused("token_refused") from exc
        id_token = token.get("id_token")
        access_token = token.get("access_token")
        if not id_token or not access_token:
            raise LoginRefused("token_incomplete")
        claims = self.verify_id_token(id_token, nonce)
        userinfo = self.userinfo(access_token, claims["sub"])
        return SignedIn(subject=claims["sub"], issuer=self.issuer, claims=userinfo,
                        id_token=id_token, acr=claims["acr"])

    def _decode(self, value: str, what: str):
        """A JWS signed with ES256 or RS256 by a key of the provider's JWKS; one re-fetch if the kid is new."""
        for attempt in (0, 1):
            try:
                return jwt.decode(value, self.keys(refresh=attempt == 1), algorithms=ASYMMETRIC_ALGORITHMS)
            except jose_errors.InvalidKeyIdError as exc:
                if attempt == 1:
                    raise LoginRefused(f"{what}_unknown_kid") from exc
            except jose_errors.UnsupportedAlgorithmError as exc:
                raise LoginRefused(f"{what}_algorithm") from exc
            except jose_errors.BadSignatureError as exc:
                raise LoginRefused(f"{what}_signature") from exc
            except (jose_errors.JoseError, ValueError) as exc:
                raise LoginRefused(f"{what}_malformed") from exc
        raise LoginRefused(f"{what}_unknown_kid")  # pragma: no cover - the loop always returns or raises

    def verify_id_token(self, id_token: str, nonce: str) -> dict:
        claims = self._decode(id_token, "id_token").claims
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        checks = {
            "iss": claims.get("iss") == self.issuer,
            "aud": self.client_id in audiences and (len(audiences) == 1 or claims.get("azp") == self.client_id),
            "exp": isinstance(claims.get("exp"), int | float) and claims["exp"] + LEEWAY_SECONDS > now,
            "iat": isinstance(claims.get("iat"), int | float) and claims["iat"] - LEEWAY_SECONDS < now,
            "nonce": isinstance(claims.get("nonce"), str) and secrets.compare_digest(claims["nonce"], nonce),
            "acr": ACR_LEVELS.get(claims.get("acr"), 0) >= ACR_LEVELS[self.acr],
            "sub": isinstance(claims.get("sub"), str) and 0 < len(claims["sub"]) <= 128,
        }
        for name, ok in checks.items():
            if not ok:
                raise LoginRefused(f"id_token_{name}")
        return claims

    def userinfo(self, access_token: str, subject: str) -> dict:
        response = self._get(self.metadata()["userinfo_endpoint"],
                             headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            raise LoginRefused(f"userinfo_status_{response.status_code}")
        if response.headers.get("Content-Type", "").split(";")[0].strip() != "application/jwt":
            raise LoginRefused("userinfo_not_signed")
        claims = self._decode(response.text.strip(), "userinfo").claims
        audience = claims.get("aud")
        if claims.get("iss") != self.issuer:
            raise LoginRefused("userinfo_iss")
        if audience != self.client_id and not (isinstance(audience, list) and self.client_id in audience):
            raise LoginRefused("userinfo_aud")
        if claims.get("sub") != subject:
            raise LoginRefused("userinfo_sub")
        return claims

    def logout_url(self, id_token: str, state: str) -> str:
        query = urlencode({
            "id_token_hint": id_token,
            "state": state,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
        })
        return f"{self.metadata()['end_session_endpoint']}?{query}"
