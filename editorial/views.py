"""The back office's pages, under /agents/contenus and /agents/recherche (placeholder: being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("editorial", __name__, url_prefix="/agents")
