"""What ``/healthz`` asks: the database, and whatever each part of the portal registers.

A feature registers its own check in its ``init_app`` (the search registers
its index), so that the ground floor never needs to know the features.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db

Check = Callable[[], bool]


def register(app: Flask, name: str, check: Check) -> None:
    """``check()`` returns whether ``name`` answers; it may also raise, which counts as not answering."""
    app.extensions.setdefault("health_checks", {})[name] = check


def _database() -> bool:
    try:
        db.session.execute(select(1))
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


def results() -> dict[str, str]:
    checks: dict[str, Check] = {"database": _database, **current_app.extensions.get("health_checks", {})}
    found = {}
    for name, check in checks.items():
        try:
            ok = check()
        except Exception:  # a part that fails its own check is unavailable, not an error page
            ok = False
        found[name] = "ok" if ok else "unavailable"
    return found
