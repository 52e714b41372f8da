"""The gazetteer and the station index built from the real open data the session loaded."""

from __future__ import annotations

import pytest

from maps import services
from portal.extensions import db


@pytest.fixture(scope="session")
def finder(app):
    with app.app_context():
        gazetteer, index = services.finder(db.session)
        db.session.remove()
    return gazetteer, index


@pytest.fixture(scope="session")
def gazetteer(finder):
    return finder[0]


@pytest.fixture(scope="session")
def index(finder):
    return finder[1]


@pytest.fixture
def live_finder(app, monkeypatch):
    """The finder rechecks the data at every request, and forgets what a test changed."""
    monkeypatch.setattr(services, "RECHECK_SECONDS", 0.0)
    yield
    app.extensions["maps"].clear()
