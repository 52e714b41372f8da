"""``flask search worker``: one process per host that keeps the index in step and runs the periodic tasks.

Each pass applies the outbox to the index (search.indexer), then runs the
periodic tasks that are due (portal.tasks: scheduled publications, analytics
roll-ups, the outbox's purge), prunes replaced builds, and sleeps. SIGTERM or
SIGINT ends it cleanly: a rebuild in progress is abandoned (its directory is
deleted) and the live index stays as it was. A ``kill -9`` leaves the same:
the half-built directory is pruned later, and the next run starts over from the
watermark. Nothing personal is logged: counts, watermarks, task names, error types.
"""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from portal.extensions import db
from portal.tasks import periodic_tasks
from search.indexer import Indexer, PassReport, Stopped
from search.whoosh_engine import WhooshEngine

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1.0
PRUNE_SECONDS = 60.0
# After failures, wait longer each time (a database down), up to this.
MAX_BACKOFF_SECONDS = 60.0


class WorkerBusy(RuntimeError):
    """Another worker already holds this host's index."""


class Worker:
    def __init__(self, app: Flask, interval: float = DEFAULT_INTERVAL) -> None:
        self.app = app
        self.interval = interval
        self.engine: WhooshEngine = app.extensions["search"]
        self.indexer = Indexer(self.engine)
        self.stopping = threading.Event()
        self._last_run: dict[str, float] = {}
        self._last_prune = 0.0

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One worker per index directory: a second one would rebuild the same index twice over."""
        self.engine.root.mkdir(parents=True, exist_ok=True)
        with open(self.engine.root / ".worker.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise WorkerBusy(str(self.engine.root)) from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def stop(self, *_args) -> None:
        self.stopping.set()

    def index_pass(self) -> PassReport:
        """Apply the pending outbox events (the first pass of a run rebuilds if the index needs it)."""
        with self.app.app_context():
            try:
                return self.indexer.catch_up(db.session, self.stopping.is_set)
            finally:
                db.session.remove()

    def run_due_tasks(self, force: bool = False) -> list[str]:
        """Run the periodic tasks that are due (all of them with ``force``); returns the names run.

        A task that fails is logged by name and error type, and tried again at its next time.
        """
        ran = []
        for task in periodic_tasks(self.app):
            if self.stopping.is_set():
                break
            now = time.monotonic()
            last = self._last_run.get(task.name)
            if not force and last is not None and now - last < task.every_seconds:
                continue
            self._last_run[task.name] = now
            with self.app.app_context():
                try:
                    task.run(db.session)
                    ran.append(task.name)
                except Exception as exc:  # noqa: BLE001 - one task's failure must not stop the others
                    db.session.rollback()
                    log.error("periodic task %s failed: %s", task.name, type(exc).__name__)
                finally:
                    db.session.remove()
        return ran

    def prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune >= PRUNE_SECONDS:
            self._last_prune = now
            self.engine.prune()

    def run_once(self) -> PassReport:
        """One catch-up, every periodic task, one prune: ``flask search worker --once``."""
        report = self.index_pass()
        self.run_due_tasks(force=True)
        self.prune()
        return report

    def run_forever(self) -> None:
        """Until SIGTERM or SIGINT."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        failures = 0
        log.info("search worker started (interval %.1f s)", self.interval)
        try:
            while not self.stopping.is_set():
                try:
                    report = self.index_pass()
                    if report.changed:
                        log.info("search index: %d updated, %d removed, tuning %s, rebuilt %s, watermark %d",
                                 report.updated, report.removed, "rewritten" if report.tuning else "unchanged",
                                 report.rebuilt or "no", report.watermark)
                    self.run_due_tasks()
                    self.prune()
                    failures = 0
                except Stopped:
                    break
                except Exception as exc:  # noqa: BLE001 - a database down must not end the worker
                    failures += 1
                    log.error("search worker pass failed (%d in a row): %s", failures, type(exc).__name__)
                delay = min(self.interval * 2 ** failures, MAX_BACKOFF_SECONDS) if failures else self.interval
                self.stopping.wait(delay)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("search worker stopped")
