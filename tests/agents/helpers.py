"""Helpers other test packages use to make an agent and sign them in through the real form.

    from tests.agents.helpers import make_agent, sign_in_agent

    agent, secret = make_agent(db_session, email="opj@interieur.gouv.fr", unit_id=station_id)
    sign_in_agent(client, "opj@interieur.gouv.fr", DEFAULT_PASSWORD, secret)

A TOTP code is accepted once only (replays are refused), so the same agent can
sign in once per 30-second time step: for a second sign-in in the same test,
make a second agent (each ``make_agent`` draws a new secret) or pass ``code``.

Each request ends its application context, which removes the test's database session: objects the
test holds are detached afterwards. Keep ``agent.id`` (read before the first request) and load the
agent again with ``db_session.get(Agent, agent_id)`` when needed.
"""

from __future__ import annotations

import re
from contextlib import contextmanager, nullcontext

import pyotp
from flask import has_app_context
from sqlalchemy import select

from agents import services
from agents.models import Agent
from maps.models import Station
from portal.extensions import db

DEFAULT_PASSWORD = "mot-de-passe-de-test-agents-2026"
SIGN_IN_PATH = "/agents/connexion"


def le_mans_station_id(db_session) -> str | None:
    """A Le Mans police unit when the stations are loaded (the session-wide ``app``), else None."""
    return db_session.scalar(
        select(Station.id).where(Station.code_insee == "72181", Station.kind == "police").order_by(Station.id)
    ) or db_session.scalar(select(Station.id).where(Station.code_insee == "72181").order_by(Station.id))


def make_agent(db_session, email: str = "agent@interieur.gouv.fr", roles=("officer",), unit_id: str | None = "",
               password: str = DEFAULT_PASSWORD, display_name: str = "Agent de test") -> tuple[Agent, str]:
    """An active agent with a password and a fresh TOTP secret, committed; returns (agent, totp_secret).

    Committed so that the sign-in's own transactions see it (under the ``db_session`` fixture a commit
    is still rolled back at the end of the test). ``unit_id`` left at "" picks a Le Mans police unit
    when the stations are loaded (None otherwise); pass None for an agent without a unit (not an officer).
    """
    # The TOTP secret is sealed with the application's key: an application context is needed.
    with _app_context(db_session):
        if unit_id == "":
            unit_id = le_mans_station_id(db_session)
        agent, secret = services.create_agent(db_session, email, roles=list(roles), unit_id=unit_id,
                                              password=password, display_name=display_name)
        db_session.commit()
        db_session.refresh(agent)
    return agent, secret


def _app_context(db_session):
    """The current application context, or one of the application whose engine ``db_session`` uses."""
    if has_app_context():
        return nullcontext()
    bind = db_session.get_bind()
    engine = getattr(bind, "engine", bind)
    for application, engines in db._app_engines.items():
        if engine in engines.values():
            return _quiet_app_context(application)
    raise RuntimeError("make_agent: call it inside an application context")


@contextmanager
def _quiet_app_context(application):
    """An application context whose end leaves the test's database session alone.

    Flask-SQLAlchemy removes the session when an application context ends, which would
    detach every object the test holds (the agent returned, a case made earlier).
    """
    context = application.app_context()
    context.push()
    try:
        yield
    finally:
        saved = application.teardown_appcontext_funcs
        application.teardown_appcontext_funcs = []
        try:
            context.pop()
        finally:
            application.teardown_appcontext_funcs = saved


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in_agent(client, email: str, password: str = DEFAULT_PASSWORD, totp_secret: str | None = None,
                  next_url: str | None = None, code: str | None = None, expect_success: bool = True):
    """Fill in and send the agents' sign-in form; returns the POST's response (303 on success).

    The code is ``pyotp.TOTP(totp_secret).now()`` unless ``code`` is given.
    """
    page = client.get(SIGN_IN_PATH + (f"?next={next_url}" if next_url else ""))
    assert page.status_code == 200, page.status_code
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": email,
        "password": password,
        "code": code if code is not None else pyotp.TOTP(totp_secret).now(),
    }
    if next_url:
        data["next"] = next_url
    response = client.post(SIGN_IN_PATH, data=data)
    if expect_success:
        assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return response
