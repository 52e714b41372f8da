"""Agents: officers, editors, reviewers and administrators, who sign in at /agents apart from citizens."""

from __future__ import annotations

from flask import Flask

from agents import models  # noqa: F401  (the tables, for the metadata and migrations)


def init_app(app: Flask) -> None:
    """Registered by the factory; the agents' session and the guard of /agents/ come in here."""
