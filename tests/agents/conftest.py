"""Fixtures of the agents' tests; the citizens' Browser (local FranceConnect) comes from tests/accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maps.models import Station
from portal.extensions import db
from tests.accounts.conftest import browser  # noqa: F401  (a fixture: a citizen signed in with FranceConnect)
from tests.conftest import make_app

TEST_UNIT = "police-72181-test"


@pytest.fixture
def small_app(tmp_path):
    """A throwaway portal on an empty database holding one Le Mans police unit."""
    application = make_app(tmp_path)
    with application.app_context():
        db.session.add(Station(id=TEST_UNIT, kind="police", name="Commissariat de police du Mans (test)",
                               commune="Le Mans", code_insee="72181", department_code="72",
                               updated_at=datetime.now(UTC)))
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app, db_session):
    """An application context for service-level tests (sealed columns need the application's key)."""
    with app.app_context():
        yield db_session
