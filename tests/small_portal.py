"""A small portal for the tests that serve it under gunicorn (portal.benchserver.running_portal).

gunicorn runs the portal in other processes, which read their settings from
the environment: ``build`` prepares a SQLite database with the migrations, the
portal's own procedures (not the 4,819 fiches: a second, not a minute), a few
communes and units, the search rules and the search index, and returns that
environment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask_migrate import upgrade

from app import create_app
from catalogue.loader import load_content
from maps.models import Commune, Postcode, Station
from maps.places import normalize
from portal.config import ROOT
from portal.extensions import db
from search import services as search_services
from search.tuning import load_initial_rules

# (code INSEE, name, département, department name, population, latitude, longitude, postcodes)
COMMUNES = [
    ("72181", "Le Mans", "72", "Sarthe", 146249, 48.0073776, 0.1967540, ("72000", "72100")),
    ("01053", "Bourg-en-Bresse", "01", "Ain", 42372, 46.2049179, 5.2256999, ("01000",)),
    ("69123", "Lyon", "69", "Rhône", 519127, 45.7676905, 4.8353706, ("69001", "69002")),
    ("13055", "Marseille", "13", "Bouches-du-Rhône", 886040, 43.2975977, 5.3694272, ("13001",)),
    ("75056", "Paris", "75", "Paris", 2103778, 48.861297, 2.346718, ("75001",)),
    ("35238", "Rennes", "35", "Ille-et-Vilaine", 227830, 48.1113387, -1.6800198, ("35000",)),
]
# (id, kind, name, code INSEE, latitude, longitude)
STATIONS = [
    ("commissariat_police-72181-01", "police", "Commissariat de police du Mans", "72181", 47.996644, 0.207218),
    ("commissariat_police-01053-01", "police", "Commissariat de police de Bourg-en-Bresse", "01053",
     46.2067399, 5.2251315),
    ("gendarmerie-01053-01", "gendarmerie", "Brigade de gendarmerie - Bourg-en-Bresse", "01053",
     46.21251106, 5.23984677),
    ("commissariat_police-69123-01", "police", "Commissariat de police de Lyon", "69123", 45.7597, 4.8422),
    ("commissariat_police-13055-01", "police", "Commissariat de police de Marseille", "13055", 43.2965, 5.3698),
    ("gendarmerie-35238-01", "gendarmerie", "Brigade de gendarmerie de Rennes", "35238", 48.1147, -1.6794),
]


def build(tmp: Path) -> dict[str, str]:
    """Build the database and the index under ``tmp``; the environment a portal process needs to serve them."""
    env = {
        "PORTAL_ENV": "test",
        "SECRET_KEY": "test-secret-key-not-for-production-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}",
        "SEARCH_INDEX_DIR": str(tmp / "search-index"),
        "SEARCH_RATE_LIMIT": "100000 per minute",
        "FINDER_RATE_LIMIT": "100000 per minute",
        "API_RATE_LIMIT": "100000 per minute",
        "TRUSTED_PROXIES": "0",
    }
    application = create_app({
        "PORTAL_ENV": "test", "TESTING": True, "SECRET_KEY": env["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SEARCH_INDEX_DIR": env["SEARCH_INDEX_DIR"],
    })
    now = datetime.now(UTC)
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_content(db.session)
        for code, name, department, department_name, population, lat, lon, postcodes in COMMUNES:
            db.session.add(Commune(code_insee=code, name=name, search_name=normalize(name), kind="commune-actuelle",
                                   department_code=department, department_name=department_name, region_name="",
                                   population=population, latitude=lat, longitude=lon))
            db.session.add_all(Postcode(postcode=p, code_insee=code) for p in postcodes)
        communes = {c[0]: c for c in COMMUNES}
        for station_id, kind, name, code, lat, lon in STATIONS:
            commune = communes[code]
            db.session.add(Station(id=station_id, kind=kind, name=name, commune=commune[1], code_insee=code,
                                   postcode=commune[7][0], department_code=commune[2], latitude=lat, longitude=lon,
                                   updated_at=now))
        load_initial_rules(db.session)
        db.session.commit()
        search_services.ensure_index(db.session, search_services.engine())
        db.session.remove()
        db.engine.dispose()
    return env
