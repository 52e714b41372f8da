"""The builder page for mairies (/mairies): helper C fills this in."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mairies", __name__)
