"""The revision workflow (placeholder: being written)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def publish_due(session: Session) -> list:
    return []
