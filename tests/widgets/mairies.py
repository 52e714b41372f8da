"""Registering a mairie for a test, and removing it afterwards (the registry is cached per process)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import delete

from portal.extensions import db
from widgets import registry
from widgets.models import Mairie, MairieOrigin

# Laval, not Le Mans: the browser tests register Le Mans for their own host pages.
COMMUNE = "53130"
ORIGIN = "https://www.mairie-test.fr"
OTHER_COMMUNE = "49007"  # Angers
OTHER_ORIGIN = "https://www.angers-test.fr"


@contextmanager
def registered(app, *mairies: tuple[str, tuple[str, ...], bool]):
    """``(code_insee, origins, active)`` registered and committed for the block, deleted after it."""
    ids = []
    with app.app_context():
        now = datetime.now(UTC)
        for code, origins, active in mairies:
            mairie = Mairie(code_insee=code, name=f"Mairie {code}", contact="", active=active, created_at=now,
                            updated_at=now, origins=[MairieOrigin(origin=o) for o in origins])
            db.session.add(mairie)
            db.session.flush()
            ids.append(mairie.id)
        db.session.commit()
        registry.invalidate()
    try:
        yield
    finally:
        with app.app_context():
            db.session.execute(delete(MairieOrigin).where(MairieOrigin.mairie_id.in_(ids)))
            db.session.execute(delete(Mairie).where(Mairie.id.in_(ids)))
            db.session.commit()
            registry.invalidate()
