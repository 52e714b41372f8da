"""Complaints: orientation, plainte en ligne, visio-plainte, the officers' side of each, Mon espace's cases."""

from __future__ import annotations

from flask import Flask

from complaints import models  # noqa: F401  (the tables, for the metadata and migrations)


def init_app(app: Flask) -> None:
    """Registered by the factory."""
