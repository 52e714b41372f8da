"""One index for many processes: 4 gunicorn workers serve the search, one ``flask search worker`` writes it.

The portal and the worker run as separate processes on the test session's
database and on an index directory of the test's own (a copy of the session's
index). A publication (the change and its outbox event in one transaction)
must reach every gunicorn worker within 10 seconds, without a restart. The
worker killed with SIGKILL in the middle of a full rebuild leaves the old
index serving; ``flask search worker --once`` then catches up. What the test
commits is undone at its end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, select

from catalogue.models import Procedure
from portal import outbox
from portal.benchserver import running_portal
from portal.config import ROOT
from portal.extensions import db
from search.models import SearchRule
from search.tuning import apply_rule
from tests.conftest import POSTGRES_SCHEMA

VISIBLE_WITHIN = 10.0
# Requests at once, each on a connection of its own: gunicorn's 4 processes share them.
PARALLEL = 16


@pytest.fixture
def setup(app, local_fc, tmp_path):
    """The environment of the portal and the worker; everything the test commits undone after."""
    shared = (Path(app.config["SEARCH_INDEX_DIR"]) / "current").resolve()
    index = tmp_path / "index"
    (index / "builds").mkdir(parents=True)
    shutil.copytree(shared, index / "builds" / shared.name)
    os.symlink(f"builds/{shared.name}", index / "current")
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("postgresql"):
        database += f"?options=-csearch_path%3D{POSTGRES_SCHEMA}"
    env = {"PORTAL_ENV": "test", "SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": database,
           "SEARCH_INDEX_DIR": str(index), "FRANCECONNECT_ISSUER": local_fc.issuer,
           "PUBLIC_URL": local_fc.portal_url, "TRUSTED_PROXIES": "1", "GUNICORN_THREADS": "4",
           "SEARCH_RATE_LIMIT": "100000 per minute"}
    with app.app_context():
        first_event = outbox.latest_id(db.session)
        saved = {p.slug: (p.title, p.content_hash, p.updated_at) for p in db.session.scalars(
            select(Procedure).where(Procedure.slug.in_(["main-courante", "plainte-en-ligne"])))}
        db.session.remove()
    yield env, index
    with app.app_context():
        for slug, (title, content_hash, updated_at) in saved.items():
            entry = db.session.scalars(select(Procedure).where(Procedure.slug == slug)).one()
            entry.title, entry.content_hash, entry.updated_at = title, content_hash, updated_at
        db.session.execute(delete(SearchRule).where(SearchRule.key == "synonym-test-processus"))
        db.session.execute(delete(outbox.OutboxEvent).where(outbox.OutboxEvent.id > first_event))
        db.session.commit()
        db.session.remove()


def flask_worker(env: dict, *args: str, **kwargs):
    command = [sys.executable, "-m", "flask", "--app", "app", "search", "worker", *args]
    return command, {"cwd": ROOT, "env": dict(os.environ, **env), **kwargs}


def publish_title(app, slug: str, title: str) -> float:
    """An editor's publication: the entry and its outbox event in one transaction; when it was committed."""
    with app.app_context():
        entry = db.session.scalars(select(Procedure).where(Procedure.slug == slug)).one()
        entry.title = title
        entry.content_hash = f"test-{title}"
        entry.updated_at = datetime.now(UTC)
        outbox.emit(db.session, outbox.ENTRY, slug)
        db.session.commit()
        db.session.remove()
    return time.monotonic()


def found_everywhere(base: str, query: str, slug: str) -> bool:
    """Whether every one of ``PARALLEL`` simultaneous searches finds ``slug``."""
    def one(_):
        answer = requests.get(f"{base}/api/v1/search", params={"q": query, "limit": 5}, timeout=10)
        assert answer.status_code == 200, answer.text
        return any(r["slug"] == slug for r in answer.json()["results"])

    with ThreadPoolExecutor(PARALLEL) as pool:
        return all(pool.map(one, range(PARALLEL)))


def found_nowhere(base: str, query: str, slug: str) -> bool:
    def one(_):
        answer = requests.get(f"{base}/api/v1/search", params={"q": query, "limit": 5}, timeout=10)
        return all(r["slug"] != slug for r in answer.json()["results"])

    with ThreadPoolExecutor(PARALLEL) as pool:
        return all(pool.map(one, range(PARALLEL)))


def seconds_until_found(base: str, query: str, slug: str, since: float) -> float:
    while not found_everywhere(base, query, slug):
        assert time.monotonic() - since < VISIBLE_WITHIN, f"{query!r} not found by every worker in {VISIBLE_WITHIN} s"
        time.sleep(0.1)
    return time.monotonic() - since


def test_a_publication_reaches_every_worker_and_a_killed_indexer_loses_nothing(app, setup, tmp_path):
    env, index = setup
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed at the end, after the processes
    command, options = flask_worker(env, "--interval", "0.2")
    worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **options)
    try:
        with running_portal("--workers", "4", **env) as base:
            assert found_nowhere(base, "zorglubienne", "main-courante")

            # An edit, then a synonym: each seen by every process within 10 s.
            since = publish_title(app, "main-courante", "Déposer une main courante zorglubienne")
            edit_seconds = seconds_until_found(base, "zorglubienne", "main-courante", since)
            with app.app_context():
                apply_rule(db.session, "synonym-test-processus",
                           {"kind": "synonym", "terms": ["zorglubiste", "cambriolage"], "note": ""})
                db.session.commit()
                db.session.remove()
            rule_seconds = seconds_until_found(base, "zorglubiste", "cambriolage", time.monotonic())
            print(f"\npublished → found by every worker: edit {edit_seconds:.2f} s, synonym {rule_seconds:.2f} s")

            # A full rebuild, killed as soon as its directory appears: the old index keeps serving.
            builds = index / "builds"
            before, serving = set(os.listdir(builds)), os.readlink(index / "current")
            with app.app_context():
                outbox.emit(db.session, outbox.REBUILD)
                db.session.commit()
                db.session.remove()
            deadline = time.monotonic() + 30
            while not set(os.listdir(builds)) - before:
                assert time.monotonic() < deadline, "the rebuild did not start"
                time.sleep(0.02)
            time.sleep(0.5)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            half_built = set(os.listdir(builds)) - before
            assert os.readlink(index / "current") == serving and half_built
            assert found_everywhere(base, "zorglubienne", "main-courante")

            # Published while no indexer runs: not found yet, found after one catch-up.
            publish_title(app, "plainte-en-ligne", "Porter plainte en ligne, version zorglubesque")
            assert found_nowhere(base, "zorglubesque", "plainte-en-ligne")
            command, options = flask_worker(env, "--once")
            caught_up = subprocess.run(command, capture_output=True, text=True, timeout=600, **options)
            assert caught_up.returncode == 0, caught_up.stderr[-3000:]
            assert "reconstruction complète (demandée)" in caught_up.stdout
            assert os.readlink(index / "current") != serving
            assert found_everywhere(base, "zorglubesque", "plainte-en-ligne")
            assert found_everywhere(base, "zorglubienne", "main-courante")
            assert found_everywhere(base, "zorglubiste", "cambriolage")
            # The half-built directory is recorded for pruning, like any build no longer current.
            assert half_built <= set(json.loads((index / "retired.json").read_text()))
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
    assert "zorglub" not in (tmp_path / "worker.log").read_text(), "nothing searched nor published is logged"
