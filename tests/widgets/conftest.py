"""Fixtures of the widgets' tests."""

import pytest

from tests.accounts.conftest import browser  # noqa: F401  (a fixture: a citizen signed in with FranceConnect)
from widgets import registry


@pytest.fixture
def fresh_registry(app):
    """This process's registry read again from the database before and after the test (it is cached 30 s)."""
    with app.app_context():
        registry.invalidate()
    yield
    with app.app_context():
        registry.invalidate()
