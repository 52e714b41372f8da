"""The public API /api/v1/: documented (OpenAPI 3.1), cached, rate-limited, CORS for registered mairies only."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Called by the factory: helper A fills this in."""
