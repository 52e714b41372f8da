"""One index for many processes: 4 gunicorn workers serve the search, one ``flask search worker`` writes it.

The portal and the worker run as separate processes on the test session's
database and on an index directory of the test's own (a copy of the session's
index). A publication made as the back office makes it (``editorial.workflow``:
an editor drafts and submits, a reviewer approves; the view then commits) must
reach every gunicorn worker within 10 seconds, without a restart. The worker
killed with SIGKILL in the middle of a full rebuild leaves the old index
serving; ``flask search worker --once`` then catches up. What the test commits
is undone at its end, except the audit entries (append-only).
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
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, func, insert, select, update

from agents.models import Agent
from catalogue.models import LifeEventProcedure, Procedure, RelatedProcedure
from editorial import workflow
from editorial.models import Revision
from portal import outbox
from portal.benchserver import running_portal
from portal.config import ROOT
from portal.extensions import db
from search.models import SearchRule
from search.services import index_fingerprint
from tests.agents.helpers import make_agent
from tests.conftest import POSTGRES_SCHEMA

VISIBLE_WITHIN = 10.0
# Requests at once, each on a connection of its own: gunicorn's 4 processes share them.
PARALLEL = 16
EDITED = ("main-courante", "plainte-en-ligne")
EDITOR_EMAIL = "redaction.processus@interieur.gouv.fr"
REVIEWER_EMAIL = "relecture.processus@interieur.gouv.fr"


@dataclass(frozen=True)
class Newsroom:
    """The agents who publish, by id: each publication loads them in its own session."""

    editor: int
    reviewer: int


def _snapshot(session, slug: str) -> tuple[dict, list[dict], list[dict]]:
    """Every column of the entry's row, and its "see also" and situation links: what a publication rewrites."""
    table = Procedure.__table__
    row = dict(session.execute(select(table).where(table.c.slug == slug)).mappings().one())
    links = []
    for model in (RelatedProcedure, LifeEventProcedure):
        link_table = model.__table__
        links.append([dict(r) for r in session.execute(
            select(link_table).where(link_table.c.procedure_id == row["id"])).mappings()])
    return row, links[0], links[1]


def _restore(session, snapshot: tuple[dict, list[dict], list[dict]]) -> None:
    row, related, life_events = snapshot
    table = Procedure.__table__
    session.execute(update(table).where(table.c.id == row["id"]).values(**row))
    for model, rows in ((RelatedProcedure, related), (LifeEventProcedure, life_events)):
        link_table = model.__table__
        session.execute(delete(link_table).where(link_table.c.procedure_id == row["id"]))
        if rows:
            session.execute(insert(link_table), rows)


@pytest.fixture
def setup(app, local_fc, tmp_path):
    """The environment of the portal and the worker, and the agents who publish; everything the test
    commits undone after (the entries' content, revisions, rules, agents, outbox events)."""
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
           "SEARCH_RATE_LIMIT": "100000 per minute",
           "API_RATE_LIMIT": "100000 per minute"}
    with app.app_context():
        first_event = outbox.latest_id(db.session)
        first_revision = db.session.scalar(select(func.max(Revision.id))) or 0
        rules_before = set(db.session.scalars(select(SearchRule.key)))
        saved = [_snapshot(db.session, slug) for slug in EDITED]
        fingerprint = index_fingerprint(db.session)
        db.session.remove()
    try:
        with app.app_context():
            editor, _ = make_agent(db.session, email=EDITOR_EMAIL, roles=("editor",), unit_id=None,
                                   display_name="Rédactrice de test")
            reviewer, _ = make_agent(db.session, email=REVIEWER_EMAIL, roles=("reviewer",), unit_id=None,
                                     display_name="Relecteur de test")
            newsroom = Newsroom(editor=editor.id, reviewer=reviewer.id)
            db.session.remove()
        yield env, index, newsroom
    finally:
        with app.app_context():
            session = db.session
            session.rollback()
            for snapshot in saved:
                _restore(session, snapshot)
            new_rules = set(session.scalars(select(Revision.entity_key).where(
                Revision.id > first_revision, Revision.entity_type == "search_rule"))) - rules_before
            session.execute(delete(SearchRule).where(SearchRule.key.in_(new_rules)))
            session.execute(delete(Revision).where(Revision.id > first_revision))
            session.execute(delete(Agent).where(Agent.email.in_([EDITOR_EMAIL, REVIEWER_EMAIL])))
            session.execute(delete(outbox.OutboxEvent).where(outbox.OutboxEvent.id > first_event))
            session.commit()
            # What later tests read is the session's data again.
            for snapshot in saved:
                assert _snapshot(session, snapshot[0]["slug"]) == snapshot
            assert set(session.scalars(select(SearchRule.key))) == rules_before
            assert index_fingerprint(session) == fingerprint, "the session's index still matches the database"
            session.remove()


def flask_worker(env: dict, *args: str, **kwargs):
    command = [sys.executable, "-m", "flask", "--app", "app", "search", "worker", *args]
    return command, {"cwd": ROOT, "env": dict(os.environ, **env), **kwargs}


def publish(app, newsroom: Newsroom, name: str, key: str | None, data: dict) -> tuple[str, float]:
    """Publish through the back office's workflow: the editor opens a draft, saves the change and submits
    it, the reviewer approves it (published now); committed as the view commits. Returns the entity's key
    and when the publication was committed."""
    with app.app_context():
        session = db.session
        editor, reviewer = session.get(Agent, newsroom.editor), session.get(Agent, newsroom.reviewer)
        rev = workflow.start_edit(session, editor, name, key, None if key is not None else data)
        rev = workflow.save_draft(session, editor, rev.id, rev.lock_version, data, "Essai de publication")
        rev = workflow.submit(session, editor, rev.id, rev.lock_version)
        rev = workflow.approve(session, reviewer, rev.id, rev.lock_version)
        assert rev.state == "published"
        key = rev.entity_key
        session.commit()
        session.remove()
    return key, time.monotonic()


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
    env, index, newsroom = setup
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed at the end, after the processes
    command, options = flask_worker(env, "--interval", "0.2")
    worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **options)
    try:
        with running_portal("--workers", "4", **env) as base:
            assert found_nowhere(base, "zorglubienne", "main-courante")

            # An edit, then a new synonym, each published by a reviewer: seen by every process within 10 s.
            _, since = publish(app, newsroom, "procedure", "main-courante",
                               {"title": "Déposer une main courante zorglubienne"})
            edit_seconds = seconds_until_found(base, "zorglubienne", "main-courante", since)
            rule, since = publish(app, newsroom, "search_rule", None,
                                  {"kind": "synonym", "terms": ["zorglubiste", "cambriolage"], "slugs": [],
                                   "note": ""})
            assert rule == "synonym-zorglubiste"
            rule_seconds = seconds_until_found(base, "zorglubiste", "cambriolage", since)
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
            publish(app, newsroom, "procedure", "plainte-en-ligne",
                    {"title": "Porter plainte en ligne, version zorglubesque"})
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
