"""Fixtures of the back office's tests: ``ctx`` (an application context around ``db_session``) and ``people``
(agents by role, committed) for the workflow's service tests (tests/editorial/workflow_fixtures.py)."""

from __future__ import annotations

from tests.editorial.workflow_fixtures import ctx, people  # noqa: F401  (fixtures)
