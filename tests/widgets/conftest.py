"""Fixtures of the widgets' tests."""

from tests.accounts.conftest import browser  # noqa: F401  (a fixture: a citizen signed in with FranceConnect)
