"""The widgets' pages (/widgets/…) and their loader: helper B fills this in."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widgets", __name__)
