"""Agents' sign-in with ProConnect (the agents' OpenID provider), when AGENTS_OIDC_ISSUER is set.

ProConnect runs FranceConnect's federation software: the same endpoints under
``/api/v2``, ``client_secret_post``, an ES256/RS256 id_token, a userinfo that is a
signed JWT, ``iss`` on the callback (RFC 9207), ``session/end`` for logout. The
portal's FranceConnect client (accounts.franceconnect) does all of it and is
used here as is, with ProConnect's scopes: state and nonce of 64 hex characters,
id_token checked (signature, iss, aud, exp, iat, nonce, acr ≥ eidas1, sub), userinfo
checked (signature, iss, aud, sub). It sends no PKCE (it has no option for it);
the confidential client's secret and the nonce protect the code exchange.

ProConnect proves who the agent is; it never creates one. The verified ``email``
claim (lower-cased) must name an active agent made beforehand with ``flask agents
create``; anyone else is refused and the refusal is in the audit log
(``login.refused``), as is an agent without a TOTP secret (no second factor).

ProConnect replaces the password only: the portal's TOTP second factor stays,
whatever ProConnect's identity provider asked. Back from ProConnect, the agent's
session is NOT opened: the agent's id, the time and the next page are kept in the
browser's server-side session (``SECOND_FACTOR_KEY``, 5 minutes at most) and the
agent types their 6-digit code at ``/agents/connexion/code``. The code is checked by
agents.services.check_second_factor, with the password path's rules (replays
refused, failures counted, lock at AGENT_MAX_FAILURES); only then is the session
opened (agents.services.open_session) and ``login.ok`` recorded with ``proconnect``
as its target type (the password path records ``agent``).

While ProConnect is configured, it replaces the password form entirely (the
sign-in page offers only the ProConnect button and the password POST is refused):
one way in, managed by the agents' own identity provider (their ministry's
directory), which is the point of the configuration. The level asked and checked
is ``acr`` eidas1, the one every ProConnect identity provider gives; ProConnect
does not ask for a second factor unless the service requires one, hence the
portal's own (docs/agents.md).

The pending sign-in (state, nonce, next page), the pending second factor and,
once signed in, the raw id_token (for ProConnect's logout) are kept in the
browser's server-side session (accounts.sessions), never in a cookie.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from sqlalchemy.orm import Session

from accounts.franceconnect import FranceConnectClient, SignedIn
from agents import audit, services
from agents.models import Agent, AuditEvent

log = logging.getLogger("agents.audit")

# ProConnect's scopes for an agents' space: the professional e-mail (the key to the agent) and the name.
SCOPES = "openid email given_name usual_name"
EXTENSION = "agents_oidc"
PENDING_KEY = "agent_oidc_login"
ID_TOKEN_KEY = "agent_oidc_id_token"
LOGOUT_STATE_KEY = "agent_oidc_logout_state"
SECOND_FACTOR_KEY = "agent_oidc_second_factor"
# A sign-in left pending longer than ProConnect's own interaction is dropped.
PENDING_SECONDS = 30 * 60
# Between ProConnect's return and the TOTP code: time to open the authenticator application, no more.
SECOND_FACTOR_SECONDS = 5 * 60
CALLBACK_PATH = "/agents/connexion/proconnect/retour"
LOGOUT_CALLBACK_PATH = "/agents/deconnexion/proconnect/retour"


def enabled() -> bool:
    return bool(current_app.config.get("AGENTS_OIDC_ISSUER"))


def client() -> FranceConnectClient:
    return current_app.extensions[EXTENSION]


def provider_origin(issuer: str) -> str:
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}"


def init_app(app: Flask) -> None:
    """The ProConnect client when AGENTS_OIDC_ISSUER is set (nothing otherwise)."""
    issuer = app.config.get("AGENTS_OIDC_ISSUER")
    if not issuer:
        return
    public = app.config["PUBLIC_URL"].rstrip("/")
    app.extensions[EXTENSION] = FranceConnectClient(
        issuer=issuer,
        client_id=app.config["AGENTS_OIDC_CLIENT_ID"],
        client_secret=app.config["AGENTS_OIDC_CLIENT_SECRET"],
        redirect_uri=public + CALLBACK_PATH,
        post_logout_redirect_uri=public + LOGOUT_CALLBACK_PATH,
        scopes=SCOPES,
        timeout=app.config.get("FRANCECONNECT_TIMEOUT", 5.0),
    )
    origin = provider_origin(issuer)

    @app.before_request
    def allow_forms_to_proconnect() -> None:
        # CSP form-action also governs the redirect after a form: the ProConnect button on the sign-in
        # page, and the sign-out button of every agents' page (it goes through ProConnect's logout).
        from agents.access import is_agents_path
        from portal.security import csp_allow

        if is_agents_path(request.path):
            csp_allow("form-action", origin)


# --- The pending sign-in --------------------------------------------------------------------------

def pending_login(state: str, nonce: str, next_url: str | None) -> dict:
    return {"state": state, "nonce": nonce, "next": next_url, "at": time.time()}


def pending_expired(pending: dict | None) -> bool:
    return not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS


def answers(pending: dict | None, state: str) -> bool:
    """The callback's state is the one kept for this browser (compared in constant time)."""
    return bool(pending) and secrets.compare_digest(state.encode(), str(pending.get("state", "")).encode())


def pending_second_factor(agent_id: int, next_url: str | None, id_token: str) -> dict:
    """What the code page needs once ProConnect has proven who the agent is (the id_token: for its logout)."""
    return {"agent": agent_id, "at": time.time(), "next": next_url, "id_token": id_token}


def second_factor_expired(pending: dict | None) -> bool:
    return not isinstance(pending, dict) or not isinstance(pending.get("agent"), int) \
        or not 0 <= time.time() - pending.get("at", 0) <= SECOND_FACTOR_SECONDS


# --- Who signs in ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    """``agent`` is the agent who may now give their TOTP code; None when refused, ``reason`` telling why."""

    agent: Agent | None
    reason: str = ""


def verified_email(result: SignedIn) -> str:
    """The e-mail ProConnect vouches for (userinfo, signed), lower-cased; "" when absent or malformed."""
    value = result.claims.get("email")
    if not isinstance(value, str):
        return ""
    email = services.normalise_email(value)
    return email if "@" in email and not email.startswith("@") and not email.endswith("@") else ""


def sign_in(db_session: Session, result: SignedIn, now: datetime | None = None) -> Outcome:
    """The existing active agent whose e-mail ProConnect verified, with a TOTP secret; never creates one.

    Refusals are audited (``login.refused``); an acceptance is not yet a sign-in (the code follows).
    """
    now = now or datetime.now(UTC)
    email = verified_email(result)
    agent = services.find_agent(db_session, email) if email else None
    if agent is None or not agent.active:
        # The address is a professional one ProConnect verified: the administrator needs it to provision.
        db_session.add(AuditEvent(at=now, agent_id=agent.id if agent else None, agent_email=email,
                                  action="login.refused", target_type="proconnect",
                                  target_id=str(agent.id) if agent else "",
                                  unit_id=(agent.unit_id or "") if agent else ""))
        db_session.flush()
        log.info("agent proconnect sign-in refused: %s", "inactive agent" if agent else "no such agent")
        return Outcome(None, "no_agent")
    if not agent.totp_secret:
        audit.record(db_session, agent, "login.refused", "proconnect", str(agent.id), now=now)
        log.info("agent proconnect sign-in refused: agent %s has no totp secret", agent.id)
        return Outcome(None, "no_second_factor")
    log.info("agent %s identified by proconnect, second factor pending", agent.id)
    return Outcome(agent)
