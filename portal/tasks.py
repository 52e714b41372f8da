"""Periodic tasks that a feature registers and the worker runs (``flask search worker``).

Scheduled publications, the search analytics' daily roll-up and purges are not
the search index's business, but they need a process that wakes up regularly
on every host. Each feature registers its tasks from its ``init_app``; the
worker runs those that are due between two passes over the outbox. A task must
be safe to run on several hosts at once (claim rows with a conditional UPDATE,
or be idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    run: Callable[[Session], object]  # commits what it does
    every_seconds: float


def register_periodic(app: Flask, name: str, run: Callable[[Session], object], every_seconds: float) -> None:
    tasks: dict[str, PeriodicTask] = app.extensions.setdefault("periodic_tasks", {})
    tasks[name] = PeriodicTask(name, run, every_seconds)


def periodic_tasks(app: Flask) -> list[PeriodicTask]:
    return list(app.extensions.get("periodic_tasks", {}).values())
