"""Fixtures of the workflow's service tests, made available to the folder by tests/editorial/conftest.py.

``people`` makes the agents of a newsroom, committed (the ``db_session`` transaction still rolls them back):
two editors, two reviewers, an administrator and an officer without any editorial role.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from agents.models import Agent
from tests.agents.helpers import make_agent

_numbers = itertools.count(1)


@dataclass
class People:
    editor: Agent
    editor2: Agent
    reviewer: Agent
    reviewer2: Agent
    admin: Agent
    officer: Agent


@pytest.fixture
def ctx(app, db_session):
    """An application context around the test's session (audit entries, sealed columns)."""
    with app.app_context():
        yield db_session


def _agent(session, roles: tuple[str, ...]) -> Agent:
    number = next(_numbers)
    agent, _ = make_agent(session, email=f"redaction.flux{number}@interieur.gouv.fr", roles=roles,
                          unit_id=None if "officer" not in roles else "", display_name=f"Agent {number}")
    return agent


@pytest.fixture
def people(ctx) -> People:
    return People(
        editor=_agent(ctx, ("editor",)),
        editor2=_agent(ctx, ("editor",)),
        reviewer=_agent(ctx, ("reviewer",)),
        reviewer2=_agent(ctx, ("reviewer", "editor")),
        admin=_agent(ctx, ("admin",)),
        officer=_agent(ctx, ("officer",)),
    )
