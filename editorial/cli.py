"""``flask editorial ...`` (placeholder: being written)."""

from __future__ import annotations

from flask.cli import AppGroup

editorial_cli = AppGroup("editorial", help="Contenus : relecture et publications programmées.")
