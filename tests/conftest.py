"""Shared fixtures: one application per test session on the real catalogue.

The database is SQLite (a file in a temporary directory) unless
``TEST_DATABASE_URL`` names a PostgreSQL database, as ``make test`` does for
its second run. The schema is created by the project's migrations, the
catalogue loaded from the real content files and service-public.fr fiches, the
search rules from their initial files, and the search index built from them, as
``make run`` does. Tests that write run in a transaction rolled back at the end
(``db_session``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

import local_franceconnect
from app import create_app
from catalogue.loader import import_fiches, load_content
from maps.loader import load_all as load_maps
from portal.benchserver import free_port
from portal.config import ROOT
from portal.extensions import db
from portal.security import limiter
from search import services as search_services
from search.tuning import load_initial_rules

POSTGRES_SCHEMA = "portal_test"
DATA_DIR = ROOT.parent / "shared" / "data"
# The full catalogue's index, kept between runs: ensure_index rebuilds it only
# when the catalogue, the boosts or the analysis changed, as in production, so
# the PostgreSQL run reuses what the SQLite run built from the same content.
SHARED_INDEX_DIR = ROOT / ".pytest_cache" / "search-index"


def _database_url(tmp: Path) -> tuple[str, dict]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'portal.db'}", {}
    # A schema of its own, recreated for each run, in the shared `test` database.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))
    engine.dispose()
    options = {
        "pool_pre_ping": True,
        "connect_args": {
            "connect_timeout": 3,
            "options": f"-c search_path={POSTGRES_SCHEMA} -c statement_timeout=10000",
        },
    }
    return url, options


class LiveServer:
    """A WSGI app served by Werkzeug in a thread, on loopback."""

    def __init__(self, application, port: int = 0) -> None:
        self.server = make_server("127.0.0.1", port, application, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


class RedisServer:
    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server (Debian package redis-server) is needed by these tests"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class LocalFranceConnect:
    """The local FranceConnect of the test session, and where the portal will answer."""

    server: LiveServer
    provider: local_franceconnect.Provider
    issuer: str
    portal_url: str


def start_local_fc(**config) -> LocalFranceConnect:
    """A local FranceConnect over real HTTP on a free port, with ``config`` on top of the test settings;
    the portal it serves is told to answer on another free port. Stop it with ``.server.stop()``."""
    port = free_port()
    portal_url = f"http://127.0.0.1:{free_port()}"
    issuer = f"http://127.0.0.1:{port}/api/v2"
    fc_app = local_franceconnect.create_app({"TESTING": True, "PORTAL_ENV": "test", "ISSUER": issuer,
                                            "PORTAL_PUBLIC_URL": portal_url, **config})
    return LocalFranceConnect(LiveServer(fc_app, port), fc_app.extensions["local_franceconnect"], issuer, portal_url)


@pytest.fixture(scope="session")
def local_fc():
    """The local FranceConnect over real HTTP, as the portal's client will reach the real one."""
    started = start_local_fc()
    yield started
    started.server.stop()


def make_config(tmp: Path, database: tuple[str, dict] | None = None, **overrides) -> dict:
    """Test settings; a throwaway SQLite file unless ``database`` says otherwise."""
    url, engine_options = database or (f"sqlite:///{tmp / 'portal.db'}", {})
    config = {
        "PORTAL_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options or {"pool_pre_ping": True},
        "SEARCH_INDEX_DIR": str(tmp / "search-index"),
        "PORTAL_DATA_DIR": str(DATA_DIR),
        "SEARCH_RATE_LIMIT": "10000 per minute",
        "FINDER_RATE_LIMIT": "10000 per minute",
        "API_RATE_LIMIT": "10000 per minute",
    }
    config.update(overrides)
    return config


def make_app(tmp: Path, **overrides):
    """A throwaway portal on an empty SQLite database with the schema (no catalogue, no index)."""
    application = create_app(make_config(tmp, **overrides))
    with application.app_context():
        db.create_all()
    return application


@pytest.fixture(scope="session")
def app(tmp_path_factory, local_fc):
    """The portal on the full real catalogue, built once per test session."""
    tmp = tmp_path_factory.mktemp("portal")
    application = create_app(make_config(
        tmp, database=_database_url(tmp), SEARCH_INDEX_DIR=str(SHARED_INDEX_DIR),
        FRANCECONNECT_ISSUER=local_fc.issuer, PUBLIC_URL=local_fc.portal_url,
    ))
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_content(db.session)
        import_fiches(db.session, DATA_DIR)
        load_maps(db.session, DATA_DIR)
        load_initial_rules(db.session)
        db.session.commit()
        search_services.ensure_index(db.session, search_services.engine())
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_portal(app, local_fc):
    """The portal over real HTTP, on the port the local FranceConnect was told it answers on."""
    server = LiveServer(app, int(local_fc.portal_url.rsplit(":", 1)[1]))
    yield server
    server.stop()


@pytest.fixture
def client(app):
    limiter.reset()
    return app.test_client()


class _ConnectionSession(FlaskSession):
    """Flask-SQLAlchemy's session, bound to the test's own connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return self.bind


@pytest.fixture
def db_session(app):
    """A session whose every change, commits included, is rolled back after the test.

    The test body and every request the test makes share it; no application
    context stays pushed, so each request still gets its own (and its own ``g``).
    """
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"bind": connection, "join_transaction_mode": "create_savepoint",
         "class_": _ConnectionSession, "scopefunc": lambda: "test"}
    )
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
