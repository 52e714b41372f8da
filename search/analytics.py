"""Privacy-first search analytics (placeholder: being written)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the analytics' periodic tasks (roll-up, purge)."""
