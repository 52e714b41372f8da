"""Administrators register mairies and their sites' origins (/agents/mairies): helper C fills this in."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mairies_console", __name__, url_prefix="/agents")
